"""Salesforce Sales Cloud (+ Salesforce Billing) extracts: objects as the REST/Bulk API gives them.

Datetimes are ISO UTC with milliseconds (`2024-03-05T14:22:31.000+0000`), dates plain
`YYYY-MM-DD`, ids 18 characters with their object key prefix, booleans `true`/`false`.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyarrow as pa

from ..model import SOURCE_SYSTEMS
from ..sources.defaults import DEFAULTS
from .calendar import DAY, BusinessCalendar
from ..object_model import ObjectType, Qualifier
from .ground_truth import Documents, Events, StageRows, activity, order_terms, own, stage_activities
from .history import History
from .params import SimulationParams
from .process import Chunk
from .text import concat, const, date_text, digits, money, sf_ids, short_ids, take, time_text
from .world import REGIONS, World

__all__ = ["KEY", "crm", "master", "order_to_cash"]

KEY = "salesforce"
SYSTEM = SOURCE_SYSTEMS[KEY]
CSV_QUOTING = "needed"
STAGES = DEFAULTS[KEY].stages
ISO = "%Y-%m-%dT%H:%M:%S.000+0000"
_TF = pa.array(["false", "true"])
_CURRENCY = "USD"
_USER_ID = sf_ids("005", np.array([0]))[0].as_py()


def _iso(utc: np.ndarray) -> pa.Array:
    return time_text(utc, ISO)


def _flag(values: np.ndarray) -> pa.Array:
    return _TF.take(pa.array(np.asarray(values, np.int64)))



def _record(file: str, ids: pa.Array) -> pa.Array:
    return concat(f"{KEY}/{file}:Id=", ids)


def opportunity_ids(case_ids: np.ndarray) -> pa.Array:
    """The case ids: 18-character Opportunity ids."""
    return sf_ids("006", case_ids)


def master(p: SimulationParams, world: World) -> dict[str, pa.Table]:
    """Master data: OpportunityStage, User, Account, Product2."""
    st = STAGES
    n_acc, n_rep = len(world.customer_country), len(world.rep_region)
    families = list(p.product_families)
    return {
        "OpportunityStage.csv": pa.table({
            "Id": sf_ids("01J", np.arange(len(st))),
            "ApiName": [s.name for s in st], "MasterLabel": [s.name for s in st],
            "IsActive": ["true"] * len(st),
            "IsClosed": [str(s.closed).lower() for s in st],
            "IsWon": [str(s.won).lower() for s in st],
            "DefaultProbability": [str(s.probability) for s in st],
            "ForecastCategoryName": [s.forecast for s in st],
            "SortOrder": [s.code for s in st]}),
        "User.csv": pa.table({
            "Id": sf_ids("005", np.arange(n_rep)), "Name": world.rep_name,
            "Department": const("Sales", n_rep),
            "Division": take(REGIONS, world.rep_region), "IsActive": const("true", n_rep)}),
        "Account.csv": pa.table({
            "Id": sf_ids("001", np.arange(n_acc)), "Name": world.customer_name,
            "Type": const("Customer", n_acc),
            "BillingCountry": world.country_values(p.country_name_share),
            "OwnerId": const(_USER_ID, n_acc)}),
        "Product2.csv": pa.table({
            "Id": sf_ids("01t", np.arange(len(families))),
            "Name": [f"{f} Bundle" for f in families],
            "ProductCode": [f"P-{i:04d}" for i in range(len(families))],
            "Family": families, "IsActive": ["true"] * len(families)}),
    }


def master_documents(p: SimulationParams, world: World) -> list[Documents]:
    """The customers of `Account.csv` as objects."""
    return [Documents(ObjectType.CUSTOMER, sf_ids("001", np.arange(len(world.customer_country))))]


def crm(p: SimulationParams, c: Chunk, cal: BusinessCalendar, world: World) -> tuple[
        dict[str, pa.Table], list[Events | Documents], dict[str, pa.Array], StageRows]:
    """Opportunity, OpportunityHistory, Quote, Contract, OpportunityLineItem; events; attributes."""
    n, cases = c.n, c.case_ids
    opp = opportunity_ids(cases)
    short = partial(short_ids, share=p.short_id_share)
    names = [s.name for s in STAGES]
    h = History.of(c, STAGES)
    amount, closed, won, last_time = h.amount, h.final_closed, h.final_won, h.last_time
    close_day = cal.local_day(np.where(closed, last_time, c.created + 45 * DAY))
    # quotes: ids per case and revision; the synced quote is the newest one
    q_id = sf_ids("0Q0", (c.case0 + c.q_case) * 8 + c.q_no)
    newest = np.r_[c.q_case[1:] != c.q_case[:-1], True] if len(c.q_case) else np.zeros(0, bool)
    synced = pa.nulls(n, pa.string())
    disc = np.full(n, -1, np.int64)
    if newest.any():
        pos = np.full(n, -1, np.int64)
        pos[c.q_case[newest]] = np.flatnonzero(newest)
        synced = q_id.take(pa.array(pos, mask=pos < 0))
        disc[c.q_case[newest]] = c.q_discount_half_pct[newest]
    status = np.where(c.q_accepted >= 0, "Accepted",
                      np.where(c.q_closed | ~newest, "Denied", "Presented"))
    q_modified = np.where(c.q_accepted >= 0, c.q_accepted, c.q_time)
    q_amount = c.amount[c.q_case]
    q_total = q_amount - q_amount * c.q_discount_half_pct // 200
    contract_id = sf_ids("800", c.case0 + c.c_case)
    opp_contract = np.full(n, -1, np.int64)
    opp_contract[c.c_case] = np.arange(len(c.c_case))
    hist_id = sf_ids("008", (c.case0 + c.h_case) * 64 + c.h_slot)
    prob = np.array([s.probability for s in STAGES])
    stage_name = take(names, c.h_stage)
    tables = {
        "Opportunity.csv": pa.table({
            "Id": opp, "Name": concat("Deal ", pa.array(cases).cast(pa.string())),
            "AccountId": sf_ids("001", c.customer), "OwnerId": sf_ids("005", c.owner),
            "StageName": take(names, c.final_stage), "IsClosed": _flag(closed),
            "IsWon": _flag(won), "CloseDate": date_text(close_day), "Amount": money(amount),
            "Probability": pa.array(prob[c.final_stage]).cast(pa.string()),
            "LeadSource": pa.array(list(p.lead_sources)).take(
                pa.array(c.lead_source, mask=c.missing_lead_source)),
            "Type": pa.array(list(p.opportunity_types)).take(
                pa.array(c.opp_type, mask=c.missing_type)),
            "CreatedDate": _iso(c.created), "ContractId": contract_id.take(
                pa.array(opp_contract, mask=opp_contract < 0)),
            "SyncedQuoteId": synced, "CurrencyIsoCode": const(_CURRENCY, n)}),
        "OpportunityHistory.csv": pa.table({
            "Id": hist_id, "OpportunityId": short(opp.take(pa.array(c.h_case))),
            "StageName": stage_name, "Amount": money(c.h_amount),
            "CloseDate": date_text(close_day[c.h_case]),
            "Probability": pa.array(prob[c.h_stage]).cast(pa.string()),
            "ForecastCategory": take([s.forecast for s in STAGES], c.h_stage),
            "CreatedDate": _iso(c.h_time), "CreatedById": sf_ids("005", c.owner[c.h_case]),
            "IsDeleted": const("false", len(c.h_case))}),
        "OpportunityLineItem.csv": pa.table({
            "Id": sf_ids("00k", cases), "OpportunityId": opp,
            "Product2Id": sf_ids("01t", c.family), "Quantity": const("1", n),
            "UnitPrice": money(amount), "TotalPrice": money(amount),
            "CreatedDate": _iso(c.created)}),
        "Quote.csv": pa.table({
            "Id": q_id, "QuoteNumber": digits(((c.case0 + c.q_case) * 8 + c.q_no), 8),
            "Name": concat("Quote rev. ", pa.array(c.q_no + 1).cast(pa.string())),
            "OpportunityId": short(opp.take(pa.array(c.q_case))),
            "AccountId": sf_ids("001", c.customer[c.q_case]), "Status": pa.array(status),
            "Discount": _percent(c.q_discount_half_pct), "Subtotal": money(q_amount),
            "TotalPrice": money(q_total), "GrandTotal": money(q_total),
            "ExpirationDate": date_text(cal.local_day(c.q_time) + 30),
            "IsSyncing": _flag(newest), "CreatedDate": _iso(c.q_time),
            "LastModifiedDate": _iso(q_modified)}),
        "Contract.csv": pa.table({
            "Id": contract_id, "ContractNumber": digits(c.case0 + c.c_case, 8),
            "AccountId": sf_ids("001", c.customer[c.c_case]),
            "Status": const("Activated", len(c.c_case)),
            "StatusCode": const("Activated", len(c.c_case)),
            "ActivatedDate": _iso(c.c_time),
            "CustomerSignedDate": date_text(cal.local_day(c.c_time)),
            "StartDate": date_text(cal.local_day(c.c_time) + 1),
            "ContractTerm": const("12", len(c.c_case)), "CreatedDate": _iso(c.c_time - 86_400)}),
    }
    acts = stage_activities(c.h_case, c.h_stage, STAGES)
    ev = acts >= 0
    accepted = c.q_accepted >= 0
    acc_ids = sf_ids("001", c.customer)
    events: list[Events | Documents] = [
        Documents(ObjectType.CUSTOMER, acc_ids, ((Qualifier.CUSTOMER_OF, opp),)),
        Documents(ObjectType.QUOTE, q_id, ((Qualifier.QUOTE_OF, opp.take(pa.array(c.q_case))),)),
        Documents(ObjectType.CONTRACT, contract_id,
                  ((Qualifier.CONTRACT_OF, opp.take(pa.array(c.c_case))),)),
        Events(SYSTEM, np.arange(n), np.full(n, activity("Opportunity Created")), c.created,
               _record("Opportunity.csv", opp)),
        Events(SYSTEM, c.h_case[ev], acts[ev], c.h_time[ev],
               _record("OpportunityHistory.csv", hist_id.filter(pa.array(ev))),
               stage_name.filter(pa.array(ev))),
        Events(SYSTEM, c.q_case, np.full(len(c.q_case), activity("Quote Issued")), c.q_time,
               _record("Quote.csv", q_id), objects=own("Quote Issued", q_id)),
        Events(SYSTEM, c.q_case[accepted], np.full(accepted.sum(), activity("Quote Accepted")),
               c.q_accepted[accepted], _record("Quote.csv", q_id.filter(pa.array(accepted))),
               objects=own("Quote Accepted", q_id.filter(pa.array(accepted)))),
        Events(SYSTEM, c.c_case, np.full(len(c.c_case), activity("Contract Signed")), c.c_time,
               _record("Contract.csv", contract_id), objects=own("Contract Signed", contract_id)),
    ]

    attrs = {
        "SalesOpportunityId": opp,
        "OpportunityAmount": pa.array(amount / 100),
        "DiscountPercentage": pa.array(disc / 200, mask=disc < 0),
        "CustomerName": world.customer_name.take(pa.array(c.customer)),
        "OpportunityOwner": world.rep_name.take(pa.array(c.owner)),
        "SalesRegion": take(REGIONS, c.region),  # Account.BillingCountry via REGION_BY_COUNTRY
        "OpportunityOutcome": pa.array(np.where(won, "Won", "Lost"), mask=~closed),
        "LeadSource": tables["Opportunity.csv"]["LeadSource"].combine_chunks(),
        "ProductCategory": take(list(p.product_families), c.family),
        "OpportunityType": tables["Opportunity.csv"]["Type"].combine_chunks(),
    }
    return tables, events, attrs, StageRows(c.h_case, c.h_time, stage_name)


def _percent(half_pct: np.ndarray) -> pa.Array:
    """Salesforce percent fields: `12.5`, `10.0`."""
    return concat(pa.array(half_pct // 2).cast(pa.string()), ".", take(["0", "5"], half_pct % 2))


def order_to_cash(p: SimulationParams, c: Chunk, cal: BusinessCalendar, opp_ids: pa.Array
                  ) -> tuple[dict[str, pa.Table], list[Events | Documents], dict[str, pa.Array]]:
    """Order, OrderHistory (Status → Fulfilled), blng__Invoice__c and blng__Payment__c."""
    no, gcase = len(c.o_case), c.case0 + c.o_case
    order_id = sf_ids("801", gcase)
    short = partial(short_ids, share=p.short_id_share)
    delivered = np.bincount(c.d_order, minlength=no)
    fulfilled = delivered == c.o_deliveries
    done = np.zeros(no, np.int64)
    np.maximum.at(done, c.d_order, c.d_time)
    f_idx = np.flatnonzero(fulfilled)
    hist_id = sf_ids("017", gcase[f_idx])
    term_names = take([t.name for t in p.payment_terms], c.terms[c.o_case])
    inv_key = gcase[c.i_order] * 8 + c.i_no * 2
    cut = c.i_cancelled_time >= 0
    inv_id = sf_ids("a1B", inv_key)
    paid_cents = np.bincount(c.p_invoice, c.p_amount, len(c.i_order)).astype(np.int64)
    balance = c.i_amount - paid_cents
    pay_status = np.where(balance == 0, "Paid", np.where(paid_cents > 0, "Partially Paid",
                                                         "Unpaid"))
    sel = np.r_[np.arange(len(c.i_order)), np.flatnonzero(cut)]
    valid = np.r_[np.ones(len(c.i_order), bool), np.zeros(cut.sum(), bool)]
    created = np.r_[c.i_time, c.i_cancelled_time[cut]]
    all_inv = pa.concat_arrays([inv_id, sf_ids("a1B", inv_key[cut] + 1)])
    pay_id = sf_ids("a1C", inv_key[c.p_invoice] * 2 + c.p_no)
    # bounced receipts: a Canceled payment each (keys inv_key * 2 + 3 are free)
    b_inv = c.p_invoice[c.b_payment]
    pay_key = np.r_[inv_key[c.p_invoice] * 2 + c.p_no, inv_key[b_inv] * 2 + 3]
    pay_inv, pay_day = np.r_[c.p_invoice, b_inv], np.r_[c.p_day, c.b_day]
    pay_cents = np.r_[c.p_amount, c.p_amount[c.b_payment]]
    pay_status = np.r_[np.full(len(c.p_day), "Posted"), np.full(len(b_inv), "Canceled")]
    acc = sf_ids("001", c.customer[c.o_case])
    tables = {
        "Order.csv": pa.table({
            "Id": order_id, "OrderNumber": digits(gcase, 8),
            "OpportunityId": short(opp_ids.take(pa.array(c.o_case))), "AccountId": acc,
            "OwnerId": sf_ids("005", c.owner[c.o_case]),
            "Status": pa.array(np.where(fulfilled, "Fulfilled", "Activated")),
            "StatusCode": const("Activated", no),
            "EffectiveDate": date_text(cal.local_day(c.o_time)), "ActivatedDate": _iso(c.o_time),
            "TotalAmount": money(c.amount[c.o_case]), "Payment_Terms__c": term_names,
            "CreatedDate": _iso(c.o_time)}),
        "OrderHistory.csv": pa.table({
            "Id": hist_id, "OrderId": short(order_id.take(pa.array(f_idx))),
            "Field": const("Status", len(f_idx)), "OldValue": const("Activated", len(f_idx)),
            "NewValue": const("Fulfilled", len(f_idx)), "CreatedDate": _iso(done[f_idx])}),
        "blng__Invoice__c.csv": pa.table({
            "Id": all_inv, "Name": concat("INV-", digits(np.r_[inv_key, inv_key[cut] + 1], 10)),
            "blng__Account__c": acc.take(pa.array(c.i_order[sel])),
            "blng__Order__c": short(order_id.take(pa.array(c.i_order[sel]))),
            "blng__InvoiceDate__c": date_text(cal.local_day(created)),
            "blng__DueDate__c": date_text(c.i_due_day[sel]),
            "blng__InvoiceStatus__c": pa.array(np.where(valid, "Posted", "Cancelled")),
            "blng__PaymentStatus__c": pa.array(np.where(valid, pay_status[sel], "Unpaid")),
            "blng__TotalAmount__c": money(c.i_amount[sel]),
            "blng__Balance__c": money(np.where(valid, balance[sel], 0)),
            "CreatedDate": _iso(created)}),
        "blng__Payment__c.csv": pa.table({
            "Id": sf_ids("a1C", pay_key), "Name": concat("PAY-", digits(pay_key, 10)),
            "blng__Account__c": acc.take(pa.array(c.i_order[pay_inv])),
            "blng__Invoice__c": short(inv_id.take(pa.array(pay_inv))),
            "blng__Amount__c": money(pay_cents), "blng__PaymentDate__c": date_text(pay_day),
            "blng__Status__c": pa.array(pay_status),
            "CreatedDate": _iso(pay_day * DAY + 6 * 3600)}),
    }
    # the order's quote: the opportunity's synced quote, its newest one
    newest = np.full(c.n, -1, np.int64)
    np.maximum.at(newest, c.q_case, np.arange(len(c.q_case)))  # the last revision
    synced = newest[c.o_case]
    q_id = sf_ids("0Q0", (c.case0 + c.q_case) * 8 + c.q_no)
    events: list[Events | Documents] = [
        Documents(ObjectType.SALES_ORDER, order_id,
                  ((Qualifier.ORDER_OF, opp_ids.take(pa.array(c.o_case))),
                   (Qualifier.ORDER_OF, q_id.take(pa.array(synced, mask=synced < 0))))),
        Documents(ObjectType.INVOICE, all_inv,
                  ((Qualifier.INVOICE_OF, order_id.take(pa.array(c.i_order[sel]))),)),
        Documents(ObjectType.PAYMENT, sf_ids("a1C", pay_key),
                  ((Qualifier.CLEARS, inv_id.take(pa.array(pay_inv))),)),
        Events(SYSTEM, c.o_case, np.full(no, activity("Sales Order Created")), c.o_time,
               _record("Order.csv", order_id), objects=own("Sales Order Created", order_id)),
        Events(SYSTEM, c.o_case[f_idx], np.full(len(f_idx), activity("Order Fulfilled")),
               done[f_idx], _record("OrderHistory.csv", hist_id),
               objects=own("Order Fulfilled", order_id.take(pa.array(f_idx)))),
        Events(SYSTEM, c.o_case[c.i_order], np.full(len(c.i_order),
                                                    activity("Invoice Generated")),
               c.i_time, _record("blng__Invoice__c.csv", inv_id),
               objects=own("Invoice Generated", inv_id, order_id.take(pa.array(c.i_order)))),
        Events(SYSTEM, c.o_case[c.i_order[c.p_invoice]],
               np.full(len(c.p_day), activity("Payment Received")), c.p_day * DAY,
               _record("blng__Payment__c.csv", pay_id),
               objects=own("Payment Received", pay_id, inv_id.take(pa.array(c.p_invoice)))),
    ]
    return tables, events, order_terms([t.name for t in p.payment_terms], c)
