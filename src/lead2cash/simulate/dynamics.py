"""Microsoft Dynamics 365 Sales (Dataverse) extracts: tables by logical name, as Synapse Link exports.

GUID keys, option-set integer codes, datetimes in UTC (`2024-03-05T14:22:31Z`), DateOnly
columns as `YYYY-MM-DD`. Stage history is the `audit` table (`changedata` JSON);
wins and losses are `opportunityclose` activities; there is no payment table, so payments
are the audited status changes of the `invoice`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model import SOURCE_SYSTEMS
from ..object_model import ObjectType, Qualifier
from ..sources.defaults import DEFAULTS
from .calendar import DAY, BusinessCalendar
from .ground_truth import (
    Documents,
    Events,
    StageRows,
    activity,
    order_terms,
    own,
    stage_activities,
)
from .history import History
from .params import SimulationParams
from .process import Chunk
from .text import concat, const, date_text, digits, money, take, time_text, uuids
from .world import REGIONS, World

__all__ = ["KEY", "crm", "master", "order_to_cash"]

KEY = "dynamics365"
SYSTEM = SOURCE_SYSTEMS[KEY]
CSV_QUOTING = "needed"
STAGES = DEFAULTS[KEY].stages
CODES = DEFAULTS[KEY].codes
ISO = "%Y-%m-%dT%H:%M:%SZ"
# GUID namespaces per table (the first 16 hex digits of every id).
_ACCOUNT, _USER, _PRODUCT, _OPP, _LEAD, _CLOSE, _AUDIT, _QUOTE, _LINE, _ORDER, _INVOICE = range(
    1, 12)
# The simulator's lead sources and payment terms as Dynamics option values.
_LEAD_CODE = {"Web": "8", "Phone Inquiry": "10", "Partner Referral": "4",
              "Purchased List": "1", "Trade Show": "7", "Other": "10"}
_TERMS_CODE = {label: code for code, label in CODES["paymenttermscode"].items()}


def _iso(utc: np.ndarray) -> pa.Array:
    return time_text(utc, ISO)


def _record(file: str, key: str, ids: pa.Array) -> pa.Array:
    return concat(f"{KEY}/{file}:{key}=", ids)


def _percent(half_pct: np.ndarray) -> pa.Array:
    """Decimal percent with two places (`12.50`)."""
    return money(np.asarray(half_pct) * 50)


def master_documents(p: SimulationParams, world: World) -> list[Documents]:
    """The accounts as Customer objects."""
    return [Documents(ObjectType.CUSTOMER, uuids(np.arange(len(world.customer_country)), _ACCOUNT))]


def master(p: SimulationParams, world: World) -> dict[str, pa.Table]:
    """account, systemuser and product (families are parent products)."""
    n, r, fams = len(world.customer_country), len(world.rep_region), list(p.product_families)
    f = np.arange(len(fams))
    return {
        "account.csv": pa.table({
            "accountid": uuids(np.arange(n), _ACCOUNT), "name": world.customer_name,
            "address1_country": world.country_values(p.country_name_share)}),
        "systemuser.csv": pa.table({
            "systemuserid": uuids(np.arange(r), _USER), "fullname": world.rep_name}),
        "product.csv": pa.table({
            "productid": uuids(np.r_[f, 100 + f], _PRODUCT),
            "name": fams + [f"{x} Bundle" for x in fams],
            "productnumber": [f"P-{i:04d}" for i in range(2 * len(fams))],
            "parentproductid": pa.concat_arrays([pa.nulls(len(fams), pa.string()),
                                                 uuids(f, _PRODUCT)])}),
    }


def _changes(*attrs: pa.Array) -> pa.Array:
    """Audit `changedata` JSON listing changed attributes."""
    parts: list[pa.Array | str] = [attrs[0]]
    for a in attrs[1:]:
        parts += [",", a]
    return concat('{"changedAttributes":[', *parts, "]}")


def _attr(name: str, old: pa.Array | str, new: pa.Array | str) -> pa.Array:
    """One changed attribute: `old` is a JSON literal (`null` or a quoted string)."""
    return concat('{"logicalName":"', name, '","oldValue":', old, ',"newValue":"', new, '"}')


def crm(p: SimulationParams, c: Chunk, cal: BusinessCalendar, world: World) -> tuple[
        dict[str, pa.Table], list[Events | Documents], dict[str, pa.Array], StageRows]:
    """lead, opportunity, opportunityclose, audit (stage history), quote, opportunityproduct."""
    n, cases = c.n, c.case_ids
    opp = uuids(cases, _OPP)
    codes = [s.code for s in STAGES]
    won_stage = np.array([s.won for s in STAGES])
    h = History.of(c, STAGES)
    first_row, prev, is_close, reopen = h.first_row, h.prev, h.is_close, h.reopen
    amount, current, last_time = h.amount, h.current, h.last_time  # current = salesstage
    final_closed, final_won = h.final_closed, h.final_won
    row_key = (c.case0 + c.h_case) * 64 + c.h_slot
    # closes: opportunityclose activities
    cl = np.flatnonzero(is_close)
    close_id = uuids(row_key[cl], _CLOSE)
    close_won = won_stage[c.h_stage[cl]]
    # everything else: audit rows on the opportunity
    au = np.flatnonzero(~is_close)
    audit_id = uuids(row_key[au], _AUDIT)
    stage_code = take(codes, c.h_stage[au])
    prev_code = concat('"', take(codes, prev[au]), '"')
    same = (c.h_stage[au] == prev[au]) & ~first_row[au]
    prev_amount = np.r_[0, c.h_amount[:-1]][au]
    change = pa.array(np.select(
        [first_row[au], reopen[au], same], ["create", "reopen", "amount"], "stage"))
    lost_status = np.where(won_stage[prev[au]], "3", "5")
    old_state = take(["0", "2", "1"], np.where(won_stage[prev[au]], 2, 1))
    changedata = _pick(change, {
        "create": _changes(_attr("salesstage", "null", stage_code)),
        "stage": _changes(_attr("salesstage", prev_code, stage_code)),
        "amount": _changes(_attr(
            "estimatedvalue", concat('"', money(prev_amount), '"'), money(c.h_amount[au]))),
        "reopen": _changes(_attr("statecode", concat('"', old_state, '"'), "0"),
                           _attr("statuscode", concat('"', pa.array(lost_status), '"'), "1")),
    })
    action = pa.array(np.where(first_row[au], "1", "2"))
    q_id = uuids((c.case0 + c.q_case) * 8 + c.q_no, _QUOTE)
    newest = np.r_[c.q_case[1:] != c.q_case[:-1], True] if len(c.q_case) else np.zeros(0, bool)
    accepted = c.q_accepted >= 0
    q_state = np.select([accepted, ~newest | c.q_closed], ["2", "3"], "1")
    q_status = np.select([accepted, ~newest, c.q_closed], ["4", "7", "5"], "3")
    q_amount = c.amount[c.q_case]
    lead_code = np.array([_LEAD_CODE[k] for k in p.lead_sources])
    lead_label = [CODES["leadsourcecode"][x] for x in lead_code]
    tables = {
        "lead.csv": pa.table({
            "leadid": uuids(cases, _LEAD), "subject": concat("Lead ", opp),
            "leadsourcecode": pa.array(lead_code[c.lead_source], mask=c.missing_lead_source),
            "statecode": const("1", n), "qualifyingopportunityid": opp,
            "createdon": _iso(c.created - DAY)}),
        "opportunity.csv": pa.table({
            "opportunityid": opp, "name": concat("Deal ", pa.array(cases).cast(pa.string())),
            "customerid": uuids(c.customer, _ACCOUNT), "ownerid": uuids(c.owner, _USER),
            "originatingleadid": uuids(cases, _LEAD),
            "statecode": pa.array(np.where(final_closed, np.where(final_won, "1", "2"), "0")),
            "statuscode": pa.array(np.where(final_closed, np.where(final_won, "3", "5"), "1")),
            "salesstage": take(codes, current),
            "stepname": concat(pa.array(current + 1).cast(pa.string()), "-",
                               take([s.name for s in STAGES], current)),
            "estimatedvalue": money(amount),
            "actualvalue": pa.array(money(amount).to_numpy(zero_copy_only=False),
                                    mask=~(final_closed & final_won)),
            "actualclosedate": pa.array(date_text(cal.local_day(last_time)).to_numpy(
                zero_copy_only=False), mask=~final_closed),
            "discountpercentage": _percent(c.discount_half_pct),
            "createdon": _iso(c.created), "modifiedon": _iso(last_time)}),
        "opportunityclose.csv": pa.table({
            "activityid": close_id, "opportunityid": opp.take(pa.array(c.h_case[cl])),
            "subject": const("Opportunity Close", len(cl)),
            "opportunitystatecode": pa.array(np.where(close_won, "1", "2")),
            "opportunitystatuscode": pa.array(np.where(close_won, "3", "5")),
            "actualrevenue": money(np.where(close_won, c.h_amount[cl], 0)),
            "actualend": date_text(cal.local_day(c.h_time[cl])),
            "statecode": const("1", len(cl)), "statuscode": const("2", len(cl)),
            "createdon": _iso(c.h_time[cl])}),
        "audit.csv": pa.table({
            "auditid": audit_id, "objectid": opp.take(pa.array(c.h_case[au])),
            "objecttypecode": const("opportunity", len(au)), "action": action,
            "operation": action, "createdon": _iso(c.h_time[au]),
            "userid": uuids(c.owner[c.h_case[au]], _USER), "attributemask": const("", len(au)),
            "changedata": changedata}),
        "quote.csv": pa.table({
            "quoteid": q_id, "quotenumber": concat("QUO-", digits(c.case0 + c.q_case, 8)),
            "revisionnumber": pa.array(c.q_no).cast(pa.string()),
            "opportunityid": opp.take(pa.array(c.q_case)),
            "customerid": uuids(c.customer[c.q_case], _ACCOUNT),
            "statecode": pa.array(q_state), "statuscode": pa.array(q_status),
            "totalamount": money(q_amount - q_amount * c.q_discount_half_pct // 200),
            "discountpercentage": _percent(c.q_discount_half_pct),
            "createdon": _iso(c.q_time),
            "closedon": pa.array(_iso(np.maximum(c.q_accepted, 0)).to_numpy(
                zero_copy_only=False), mask=~accepted)}),
        "opportunityproduct.csv": pa.table({
            "opportunityproductid": uuids(cases, _LINE), "opportunityid": opp,
            "productid": uuids(100 + c.family, _PRODUCT), "quantity": const("1", n),
            "priceperunit": money(amount), "extendedamount": money(amount)}),
    }
    acts = stage_activities(c.h_case, c.h_stage, STAGES)
    ev = acts >= 0
    names = take([s.name for s in STAGES], c.h_stage)
    ev_close, ev_audit = ev[cl], ev[au]
    events: list[Events | Documents] = [
        Documents(ObjectType.CUSTOMER, uuids(c.customer, _ACCOUNT), ((Qualifier.CUSTOMER_OF, opp),)),
        Documents(ObjectType.QUOTE, q_id, ((Qualifier.QUOTE_OF, opp.take(pa.array(c.q_case))),)),
        Events(SYSTEM, np.arange(n), np.full(n, activity("Opportunity Created")), c.created,
               _record("opportunity.csv", "opportunityid", opp)),
        Events(SYSTEM, c.h_case[au][ev_audit], acts[au][ev_audit], c.h_time[au][ev_audit],
               _record("audit.csv", "auditid", audit_id.filter(pa.array(ev_audit))),
               names.take(pa.array(au[ev_audit]))),
        Events(SYSTEM, c.h_case[cl][ev_close], acts[cl][ev_close], c.h_time[cl][ev_close],
               _record("opportunityclose.csv", "activityid", close_id.filter(pa.array(ev_close))),
               names.take(pa.array(cl[ev_close]))),
        Events(SYSTEM, c.q_case, np.full(len(c.q_case), activity("Quote Issued")), c.q_time,
               _record("quote.csv", "quoteid", q_id), objects=own("Quote Issued", q_id)),
        Events(SYSTEM, c.q_case[accepted], np.full(accepted.sum(), activity("Quote Accepted")),
               c.q_accepted[accepted],
               _record("quote.csv", "quoteid", q_id.filter(pa.array(accepted))),
               objects=own("Quote Accepted", q_id.filter(pa.array(accepted)))),
    ]
    attrs = {
        "SalesOpportunityId": opp,
        "OpportunityAmount": pa.array(amount / 100),
        "CustomerName": world.customer_name.take(pa.array(c.customer)),
        "DiscountPercentage": pa.array(c.discount_half_pct / 200),
        "OpportunityOwner": world.rep_name.take(pa.array(c.owner)),
        "SalesRegion": take(REGIONS, c.region),  # account.address1_country via REGION_BY_COUNTRY
        "OpportunityOutcome": pa.array(np.where(final_won, "Won", "Lost"), mask=~final_closed),
        "LeadSource": pa.array(lead_label).take(pa.array(c.lead_source,
                                                         mask=c.missing_lead_source)),
        "ProductCategory": take(list(p.product_families), c.family),
    }
    return tables, events, attrs, StageRows(c.h_case, c.h_time, names)


def _pick(kind: pa.Array, options: dict[str, pa.Array]) -> pa.Array:
    """Per row, the value of the option its kind names."""
    out = pa.nulls(len(kind), pa.string())
    for name, values in options.items():
        out = pc.if_else(pc.equal(kind, name), values, out)
    return out


def order_to_cash(p: SimulationParams, c: Chunk, cal: BusinessCalendar, opp_ids: pa.Array
                  ) -> tuple[dict[str, pa.Table], list[Events | Documents], dict[str, pa.Array]]:
    """salesorder, invoice, and the audit rows that mark invoices (partly) paid."""
    no, gcase = len(c.o_case), c.case0 + c.o_case
    order_id = uuids(gcase, _ORDER)
    delivered = np.bincount(c.d_order, minlength=no)
    shipped = np.zeros(no, np.int64)
    np.maximum.at(shipped, c.d_order, c.d_time)
    fulfilled_day = cal.local_day(shipped)
    has = delivered > 0
    complete = delivered == c.o_deliveries
    terms = take([_TERMS_CODE[t.name] for t in p.payment_terms], c.terms[c.o_case])
    inv_key = gcase[c.i_order] * 8 + c.i_no * 2
    cut = c.i_cancelled_time >= 0
    sel = np.r_[np.arange(len(c.i_order)), np.flatnonzero(cut)]
    valid = np.r_[np.ones(len(c.i_order), bool), np.zeros(cut.sum(), bool)]
    inv_id = uuids(inv_key, _INVOICE)
    all_inv = pa.concat_arrays([inv_id, uuids(inv_key[cut] + 1, _INVOICE)])
    paid = np.bincount(c.p_invoice, c.p_amount, len(c.i_order)).astype(np.int64)
    last_pay = np.zeros(len(c.i_order), np.int64)
    np.maximum.at(last_pay, c.p_invoice, c.p_day)
    inv_state = np.select([paid >= c.i_amount, paid > 0], ["2", "2"], "0")
    inv_status = np.select([paid >= c.i_amount, paid > 0], ["100001", "100002"], "1")
    created = np.r_[c.i_time, c.i_cancelled_time[cut]]
    modified = np.r_[np.where(paid > 0, last_pay * DAY + 8 * 3600, c.i_time),
                     c.i_time[cut] - 600]
    pay_time = c.p_day * DAY + 8 * 3600  # audited when finance books it, 08:00 UTC
    pay_audit = uuids(inv_key[c.p_invoice] * 2 + c.p_no, _AUDIT + 100)
    settles = c.p_settles
    new_status = pa.array(np.where(settles, "100001", "100002"))
    old_status = take(['"1"', '"100002"'], c.p_no)
    old_state = take(['"0"', '"2"'], c.p_no)
    # a bounced receipt: the invoice set Paid, then back to Active (both audited)
    b_inv = c.p_invoice[c.b_payment]
    b_key = inv_key[b_inv] * 2 + 3
    b_status = pa.array(np.where(c.p_settles[c.b_payment], "100001", "100002"))
    audit_id = pa.concat_arrays([pay_audit, uuids(b_key, _AUDIT + 100),
                                 uuids(b_key, _AUDIT + 101)])
    audit_inv = np.r_[c.p_invoice, b_inv, b_inv]
    audit_time = np.r_[pay_time, c.b_day * DAY + 8 * 3600, c.b_reversed_day * DAY + 8 * 3600]
    changedata = pa.concat_arrays([
        _changes(_attr("statecode", old_state, "2"), _attr("statuscode", old_status, new_status)),
        _changes(_attr("statecode", '"0"', "2"), _attr("statuscode", '"1"', b_status)),
        _changes(_attr("statecode", '"2"', "0"),
                 _attr("statuscode", concat('"', b_status, '"'), "1"))])
    invoiced = np.bincount(c.i_order, minlength=no) > 0
    moved = invoiced & p.status_after_shipping  # shipped and invoiced: 4 Invoiced
    tables = {
        "salesorder.csv": pa.table({
            "salesorderid": order_id, "ordernumber": concat("ORD-", digits(gcase, 8)),
            "opportunityid": opp_ids.take(pa.array(c.o_case)),
            "customerid": uuids(c.customer[c.o_case], _ACCOUNT),
            "statecode": pa.array(np.select([moved, has], ["4", "3"], "0")),
            "statuscode": pa.array(np.select([moved, complete, has],
                                             ["100003", "100001", "100002"], "1")),
            "submitdate": date_text(cal.local_day(c.o_time)),
            "datefulfilled": pa.array(date_text(fulfilled_day).to_numpy(zero_copy_only=False),
                                      mask=~has),
            "totalamount": money(c.amount[c.o_case]), "paymenttermscode": terms,
            "createdon": _iso(c.o_time)}),
        "invoice.csv": pa.table({
            "invoiceid": all_inv,
            "invoicenumber": concat("INV-", digits(np.r_[inv_key, inv_key[cut] + 1], 10)),
            "salesorderid": order_id.take(pa.array(c.i_order[sel])),
            "opportunityid": opp_ids.take(pa.array(c.o_case[c.i_order[sel]])),
            "customerid": uuids(c.customer[c.o_case[c.i_order[sel]]], _ACCOUNT),
            "statecode": pa.array(np.where(valid, inv_state[sel], "3")),
            "statuscode": pa.array(np.where(valid, inv_status[sel], "100003")),
            "duedate": date_text(c.i_due_day[sel]), "totalamount": money(c.i_amount[sel]),
            "paymenttermscode": terms.take(pa.array(c.i_order[sel])),
            "createdon": _iso(created), "modifiedon": _iso(modified)}),
        "audit.csv": pa.table({
            "auditid": audit_id, "objectid": inv_id.take(pa.array(audit_inv)),
            "objecttypecode": const("invoice", len(audit_inv)),
            "action": const("2", len(audit_inv)), "operation": const("2", len(audit_inv)),
            "createdon": _iso(audit_time),
            "userid": uuids(np.zeros(len(audit_inv), np.int64), _USER),
            "attributemask": const("", len(audit_inv)), "changedata": changedata}),
    }
    o_cases = c.o_case[has]
    i_order_id = order_id.take(pa.array(c.i_order))
    events: list[Events | Documents] = [
        Documents(ObjectType.SALES_ORDER, order_id,
                  ((Qualifier.ORDER_OF, opp_ids.take(pa.array(c.o_case))),)),
        Documents(ObjectType.INVOICE, all_inv,
                  ((Qualifier.INVOICE_OF, order_id.take(pa.array(c.i_order[sel]))),)),
        Events(SYSTEM, c.o_case, np.full(no, activity("Sales Order Created")), c.o_time,
               _record("salesorder.csv", "salesorderid", order_id),
               objects=own("Sales Order Created", order_id)),
        Events(SYSTEM, o_cases, np.full(len(o_cases), activity("Order Fulfilled")),
               fulfilled_day[has] * DAY,
               _record("salesorder.csv", "salesorderid", order_id.filter(pa.array(has))),
               objects=own("Order Fulfilled", order_id.filter(pa.array(has)))),
        Events(SYSTEM, c.o_case[c.i_order], np.full(len(c.i_order),
                                                    activity("Invoice Generated")),
               c.i_time, _record("invoice.csv", "invoiceid", inv_id),
               objects=own("Invoice Generated", inv_id, i_order_id)),
        # Dynamics keeps no payment record: a payment is the invoice's audited Paid state
        Events(SYSTEM, c.o_case[c.i_order[c.p_invoice]],
               np.full(len(c.p_day), activity("Payment Received")), pay_time,
               _record("audit.csv", "auditid", pay_audit),
               objects=((ObjectType.INVOICE.value, inv_id.take(pa.array(c.p_invoice)),
                         Qualifier.CLEARS.value),)),
    ]
    return tables, events, order_terms([t.name for t in p.payment_terms], c)
