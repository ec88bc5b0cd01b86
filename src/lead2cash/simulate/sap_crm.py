"""SAP S/4HANA for customer management: opportunities, their phase history, SD quotations.

The opportunity header is `CRMS4D_OPPT_H` (`CREATED_AT_H` a UTC timestamp `YYYYMMDDhhmmss`);
its phase and status changes are change documents `CDHDR`/`CDPOS` (object class `CRM_ORDER`,
`UDATE`/`UTIME` in server local time); quotations (`VBAK` `VBTYP`=`B`) and contracts (`G`)
follow the opportunity in the document flow `VBFA` (`b`→`B`, `B`→`G`, `B`→`C`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa

from ..object_model import ObjectType, Qualifier
from ..sources.defaults import DEFAULTS
from .calendar import BusinessCalendar
from .ground_truth import Documents, Events, StageRows, activity, own, stage_activities
from .history import History
from .params import SimulationParams
from .process import Chunk
from .sap import (
    CSV_QUOTING,
    KEY,
    MANDT,
    MATKL,
    ORDER,
    SYSTEM,
    _dt,
    _record,
    _table,
    flow,
    kunnr,
    vbak,
    vbap,
)
from .text import concat, digits, money, take, time_text
from .world import REGIONS, World

__all__ = ["CSV_QUOTING", "KEY", "crm", "master"]

STAGES = DEFAULTS[KEY].stages
OPEN_STATUS, REOPEN_STATUS = "E0001", DEFAULTS[KEY].status["reopened"][0]
QUOTATION, CONTRACT, OPPORTUNITY = 20_000_000, 40_000_000, 60_000_000
REJECTION = 5_000_000_000  # change numbers of quotation rejections (after the CRM's)
REJECTION_REASON = "02"  # VBAP-ABGRU of a rejected quotation item
_WGBEZ = ("Software License", "Subscription", "Professional Services", "Hardware")


def _user(names: list[str]) -> list[str]:
    """SAP user ids of the reps (`JDOE` for Jane Doe)."""
    return [(n.split()[0][0] + n.split()[-1]).upper()[:12] for n in names]


def master(p: SimulationParams, world: World) -> dict[str, pa.Table]:
    """Material group texts `T023T` (the product category)."""
    families = list(p.product_families)
    return {"T023T.csv": _table(len(families), SPRAS="E", MATKL=pa.array(list(MATKL)),
                                WGBEZ=pa.array([_WGBEZ[i] for i in range(len(families))]))}


class Changes(NamedTuple):
    """One group of change documents: header (who, when) and item (which field, old -> new)."""

    rows: int
    objectclas: str
    objectid: pa.Array
    changenr: pa.Array
    username: pa.Array
    when: tuple[pa.Array, pa.Array]  # (UDATE, UTIME) local
    tcode: str
    chngind: pa.Array | str
    tabname: str
    tabkey: pa.Array
    fname: pa.Array | str
    value_old: pa.Array | str
    value_new: pa.Array | str


def _change_documents(*groups: Changes) -> dict[str, pa.Table]:
    """`CDHDR` (who, when) and `CDPOS` (which field, old and new value) of change groups."""
    hdr, pos = [], []
    for g in groups:
        udate, utime = g.when
        key = {"OBJECTCLAS": g.objectclas, "OBJECTID": g.objectid, "CHANGENR": g.changenr}
        hdr.append(_table(g.rows, **key, USERNAME=g.username, UDATE=udate, UTIME=utime,
                          TCODE=g.tcode, CHANGE_IND=g.chngind))
        pos.append(_table(g.rows, **key, TABNAME=g.tabname, TABKEY=g.tabkey, FNAME=g.fname,
                          CHNGIND=g.chngind, VALUE_OLD=g.value_old, VALUE_NEW=g.value_new))
    return {"CDHDR.csv": pa.concat_tables(hdr), "CDPOS.csv": pa.concat_tables(pos)}


def _rejections(c: Chunk, cal: BusinessCalendar, h: History, q_vbeln: pa.Array,
                q_key: np.ndarray, rejected: np.ndarray, newest: np.ndarray,
                owner: pa.Array) -> Changes:
    """Sales document change documents (`VERKBELEG`) setting `VBAP-ABGRU` on rejected quotations.

    A superseded revision is rejected when the next one is created; the newest one when the
    deal first closes without it (the SD-only connector reads the last one as Opportunity Lost).
    """
    rej = np.flatnonzero(rejected)
    closing = np.flatnonzero(h.is_close)
    first_close = np.full(c.n, -1, np.int64)
    closed_cases, first = np.unique(c.h_case[closing], return_index=True)
    first_close[closed_cases] = c.h_time[closing[first]]
    nxt = c.q_time[np.minimum(rej + 1, len(c.q_time) - 1)] if len(rej) else rej
    when = np.where(newest[rej], first_close[c.q_case[rej]], nxt)
    vbeln = q_vbeln.take(pa.array(rej, pa.int64()))
    return Changes(len(rej), "VERKBELEG", vbeln, digits(REJECTION + q_key[rej], 10),
                   owner.take(pa.array(c.q_case[rej], pa.int64())), _dt(cal, when), "VA22",
                   "U", "VBAP", concat(MANDT, vbeln, "000010"), "ABGRU", "", REJECTION_REASON)


def crm(p: SimulationParams, c: Chunk, cal: BusinessCalendar, world: World) -> tuple[
        dict[str, pa.Table], list[Events | Documents], dict[str, pa.Array], StageRows]:
    """CRMS4D_OPPT_H, CDHDR/CDPOS, quotations and contracts (VBAK/VBAP) and their VBFA links."""
    n, cases = c.n, c.case_ids
    opp = digits(OPPORTUNITY + cases, 10)
    users = pa.array(_user(world.rep_name.to_pylist()))
    owner = users.take(pa.array(c.owner))
    codes = [s.code for s in STAGES]
    h = History.of(c, STAGES)
    status = np.where(h.final_closed, np.where(h.final_won, "E0004", "E0003"),
                      np.where(np.bincount(c.h_case[h.reopen], minlength=n) > 0,
                               REOPEN_STATUS, OPEN_STATUS))
    # one change document per history row: PHASE, STATUS (close / reopen) or EXP_REVENUE
    same = ~h.first_row & (c.h_stage == h.prev)
    amount_row = same & (c.h_amount != np.r_[0, c.h_amount[:-1]])
    status_row = h.is_close | h.reopen
    fname = np.select([status_row, amount_row], ["STATUS", "EXP_REVENUE"], "PHASE")
    starts = np.flatnonzero(h.first_row)[np.cumsum(h.first_row) - 1]
    reopens = np.cumsum(h.reopen)
    reopened_before = reopens - h.reopen - (reopens - h.reopen)[starts] > 0
    prev_status = np.where(h.reopen, take(codes, h.prev).to_numpy(zero_copy_only=False),
                           np.where(reopened_before, REOPEN_STATUS, OPEN_STATUS))
    value_old = np.select(
        [h.first_row, status_row, amount_row],
        ["", prev_status, money(np.r_[0, c.h_amount[:-1]]).to_numpy(zero_copy_only=False)],
        take(codes, h.prev).to_numpy(zero_copy_only=False))
    value_new = np.select(
        [h.reopen, h.is_close, amount_row],
        [REOPEN_STATUS, take(codes, c.h_stage).to_numpy(zero_copy_only=False),
         money(c.h_amount).to_numpy(zero_copy_only=False)],
        take(codes, c.h_stage).to_numpy(zero_copy_only=False))
    changenr = digits((c.case0 + c.h_case) * 64 + c.h_slot, 10)
    h_opp = opp.take(pa.array(c.h_case))
    udate, utime = _dt(cal, c.h_time)
    chngind = pa.array(np.where(h.first_row, "I", "U"))
    # quotations: one per revision; rejected (ABGRU) unless accepted or still open
    q_key = (c.case0 + c.q_case) * 8 + c.q_no
    q_vbeln = digits(QUOTATION + q_key, 10)
    newest = np.r_[c.q_case[1:] != c.q_case[:-1], True] if len(c.q_case) else np.zeros(0, bool)
    accepted = c.q_accepted >= 0
    rejected = ~accepted & (~newest | c.q_closed)
    q_amount = c.amount[c.q_case] - c.amount[c.q_case] * c.q_discount_half_pct // 200
    q_erdat, q_erzet = _dt(cal, c.q_time)
    q_day = cal.local_day(c.q_time)
    acc_idx = np.full(n, -1, np.int64)
    acc_idx[c.q_case[accepted]] = np.flatnonzero(accepted)
    k_erdat, k_erzet = _dt(cal, c.c_time)
    k_vbeln = digits(CONTRACT + c.case0 + c.c_case, 10)
    k_from = q_vbeln.take(pa.array(acc_idx[c.c_case]))
    has_order = acc_idx[c.o_case] >= 0
    o_from = q_vbeln.take(pa.array(acc_idx[c.o_case[has_order]]))
    o_vbeln = digits(ORDER + c.case0 + c.o_case[has_order], 10)
    tables = {
        "CRMS4D_OPPT_H.csv": _table(
            n, OBJECT_ID=opp, OBJTYPE_H="BUS2000111", PROCESS_TYPE="OPPT",
            DESCRIPTION=concat("Deal ", pa.array(cases).cast(pa.string())),
            SOLD_TO_PARTY=kunnr(c.customer),
            STARTDATE=time_text(cal.local(c.created), "%Y%m%d"),
            EXPECT_END=time_text(cal.local(h.last_time), "%Y%m%d"),
            PHASE=take(codes, h.current), PHASE_SINCE=time_text(cal.local(h.last_time), "%Y%m%d"),
            STATUS=pa.array(status), STATUS_SINCE=time_text(cal.local(h.last_time), "%Y%m%d"),
            EXP_REVENUE=money(h.amount), NET_VALUE_H=money(h.amount), CURRENCY="USD",
            CREATED_AT_H=time_text(c.created, "%Y%m%d%H%M%S"), CREATED_BY_H=owner,
            POSTING_DATE=time_text(cal.local(c.created), "%Y%m%d")),
        **_change_documents(
            Changes(len(c.h_case), "CRM_ORDER", h_opp, changenr,
                    owner.take(pa.array(c.h_case)), (udate, utime), "CRMD_ORDER", chngind,
                    "CRMD_OPPORT_H", h_opp, pa.array(fname), pa.array(value_old),
                    pa.array(value_new)),
            _rejections(c, cal, h, q_vbeln, q_key, rejected, newest, owner)),
        "VBAK.csv": pa.concat_tables([
            vbak(len(q_key), VBELN=q_vbeln, ERDAT=q_erdat, ERZET=q_erzet, VBTYP="B",
                 AUART="QT", NETWR=money(q_amount), KUNNR=kunnr(c.customer[c.q_case]),
                 GBSTK=pa.array(np.where(accepted | rejected, "C", "A")),
                 ANGDT=q_erdat, BNDDT=time_text((q_day + 30) * 86_400, "%Y%m%d"),
                 ABSTK=pa.array(np.where(rejected, "C", "")),
                 VGBEL=opp.take(pa.array(c.q_case))),
            vbak(len(c.c_case), VBELN=k_vbeln, ERDAT=k_erdat, ERZET=k_erzet, VBTYP="G",
                 AUART="WK1", NETWR=money(c.amount[c.c_case]),
                 KUNNR=kunnr(c.customer[c.c_case]), GBSTK="C", VGBEL=k_from)]),
        "VBAP.csv": pa.concat_tables([
            vbap(len(q_key), q_vbeln, c.family[c.q_case], q_amount, q_erdat, q_erzet,
                 pa.array(np.where(rejected, REJECTION_REASON, ""))),
            vbap(len(c.c_case), k_vbeln, c.family[c.c_case], c.amount[c.c_case], k_erdat,
                 k_erzet, "")]),
        "VBFA.csv": flow(cal, [
            (opp.take(pa.array(c.q_case)), q_vbeln, "b", "B", c.q_time, q_amount),
            (k_from, k_vbeln, "B", "G", c.c_time, c.amount[c.c_case]),
            (o_from, o_vbeln, "B", "C", c.o_time[has_order], c.amount[c.o_case[has_order]]),
        ]),
    }
    acts = stage_activities(c.h_case, c.h_stage, STAGES)
    ev = acts >= 0
    names = take([s.name for s in STAGES], c.h_stage)
    T, Q = ObjectType, Qualifier
    events: list[Events | Documents] = [
        Documents(T.QUOTE, q_vbeln, ((Q.QUOTE_OF, opp.take(pa.array(c.q_case))),)),
        Documents(T.CONTRACT, k_vbeln, ((Q.CONTRACT_OF, opp.take(pa.array(c.c_case))),)),
        Documents(T.SALES_ORDER, o_vbeln, ((Q.ORDER_OF, o_from),)),
        Events(SYSTEM, np.arange(n), np.full(n, activity("Opportunity Created")), c.created,
               _record("CRMS4D_OPPT_H.csv", "OBJECT_ID", opp)),
        Events(SYSTEM, c.h_case[ev], acts[ev], c.h_time[ev],
               _record("CDHDR.csv", "CHANGENR", changenr.filter(pa.array(ev))),
               names.filter(pa.array(ev))),
        Events(SYSTEM, c.q_case, np.full(len(q_key), activity("Quote Issued")), c.q_time,
               _record("VBAK.csv", "VBELN", q_vbeln), objects=own("Quote Issued", q_vbeln)),
        Events(SYSTEM, c.o_case[has_order], np.full(has_order.sum(), activity("Quote Accepted")),
               c.o_time[has_order], _record("VBFA.csv", "VBELN", o_vbeln),
               objects=own("Quote Accepted", o_from)),
        Events(SYSTEM, c.c_case, np.full(len(c.c_case), activity("Contract Signed")), c.c_time,
               _record("VBAK.csv", "VBELN", k_vbeln), objects=own("Contract Signed", k_vbeln)),
    ]
    q_last = np.full(n, -1, np.int64)
    q_last[c.q_case] = c.family[c.q_case]
    attrs = {
        "SalesOpportunityId": opp,
        "OpportunityAmount": pa.array(h.amount / 100),
        "CustomerName": world.customer_name.take(pa.array(c.customer)),
        "OpportunityOwner": owner,
        "SalesRegion": take(REGIONS, c.region),  # KNA1-LAND1 of SOLD_TO_PARTY
        "OpportunityOutcome": pa.array(np.where(h.final_won, "Won", "Lost"),
                                       mask=~h.final_closed),
        "ProductCategory": pa.array(list(_WGBEZ)).take(pa.array(q_last, mask=q_last < 0)),
    }
    return tables, events, attrs, StageRows(c.h_case, c.h_time, names)
