"""Event filters: keep or drop events, rename and merge activities, read lifecycle transitions.

Case filters (filters.py) keep or drop whole cases; the filters here change the
events themselves, so the engine derives steps and traces again from what they
leave (see `Engine.tables`). They run first, in the order given; case filters
then choose among the resulting cases. A case left without events disappears.

Lifecycle transitions (XES `lifecycle:transition`): `complete` keeps one event per
activity instance, its completion (events without a transition count as
completions); `pairs` does the same and also records when the instance started,
in the column `StartTime`: the k-th `start` of an activity in a case pairs with
its k-th completion (first in, first out). Other transitions (schedule, suspend,
resume, ...) are dropped in both modes. Activity durations and waiting times:
`activity_times.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

import ibis
import ibis.expr.types as ir

from ..errors import Lead2CashError
from .filters import CASE

__all__ = ["EventCondition", "EventFilter", "KeepEvents", "LIFECYCLE", "Lifecycle",
           "RenameActivities", "START_TIME", "is_event_filter"]

ACT, TIME, EID = "ActivityName", "EventTime", "event_id"
LIFECYCLE = "lifecycle:transition"
EventOp = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in"]
START_TIME = "StartTime"


@runtime_checkable
class EventFilter(Protocol):
    """A change to the events table (the engine re-derives steps and cases from the result)."""

    def transform(self, events: ir.Table) -> ir.Table: ...


def is_event_filter(f: object) -> bool:
    """Whether a filter changes events (rather than choosing cases)."""
    return isinstance(f, EventFilter)


@dataclass(frozen=True, slots=True)
class EventCondition:
    """A condition on one event: attribute, comparison, value (`in` takes a tuple)."""

    name: str
    op: EventOp
    value: str | float | datetime | tuple[str | float, ...]

    def on(self, events: ir.Table) -> ir.BooleanValue:
        """Whether each event matches (null when its attribute is missing)."""
        if self.name not in events.columns:
            raise Lead2CashError(
                f"event filter on '{self.name}': the log has no such attribute",
                f"use one of: {', '.join(c for c in events.columns if c[0].isupper())}",
            )
        col = events[self.name]
        if self.op in ("in", "not in"):
            values = self.value if isinstance(self.value, tuple) else (self.value,)
            found = col.isin([ibis.literal(v) for v in values])
            return found if self.op == "in" else ~found
        lit = ibis.literal(self.value)
        return {"=": col == lit, "!=": col != lit, "<": col < lit, "<=": col <= lit,
                ">": col > lit, ">=": col >= lit}[self.op]


@dataclass(frozen=True, slots=True)
class KeepEvents:
    """Keep only the events the condition holds for (`keep=False`: drop them instead).
    An event whose attribute is missing never matches."""

    condition: EventCondition
    keep: bool = True

    def transform(self, events: ir.Table) -> ir.Table:
        match = self.condition.on(events).fill_null(False)
        return events.filter(match if self.keep else ~match)


@dataclass(frozen=True, slots=True)
class RenameActivities:
    """Rename activities: each (old, new) pair; several olds to one new merges them."""

    mapping: tuple[tuple[str, str], ...]

    def transform(self, events: ir.Table) -> ir.Table:
        renamed = events[ACT].cases(*((ibis.literal(o), ibis.literal(n)) for o, n in self.mapping),
                                    else_=events[ACT])
        return events.mutate(**{ACT: renamed})


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Read lifecycle transitions: `complete` keeps completions only; `pairs` also adds
    `StartTime`, the time of the matching `start` (else the completion's own time)."""

    mode: Literal["complete", "pairs"] = "complete"
    column: str = LIFECYCLE

    def transform(self, events: ir.Table) -> ir.Table:
        if self.column not in events.columns:
            raise Lead2CashError(
                f"lifecycle {self.mode}: the log has no '{self.column}' column",
                "import an XES log whose events carry lifecycle:transition (or drop the condition)",
            )
        lc = events[self.column].cast("string").lower().strip()
        done = events.filter(lc.isnull() | (lc == "complete"))
        if self.mode == "complete":
            return done
        starts = events.filter(lc == "start")
        w_start = ibis.window(group_by=[starts[CASE], starts[ACT]], order_by=[starts[TIME], starts[EID]])
        w_done = ibis.window(group_by=[done[CASE], done[ACT]], order_by=[done[TIME], done[EID]])
        s = starts.select(s_case=starts[CASE], s_act=starts[ACT], s_k=ibis.row_number().over(w_start),
                          s_time=starts[TIME])
        d = done.mutate(_k=ibis.row_number().over(w_done))
        j = d.left_join(s, [d[CASE] == s.s_case, d[ACT] == s.s_act, d._k == s.s_k])
        began = ibis.ifelse(j.s_time.notnull() & (j.s_time <= j[TIME]), j.s_time, j[TIME])
        cols = [c for c in events.columns if c != START_TIME]
        return j.select(*cols, **{START_TIME: began})
