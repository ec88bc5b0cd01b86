"""The ground truth: the canonical event log that a chunk's extracts encode, in store columns.

Renderers say which events their files give (with the exact instant a correct
connector reads and the extract row as lineage); this module orders them, numbers
them, and adds the case attributes, SalesCycleDuration and LastDataUpdate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model import ACTIVITIES, ACTIVITY_NAMES, ATTRIBUTES, EventKind
from ..object_model import OWN_DOCUMENT, PARENT_DOCUMENT
from ..sources.defaults import Stage
from ..store import CORE_COLUMNS
from .process import Chunk

__all__ = [
    "OBJECTS_SCHEMA",
    "SCHEMA",
    "Documents",
    "Events",
    "StageRows",
    "activity",
    "build",
    "objects_table",
    "order_terms",
    "own",
    "stage_activities",
    "stage_at",
]

_CODE = {name: i for i, name in enumerate(ACTIVITY_NAMES)}
_KIND = pa.array([a.kind.value if a.kind is EventKind.INFERRED else "explicit"
                  for a in ACTIVITIES])
_CREATED, _WON, _LOST = (_CODE[a] for a in
                         ("Opportunity Created", "Opportunity Won", "Opportunity Lost"))
_TS = pa.timestamp("us", tz="UTC")
# Durations in whole seconds (all times are): Parquet keeps an int64 that DuckDB reads as
# BIGINT seconds, which `lead2cash import` takes as a number of seconds.
_ARROW = {"string": pa.string(), "timestamp": _TS, "decimal": pa.float64(),
          "duration": pa.duration("s")}
SCHEMA = pa.schema(
    [pa.field("event_id", pa.int64(), nullable=False)]
    + [pa.field(a.name, _ARROW[a.type.value]) for a in ATTRIBUTES]
    + [pa.field("event_type", pa.string(), nullable=False), pa.field("source_record", pa.string())]
)
assert SCHEMA.names == list(CORE_COLUMNS)


def activity(name: str) -> int:
    """Code of a model activity (its position in the model)."""
    return _CODE[name]


@dataclass(slots=True)
class Events:
    """Events derived from one extract file: local case index, activity code, UTC s, lineage.

    `objects`: the documents each event touches besides its opportunity (E2O), as
    (object type, ids aligned with the events, qualifier)."""

    system: str
    case: np.ndarray
    activity: np.ndarray
    time: np.ndarray
    source_record: pa.Array
    stage: pa.Array | None = None  # the stage entered, for stage-history events
    objects: tuple[tuple[str, pa.Array, str], ...] = ()


@dataclass(slots=True)
class Documents:
    """Objects one extract file holds (ids unique within), with their O2O links: per link its
    qualifier and the target ids aligned with `ids` (null: no target)."""

    object_type: str
    ids: pa.Array
    links: tuple[tuple[str, pa.Array], ...] = ()


OBJECTS_SCHEMA = pa.schema([
    pa.field("relation", pa.string()), pa.field("object_id", pa.string()),
    pa.field("object_type", pa.string()), pa.field("qualifier", pa.string()),
    pa.field("target_id", pa.string()), pa.field("SalesOpportunityId", pa.string()),
    pa.field("ActivityName", pa.string()), pa.field("EventTime", _TS),
])
"""`ground_truth_objects.parquet`: one row per object (`relation` = object), per E2O relation
(e2o: the event by case, activity and time, its object and qualifier) and per O2O relation
(o2o: object_id → target_id)."""


def own(name: str, ids: pa.Array, parent: pa.Array | None = None) -> tuple[tuple[str, pa.Array, str], ...]:
    """The E2O of a model activity's events: their own documents and, for invoices and
    payments, the documents they bill or clear (types and qualifiers from `object_model`)."""
    kind, q = OWN_DOCUMENT[name]
    out = [(kind.value, ids, q.value)]
    if parent is not None:
        pk, pq_ = PARENT_DOCUMENT[name]
        out.append((pk.value, parent, pq_.value))
    return tuple(out)


def objects_table(case_ids: pa.Array, events: list[Events], docs: list[Documents]) -> pa.Table:
    """The ground-truth objects and relations of one chunk (`case_ids`: the chunk's case ids)."""
    parts: list[pa.Table] = []

    def part(**cols: pa.Array) -> None:
        n = len(next(iter(cols.values())))
        parts.append(pa.table({f.name: cols.get(f.name, pa.nulls(n, f.type)).cast(f.type)
                               for f in OBJECTS_SCHEMA}, schema=OBJECTS_SCHEMA))

    for d in docs:
        n = len(d.ids)
        part(relation=_const("object", n), object_id=d.ids, object_type=_const(d.object_type, n))
        for q, target in d.links:
            part(relation=_const("o2o", n), object_id=d.ids, qualifier=_const(q, n), target_id=target)
    for e in events:
        n = len(e.case)
        for kind, ids, q in e.objects:
            part(relation=_const("e2o", n), object_id=ids, object_type=_const(kind, n),
                 qualifier=_const(q, n), SalesOpportunityId=case_ids.take(pa.array(e.case)),
                 ActivityName=pa.array([ACTIVITY_NAMES[a] for a in np.asarray(e.activity)], pa.string()),
                 EventTime=pa.array(np.asarray(e.time, np.int64) * 1_000_000, _TS))
    if not parts:
        return OBJECTS_SCHEMA.empty_table()
    table = pa.concat_tables(parts)
    keep = pc.is_valid(table["object_id"])
    keep = pc.and_(keep, pc.or_(pc.not_equal(table["relation"], "o2o"), pc.is_valid(table["target_id"])))
    return table.filter(keep)


def _const(value: str, n: int) -> pa.Array:
    return pa.array([value]).take(pa.array(np.zeros(n, np.int64)))


@dataclass(slots=True)
class StageRows:
    """The CRM's stage history as the connectors read it: per row (in case, then history
    order) its local case index, UTC time and the stage name in the CRM's vocabulary."""

    case: np.ndarray
    time: np.ndarray
    name: pa.Array


def stage_at(rows: StageRows, case: np.ndarray, time: np.ndarray) -> pa.Array:
    """The stage each (case, time) was in: the stage of the case's last history row at or
    before the time (equal times: the last row, whose record id is the highest), before the
    first row the first row's stage, null for a case without history rows."""
    hc = np.asarray(rows.case, np.int64)
    if not len(hc):
        return pa.nulls(len(case), pa.string())
    k = np.int64(1 << 34)  # above every epoch second the simulator writes
    keys = hc * k + np.asarray(rows.time, np.int64)
    idx = np.searchsorted(keys, case * k + time, side="right") - 1
    at = (idx >= 0) & (hc[np.maximum(idx, 0)] == case)
    first = np.minimum(np.searchsorted(hc, case, side="left"), len(hc) - 1)
    pick = np.where(at, idx, np.where(hc[first] == case, first, -1))
    return rows.name.take(pa.array(pick, mask=pick < 0))


def build(n: int, events: list[Events], attrs: dict[str, pa.Array], stages: StageRows,
          ldu: int, event_id0: int) -> pa.Table:
    """Ground-truth rows of one chunk of `n` cases, sorted by case, time and source order.

    `SalesStage` is the stage entered for stage-history events, else the stage the
    opportunity was in at the event's time (`stage_at`)."""
    case = np.concatenate([e.case for e in events]).astype(np.int64)
    act = np.concatenate([e.activity for e in events]).astype(np.int64)
    time = np.concatenate([e.time for e in events]).astype(np.int64)
    order = np.lexsort((np.arange(len(case)), time, case))
    case, act, time = case[order], act[order], time[order]
    idx = pa.array(order)
    lineage = pa.chunked_array([e.source_record for e in events]).take(idx)
    stage_at_event = pa.chunked_array(
        [e.stage if e.stage is not None else pa.nulls(len(e.case), pa.string()) for e in events]
    ).take(idx)
    cases = pa.array(case)
    stage = pc.coalesce(stage_at_event, stage_at(stages, case, time))
    big = np.iinfo(np.int64).max
    created = np.full(n, big)
    np.minimum.at(created, case[act == _CREATED], time[act == _CREATED])
    closes = (act == _WON) | (act == _LOST)
    closed = np.full(n, -1)
    np.maximum.at(closed, case[closes], time[closes])
    outcome = attrs["OpportunityOutcome"]
    has = pc.is_valid(outcome).to_numpy(zero_copy_only=False) & (closed >= 0) & (created < big)
    cycle = pa.array(closed - created, pa.duration("s"), mask=~has)
    columns = {
        "event_id": pa.array(event_id0 + np.arange(len(case), dtype=np.int64)),
        "ActivityName": pa.array(list(ACTIVITY_NAMES)).take(pa.array(act)),
        "EventTime": pa.array(time * 1_000_000, _TS),
        "SourceSystem": pa.chunked_array(
            [pa.array([e.system]).take(np.zeros(len(e.case), np.int64)) for e in events]
        ).take(idx),
        "LastDataUpdate": pa.array(np.full(len(case), ldu * 1_000_000), _TS),
        "SalesStage": stage,
        "SalesCycleDuration": cycle.take(cases),
        "event_type": _KIND.take(pa.array(act)),
        "source_record": lineage,
    }
    for name, values in attrs.items():
        columns.setdefault(name, values.take(cases))
    for f in SCHEMA:  # attributes no extract holds stay empty
        columns.setdefault(f.name, pa.nulls(len(case), f.type))
    return pa.Table.from_arrays([columns[f.name].cast(f.type) for f in SCHEMA], schema=SCHEMA)


def stage_activities(case: np.ndarray, stage: np.ndarray, stages: tuple[Stage, ...]) -> np.ndarray:
    """Activity code per stage-history row (-1: no event), by the connectors' derivation rules.

    Rows are in history order per case. A row that keeps the stage gives nothing; a closed
    stage gives Won/Lost; an open stage right after a closed one, Reopened; the first entry
    into a milestone stage, its milestone (also on the case's first row); any other change,
    Stage Changed. The first row of a case with a non-milestone, open stage gives nothing (a
    first row already closed, a deal entered after the fact, gives its Won / Lost).
    """
    closed = np.array([s.closed for s in stages])
    won = np.array([s.won for s in stages])
    milestone = np.array([_CODE[s.activity] if s.activity else -1 for s in stages])
    first_row = np.r_[True, case[1:] != case[:-1]]
    prev = np.r_[-1, stage[:-1]]
    changed = first_row | (stage != prev)
    _, first_idx = np.unique(case * len(stages) + stage, return_index=True)
    first_entry = np.zeros(len(case), bool)
    first_entry[first_idx] = True
    prev_closed = ~first_row & closed[np.maximum(prev, 0)]
    out = np.where(milestone[stage] >= 0, milestone[stage], _CODE["Opportunity Stage Changed"])
    out = np.where(~first_entry & ~closed[stage], _CODE["Opportunity Stage Changed"], out)
    out = np.where(prev_closed & ~closed[stage], _CODE["Opportunity Reopened"], out)
    out = np.where(closed[stage], np.where(won[stage], _WON, _LOST), out)
    out = np.where(first_row & (milestone[stage] < 0) & ~closed[stage], -1, out)
    return np.where(changed, out, -1)


def order_terms(names: list[str], c: Chunk) -> dict[str, pa.Array]:
    """PaymentTerms per case: the terms of the case's order (none without an order)."""
    terms = np.full(c.n, -1)
    terms[c.o_case] = c.terms[c.o_case]
    return {"PaymentTerms": pa.array(names).take(pa.array(terms, mask=terms < 0))}
