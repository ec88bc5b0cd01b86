"""Oracle CX Sales (REST API JSON) with Fusion Order Management and Receivables (BICC tables).

Opportunities, accounts and resources are REST collections (`{"items": [...], "count": n}`,
revenue lines expanded as the `ChildRevenue` child); stage history, CPQ quotes, orders and
receivables are database-table extracts. Times are ISO 8601 with offset (UTC), dates
`YYYY-MM-DD`, ids numeric.
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
from .process import Chunk, segments
from .text import Raw, concat, const, date_text, digits, json_objects, money, take, time_text
from .world import REGIONS, World

__all__ = ["KEY", "crm", "master", "order_to_cash"]

KEY = "oracle-cx"
SYSTEM = SOURCE_SYSTEMS[KEY]
CSV_QUOTING = "needed"
STAGES = DEFAULTS[KEY].stages
ISO = "%Y-%m-%dT%H:%M:%S.000+00:00"
# Id ranges per object (Fusion ids are 15-digit numbers).
OPTY, RESOURCE, PARTY, SNAPSHOT, REVENUE, QUOTE = (
    300_000_000_000_000, 100_000_000_000, 200_000_000_000, 400_000_000_000_000,
    500_000_000_000_000, 600_000_000_000_000)
HEADER, LINE, DETAIL, TRX, SCHEDULE, RECEIPT, APPLICATION = (
    700_000_000_000_000, 710_000_000_000_000, 720_000_000_000_000, 800_000_000_000_000,
    810_000_000_000_000, 820_000_000_000_000, 830_000_000_000_000)
STAGE_ID, TERM_ID = 100, 1000


def _iso(utc: np.ndarray) -> pa.Array:
    return time_text(utc, ISO)


def _ids(base: int, values: np.ndarray) -> pa.Array:
    return pa.array(base + np.asarray(values, np.int64))


def _text(base: int, values: np.ndarray) -> pa.Array:
    return _ids(base, values).cast(pa.string())


def _record(file: str, key: str, values: pa.Array) -> pa.Array:
    return concat(f"{KEY}/{file}:{key}=", values.cast(pa.string()))


def _items(columns: dict[str, pa.Array | Raw]) -> pa.Table:
    return pa.table({"item": json_objects(columns)})


def master_documents(p: SimulationParams, world: World) -> list[Documents]:
    """The accounts as Customer objects."""
    return [Documents(ObjectType.CUSTOMER, _text(PARTY, np.arange(len(world.customer_country))))]


def master(p: SimulationParams, world: World) -> dict[str, pa.Table]:
    """accounts and resources (REST), sales stages `MOO_STG_VL`, payment terms `RA_TERMS_TL`."""
    n, r = len(world.customer_country), len(world.rep_region)
    st = STAGES[: len(DEFAULTS[KEY].open_stages)]
    return {
        "accounts.json": _items({
            "PartyId": _ids(PARTY, np.arange(n)), "OrganizationName": world.customer_name,
            "Country": world.country_values(p.country_name_share)}),
        "resources.json": _items({
            "PartyId": _ids(RESOURCE, np.arange(r)), "PartyName": world.rep_name}),
        "MOO_STG_VL.csv": pa.table({
            "STG_ID": [str(STAGE_ID + i) for i in range(len(st))], "NAME": [s.name for s in st],
            "PHASE_CD": [s.code for s in st], "STG_ORDER": [str(i + 1) for i in range(len(st))],
            "RCMND_WIN_PROB": [str(s.probability) for s in st], "LANGUAGE": ["US"] * len(st)}),
        "RA_TERMS_TL.csv": pa.table({
            "TERM_ID": [str(TERM_ID + i) for i in range(len(p.payment_terms))],
            "NAME": [t.name for t in p.payment_terms],
            "LANGUAGE": ["US"] * len(p.payment_terms)}),
    }


def crm(p: SimulationParams, c: Chunk, cal: BusinessCalendar, world: World) -> tuple[
        dict[str, pa.Table], list[Events | Documents], dict[str, pa.Array], StageRows]:
    """opportunities (REST, with ChildRevenue), stage and status snapshots, CPQ quotes."""
    n, cases = c.n, c.case_ids
    opp = _ids(OPTY, cases)
    names = [s.name for s in STAGES]
    h = History.of(c, STAGES)
    first_row, prev, is_close, reopen = h.first_row, h.prev, h.is_close, h.reopen
    entered = ~is_close & ~reopen & (first_row | (c.h_stage != prev))
    amount, current, last_time = h.amount, h.current, h.last_time
    final_closed, final_won = h.final_closed, h.final_won
    status = np.where(final_closed, np.where(final_won, "WON", "LOST"), "OPEN")
    snap_id = SNAPSHOT + (c.case0 + c.h_case) * 64 + c.h_slot
    # stage entries → MOO_OPTY_STG_SNAPSHOTS; closes, reopens, other saves → MOO_OPTY_SNAPSHOTS
    st = np.flatnonzero(entered)
    op = np.flatnonzero(~entered)
    latest = np.zeros(len(st), bool)  # ACTIVE_FLAG: the most recent visit of each stage
    key = c.h_case[st] * len(STAGES) + c.h_stage[st]
    latest[len(key) - 1 - np.unique(key[::-1], return_index=True)[1]] = True
    op_status = np.where(is_close[op], take(names, c.h_stage[op]).to_numpy(zero_copy_only=False),
                         "OPEN")
    close_day = cal.local_day(np.where(final_closed, last_time, c.created + 45 * DAY))
    revenue = json_objects({
        "RevnId": _ids(REVENUE, cases), "OptyId": opp, "RevnAmount": pa.array(amount / 100),
        "ProdGroupId": pa.array(c.family + 1), "ProdGroupName": take(list(p.product_families),
                                                                     c.family),
        "PrimaryFlag": pa.array(np.ones(n, bool)), "StatusCode": pa.array(status),
        "ActualCloseDate": pa.array(date_text(close_day).to_numpy(zero_copy_only=False),
                                    mask=~final_closed)})
    # CPQ quotes (ZCA_SALES_ORDER_HEADERS), one row per version
    newest = np.r_[c.q_case[1:] != c.q_case[:-1], True] if len(c.q_case) else np.zeros(0, bool)
    accepted = c.q_accepted >= 0
    q_key = (c.case0 + c.q_case) * 8 + c.q_no
    q_status = np.select([accepted, ~newest, c.q_closed], ["ORDERED", "SUPERSEDED", "REJECTED"],
                         "QUOTED")
    tables = {
        "opportunities.json": _items({
            "OptyId": opp, "OptyNumber": concat("OPTY-", digits(cases, 8)),
            "Name": concat("Deal ", pa.array(cases).cast(pa.string())),
            "StatusCode": pa.array(status), "SalesStage": take(names, current),
            "SalesStageId": pa.array(STAGE_ID + current),
            "SalesMethod": const("Standard Sales Process", n),
            "Revenue": pa.array(amount / 100), "CurrencyCode": const("USD", n),
            "EffectiveDate": date_text(close_day), "OptyCreationDate": _iso(c.created),
            "OptyLastUpdateDate": _iso(last_time),
            "OwnerResourcePartyId": _ids(RESOURCE, c.owner),
            "TargetPartyId": _ids(PARTY, c.customer),
            "TargetPartyName": world.customer_name.take(pa.array(c.customer)),
            "PrimaryRevenueId": _ids(REVENUE, cases),
            "ChildRevenue": Raw(concat("[", revenue, "]"))}),
        "MOO_OPTY_STG_SNAPSHOTS.csv": pa.table({
            "OPTY_STG_SNAPSHOT_ID": pa.array(snap_id[st]).cast(pa.string()),
            "OPTY_ID": opp.take(pa.array(c.h_case[st])).cast(pa.string()),
            "STG_ID": pa.array(STAGE_ID + c.h_stage[st]).cast(pa.string()),
            "ACTIVE_FLAG": pa.array(np.where(latest, "Y", "N")),
            "CREATION_DATE": _iso(c.h_time[st])}),
        "MOO_OPTY_SNAPSHOTS.csv": pa.table({
            "OPTY_SNAPSHOT_ID": pa.array(snap_id[op]).cast(pa.string()),
            "OPTY_ID": opp.take(pa.array(c.h_case[op])).cast(pa.string()),
            "CURR_STG_ID": pa.array(STAGE_ID + np.where(is_close[op], prev[op], c.h_stage[op])
                                    ).cast(pa.string()),
            "STATUS_CATEGORY": pa.array(op_status), "REVN_AMT": money(c.h_amount[op]),
            "CREATION_DATE": _iso(c.h_time[op])}),
        "ZCA_SALES_ORDER_HEADERS.csv": pa.table({
            "ORDER_HEADER_ID": _text(QUOTE, q_key),
            "ORDER_HEADER_NUMBER": digits(_quote_number(p, c.case0 + c.q_case, q_key), 9),
            "OPTY_ID": opp.take(pa.array(c.q_case)).cast(pa.string()),
            "VERSION_NUMBER": pa.array(c.q_no + 1).cast(pa.string()),
            "ACTIVE_VERSION_FLAG": pa.array(np.where(newest, "Y", "N")),
            "STATUS": pa.array(q_status),
            "WIN_STATUS_CODE": pa.array(np.where(accepted, "WON", "LOST"),
                                        mask=~(accepted | (newest & c.q_closed))),
            "PLACED_ON_DATE": pa.array(_iso(np.maximum(c.q_accepted, 0)).to_numpy(
                zero_copy_only=False), mask=~accepted),
            "EXPIRATION_DATE": date_text(cal.local_day(c.q_time) + 30),
            "SOLD_CUST_PARTY_ID": _text(PARTY, c.customer[c.q_case]),
            "CREATION_DATE": _iso(c.q_time)}),
    }
    acts = stage_activities(c.h_case, c.h_stage, STAGES)
    stage_name = take(names, c.h_stage)
    opp_text = opp.cast(pa.string())
    q_ids = _text(QUOTE, q_key)
    events: list[Events | Documents] = [
        Documents(ObjectType.CUSTOMER, _text(PARTY, c.customer), ((Qualifier.CUSTOMER_OF, opp_text),)),
        Documents(ObjectType.QUOTE, q_ids, ((Qualifier.QUOTE_OF, opp_text.take(pa.array(c.q_case))),)),
        Events(SYSTEM, np.arange(n), np.full(n, activity("Opportunity Created")),
               c.created, _record("opportunities.json", "OptyId", opp))]
    for rows, file, key in ((st, "MOO_OPTY_STG_SNAPSHOTS.csv", "OPTY_STG_SNAPSHOT_ID"),
                            (op, "MOO_OPTY_SNAPSHOTS.csv", "OPTY_SNAPSHOT_ID")):
        ev = rows[acts[rows] >= 0]
        events.append(Events(SYSTEM, c.h_case[ev], acts[ev], c.h_time[ev],
                             _record(file, key, pa.array(snap_id[ev])),
                             stage_name.take(pa.array(ev))))
    events += [
        Events(SYSTEM, c.q_case, np.full(len(c.q_case), activity("Quote Issued")), c.q_time,
               _record("ZCA_SALES_ORDER_HEADERS.csv", "ORDER_HEADER_ID", _ids(QUOTE, q_key)),
               objects=own("Quote Issued", q_ids)),
        Events(SYSTEM, c.q_case[accepted], np.full(accepted.sum(), activity("Quote Accepted")),
               c.q_accepted[accepted], _record("ZCA_SALES_ORDER_HEADERS.csv", "ORDER_HEADER_ID",
                                               _ids(QUOTE, q_key[accepted])),
               objects=own("Quote Accepted", q_ids.filter(pa.array(accepted)))),
    ]
    attrs = {
        "SalesOpportunityId": opp.cast(pa.string()),
        "OpportunityAmount": pa.array(amount / 100),
        "CustomerName": world.customer_name.take(pa.array(c.customer)),
        "OpportunityOwner": world.rep_name.take(pa.array(c.owner)),
        "SalesRegion": take(REGIONS, c.region),  # accounts Country via REGION_BY_COUNTRY
        "OpportunityOutcome": pa.array(np.where(final_won, "Won", "Lost"), mask=~final_closed),
        "ProductCategory": take(list(p.product_families), c.family),
    }
    return tables, events, attrs, StageRows(c.h_case, c.h_time, stage_name)


def _maybe_date(days: np.ndarray) -> pa.Array:
    """Dates `YYYY-MM-DD`, empty where the day is -1."""
    days = np.asarray(days, np.int64)
    return pa.array(date_text(np.maximum(days, 0)).to_numpy(zero_copy_only=False), mask=days < 0)


def _quote_number(p: SimulationParams, case: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A CPQ quote version's ORDER_HEADER_NUMBER: its own, or the one its versions share."""
    return (case * 8) if p.quote_versions_share_number else key


def _picked(values: np.ndarray, share: float) -> np.ndarray:
    """A `share` of the rows, picked by a hash of their values (nothing else changes)."""
    h = (np.asarray(values, np.uint64) * np.uint64(2654435761)) % np.uint64(1 << 32)
    return h < share * (1 << 32)


def _joint_receipts(p: SimulationParams, c: Chunk, gcase: np.ndarray, pay_key: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per payment its day and its receipt key. For a `joint_receipt_rate` share of the orders
    with several settled invoices, the final payments of those invoices are one receipt (the
    first one's key) arriving on the day the last of them would have."""
    day, receipt = c.p_day.copy(), pay_key.copy()
    if p.joint_receipt_rate <= 0 or not len(day):
        return day, receipt
    order = c.i_order[c.p_invoice]
    final = np.flatnonzero(c.p_settles & _picked(gcase[order], p.joint_receipt_rate))
    if not len(final):
        return day, receipt
    groups, inverse = np.unique(order[final], return_inverse=True)
    last = np.full(len(groups), -1, np.int64)
    np.maximum.at(last, inverse, day[final])
    first = np.full(len(groups), np.iinfo(np.int64).max)
    np.minimum.at(first, inverse, pay_key[final])
    # a part payment of the same invoice never comes after its final one
    day[final], receipt[final] = last[inverse], first[inverse]
    return day, receipt


def _receipts(key: np.ndarray, day: np.ndarray, cents: np.ndarray, bounced: np.ndarray,
              rev: np.ndarray, party: pa.Array) -> pa.Table:
    """`AR_CASH_RECEIPTS_ALL`: one row per receipt (a joint receipt sums its applications)."""
    keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    amount = np.bincount(inverse, cents, len(keys)).astype(np.int64)
    return pa.table({
        "CASH_RECEIPT_ID": _text(RECEIPT, keys), "RECEIPT_NUMBER": digits(keys, 10),
        "RECEIPT_DATE": date_text(day[first]), "AMOUNT": money(amount),
        "STATUS": pa.array(np.where(bounced[first], "REV", "APP")),
        "REVERSAL_DATE": _maybe_date(rev[first]),
        "REVERSAL_CATEGORY": pa.array(np.where(bounced[first], "NSF", "")),
        "PAY_FROM_CUSTOMER": party.take(pa.array(first))})


def order_to_cash(p: SimulationParams, c: Chunk, cal: BusinessCalendar, opp_ids: pa.Array
                  ) -> tuple[dict[str, pa.Table], list[Events | Documents], dict[str, pa.Array]]:
    """DOO orders and fulfilment lines, AR transactions, payment schedules, receipts, applications.

    An order names its CPQ quote in `SOURCE_ORDER_NUMBER`; invoices carry the order number in
    `INTERFACE_HEADER_ATTRIBUTE1` and are named by the fulfilment line's billing details.
    """
    no, gcase = len(c.o_case), c.case0 + c.o_case
    accepted = np.flatnonzero(c.q_accepted >= 0)
    quote_of = np.zeros(c.n, np.int64)
    quote_of[c.q_case[accepted]] = (c.case0 + c.q_case[accepted]) * 8 + c.q_no[accepted]
    order_no = digits(gcase, 8)
    # change versions: a second header of the same order number, made ten minutes later
    hv = np.r_[np.arange(no), np.flatnonzero(_picked(gcase, p.order_change_rate))]
    h_id = np.r_[HEADER + gcase, HEADER + 5 * 10**12 + gcase[hv[no:]]]
    h_time = np.r_[c.o_time, c.o_time[hv[no:]] + 600]
    lines_order, line_no = segments(c.o_deliveries)
    shipped_count = np.bincount(c.d_order, minlength=no)
    shipped = line_no < shipped_count[lines_order]
    ship_time = np.zeros(len(lines_order), np.int64)
    starts = np.cumsum(c.o_deliveries) - c.o_deliveries
    ship_time[starts[c.d_order] + c.d_no] = c.d_time
    line_key = gcase[lines_order] * 4 + line_no
    # after shipping a line moves on: awaiting billing, then closed once invoiced
    billed = np.zeros(len(lines_order), bool)
    billed[starts[c.i_order] + c.i_no] = True
    line_status = (np.where(billed, "CLOSED", "AWAIT_BILLING") if p.status_after_shipping
                   else np.full(len(lines_order), "SHIPPED"))
    complete = shipped_count == c.o_deliveries
    inv_key = gcase[c.i_order] * 8 + c.i_no * 2
    cut = c.i_cancelled_time >= 0
    sel = np.r_[np.arange(len(c.i_order)), np.flatnonzero(cut)]
    valid = np.r_[np.ones(len(c.i_order), bool), np.zeros(cut.sum(), bool)]
    trx_key = np.r_[inv_key, inv_key[cut] + 1]
    trx_day = cal.local_day(np.r_[c.i_time, c.i_cancelled_time[cut]])
    paid = np.bincount(c.p_invoice, c.p_amount, len(c.i_order)).astype(np.int64)
    pay_key = inv_key[c.p_invoice] * 2 + c.p_no
    p_day, receipt = _joint_receipts(p, c, gcase, pay_key)
    closed_on = np.full(len(c.i_order), -1, np.int64)
    closed_on[c.p_invoice[c.p_settles]] = p_day[c.p_settles]
    inv_case = c.o_case[c.i_order]
    # receipts: the payments, then the bounced ones (status REV, reversed); each receipt is
    # applied to its invoice, and a bounced one's application is undone by a negative row
    nb = len(c.b_payment)
    b_inv = c.p_invoice[c.b_payment]
    r_key = np.r_[receipt, inv_key[b_inv] * 2 + 3]  # per application: its receipt
    r_inv, r_day = np.r_[c.p_invoice, b_inv], np.r_[p_day, c.b_day]
    r_cents = np.r_[c.p_amount, c.p_amount[c.b_payment]]
    r_bounced = np.r_[np.zeros(len(pay_key), bool), np.ones(nb, bool)]
    r_rev = np.r_[np.full(len(pay_key), -1), c.b_reversed_day]
    a_of = np.r_[np.arange(len(r_key)), len(pay_key) + np.arange(nb)]
    a_undo = np.r_[np.zeros(len(r_key), bool), np.ones(nb, bool)]
    app_key = np.r_[pay_key, inv_key[b_inv] * 2 + 3]  # per application: its own id
    a_id = np.where(a_undo, 10**12 + app_key[a_of], app_key[a_of])
    a_day = np.where(a_undo, r_rev[a_of], r_day[a_of])
    tables = {
        "DOO_HEADERS_ALL.csv": pa.table({
            "HEADER_ID": pa.array(h_id).cast(pa.string()),
            "ORDER_NUMBER": order_no.take(pa.array(hv)),
            "CHANGE_VERSION_NUMBER": pa.array(np.where(np.arange(len(hv)) < no, "1", "2")),
            "SOURCE_ORDER_SYSTEM": const("CPQ", len(hv)),
            "SOURCE_ORDER_NUMBER": digits(_quote_number(
                p, gcase, quote_of[c.o_case]), 9).take(pa.array(hv)),
            "SOURCE_ORDER_ID": _text(QUOTE, quote_of[c.o_case[hv]]),
            "SOLD_TO_PARTY_ID": _text(PARTY, c.customer[c.o_case[hv]]),
            "ORDERED_DATE": _iso(c.o_time[hv]),
            "STATUS_CODE": pa.array(np.where(complete[hv], "CLOSED", "OPEN")),
            "OPEN_FLAG": pa.array(np.where(complete[hv], "N", "Y")),
            "CANCELED_FLAG": const("N", len(hv)), "SUBMITTED_FLAG": const("Y", len(hv)),
            "PAYMENT_TERM_ID": pa.array(TERM_ID + c.terms[c.o_case[hv]]).cast(pa.string()),
            "TRANSACTIONAL_CURRENCY_CODE": const("USD", len(hv)),
            "CREATION_DATE": _iso(h_time)}),
        "DOO_FULFILL_LINES_ALL.csv": pa.table({
            "FULFILL_LINE_ID": _text(LINE, line_key),
            "HEADER_ID": _text(HEADER, gcase[lines_order]),
            "FULFILL_LINE_NUMBER": pa.array(line_no + 1).cast(pa.string()),
            "STATUS_CODE": pa.array(np.where(shipped, line_status, "AWAIT_SHIPPING")),
            "ORDERED_QTY": const("1", len(line_key)),
            "SHIPPED_QTY": pa.array(np.where(shipped, "1", "0")),
            "ACTUAL_SHIP_DATE": pa.array(_iso(ship_time).to_numpy(zero_copy_only=False),
                                         mask=~shipped)}),
        "DOO_FULFILL_LINE_DETAILS.csv": pa.table({
            "FULFILL_LINE_DETAIL_ID": _text(DETAIL, inv_key),
            "FULFILL_LINE_ID": _text(LINE, gcase[c.i_order] * 4 + c.i_no),
            "TASK_TYPE": const("Invoice", len(inv_key)),
            "BILLING_TRANSACTION_NUMBER": digits(inv_key, 10),
            "BILLING_TRANSACTION_DATE": date_text(cal.local_day(c.i_time))}),
        "RA_CUSTOMER_TRX_ALL.csv": pa.table({
            "CUSTOMER_TRX_ID": _text(TRX, trx_key), "TRX_NUMBER": digits(trx_key, 10),
            "TRX_DATE": date_text(trx_day),
            "BILL_TO_CUSTOMER_ID": _text(PARTY, c.customer[inv_case[sel]]),
            "STATUS_TRX": pa.array(np.where(valid, np.where(
                np.r_[closed_on, np.zeros(cut.sum(), np.int64)] >= 0, "CL", "OP"), "VD")),
            "INTERFACE_HEADER_ATTRIBUTE1": order_no.take(pa.array(c.i_order[sel])),
            "TERM_ID": pa.array(TERM_ID + c.terms[inv_case[sel]]).cast(pa.string()),
            "CREATION_DATE": _iso(np.r_[c.i_time, c.i_cancelled_time[cut]])}),
        "AR_PAYMENT_SCHEDULES_ALL.csv": pa.table({
            "PAYMENT_SCHEDULE_ID": _text(SCHEDULE, inv_key),
            "CUSTOMER_TRX_ID": _text(TRX, inv_key), "DUE_DATE": date_text(c.i_due_day),
            "AMOUNT_DUE_ORIGINAL": money(c.i_amount),
            "AMOUNT_DUE_REMAINING": money(c.i_amount - paid),
            "STATUS": pa.array(np.where(closed_on >= 0, "CL", "OP")),
            "ACTUAL_DATE_CLOSED": pa.array(date_text(np.maximum(closed_on, 0)).to_numpy(
                zero_copy_only=False), mask=closed_on < 0)}),
        "AR_CASH_RECEIPTS_ALL.csv": _receipts(r_key, r_day, r_cents, r_bounced, r_rev,
                                              _text(PARTY, c.customer[inv_case[r_inv]])),
        "AR_RECEIVABLE_APPLICATIONS_ALL.csv": pa.table({
            "RECEIVABLE_APPLICATION_ID": _text(APPLICATION, a_id),
            "CASH_RECEIPT_ID": _text(RECEIPT, r_key[a_of]),
            "APPLIED_CUSTOMER_TRX_ID": _text(TRX, inv_key[r_inv[a_of]]),
            "APPLICATION_TYPE": const("CASH", len(a_of)), "STATUS": const("APP", len(a_of)),
            "AMOUNT_APPLIED": money(np.where(a_undo, -r_cents[a_of], r_cents[a_of])),
            "APPLY_DATE": date_text(a_day), "REVERSAL_GL_DATE": _maybe_date(r_rev[a_of]),
            "CREATION_DATE": _iso(a_day * DAY + 8 * 3600)}),
    }
    ship = np.flatnonzero(shipped)
    T, Q = ObjectType, Qualifier
    quoted = np.zeros(c.n, bool)
    quoted[c.q_case[accepted]] = True
    has_quote = quoted[c.o_case]
    o_quote = _text(QUOTE, quote_of[c.o_case])
    inv_ids = _text(TRX, inv_key)
    events: list[Events | Documents] = [
        Documents(T.SALES_ORDER, order_no,
                  ((Q.ORDER_OF, opp_ids.take(pa.array(c.o_case)).cast(pa.string())),
                   (Q.ORDER_OF, pc.if_else(pa.array(has_quote), o_quote, pa.nulls(no, pa.string()))))),
        Documents(T.INVOICE, _text(TRX, trx_key), ((Q.INVOICE_OF, order_no.take(pa.array(c.i_order[sel]))),)),
        Documents(T.PAYMENT, _text(RECEIPT, r_key)),
        Documents(T.PAYMENT, _text(RECEIPT, receipt), ((Q.CLEARS, inv_ids.take(pa.array(c.p_invoice))),)),
        Events(SYSTEM, c.o_case, np.full(no, activity("Sales Order Created")), c.o_time,
               _record("DOO_HEADERS_ALL.csv", "HEADER_ID", _ids(HEADER, gcase)),
               objects=own("Sales Order Created", order_no)),
        Events(SYSTEM, c.o_case[lines_order[ship]], np.full(len(ship), activity("Order Fulfilled")),
               ship_time[ship], _record("DOO_FULFILL_LINES_ALL.csv", "FULFILL_LINE_ID",
                                        _ids(LINE, line_key[ship])),
               objects=own("Order Fulfilled", order_no.take(pa.array(lines_order[ship])))),
        Events(SYSTEM, inv_case, np.full(len(inv_case), activity("Invoice Generated")),
               trx_day[: len(inv_case)] * DAY,
               _record("RA_CUSTOMER_TRX_ALL.csv", "CUSTOMER_TRX_ID", _ids(TRX, inv_key)),
               objects=own("Invoice Generated", inv_ids, order_no.take(pa.array(c.i_order)))),
        Events(SYSTEM, inv_case[c.p_invoice], np.full(len(pay_key), activity("Payment Received")),
               p_day * DAY, _record("AR_RECEIVABLE_APPLICATIONS_ALL.csv",
                                    "RECEIVABLE_APPLICATION_ID", _ids(APPLICATION, pay_key)),
               objects=own("Payment Received", _text(RECEIPT, receipt),
                           inv_ids.take(pa.array(c.p_invoice)))),
    ]
    # orders reach the opportunity through the CPQ quote (SOURCE_ORDER_NUMBER)
    return tables, events, order_terms([t.name for t in p.payment_terms], c)
