"""Case filters: typed objects for the API, a small readable language for `--filter`.

Every filter keeps or drops whole cases, so the precomputed traces stay valid
under any filter. Values become typed Ibis literals (query parameters), never
text pasted into SQL. Several filters combine with AND.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import ibis
import ibis.common.exceptions as ibis_exc
import ibis.expr.types as ir

from ..errors import Lead2CashError
from .derived import SEP

__all__ = [
    "Activity",
    "Attribute",
    "CaseDuration",
    "Closed",
    "Filter",
    "Follows",
    "LogTables",
    "Not",
    "Outcome",
    "TimeWindow",
    "Variant",
    "apply",
    "restrict",
    "select_cases",
]

CASE = "SalesOpportunityId"
OUTCOME = "OpportunityOutcome"
Op = Literal["=", "!=", "<", "<=", ">", ">=", "in"]


@dataclass(frozen=True, slots=True)
class LogTables:
    """The three views of one log every analysis reads (see mining.derived)."""

    events: ir.Table
    steps: ir.Table
    cases: ir.Table
    variant_steps: ir.Table  # per variant, not per case: filters leave it as it is
    # Per-case KPI facts and stage visits stored at load time (derived.derive);
    # None when the log has none (a lazy or Spark engine, or an older workspace).
    case_facts: ir.Table | None = None
    stage_visits: ir.Table | None = None


class Filter(Protocol):
    """A condition on a case: a boolean expression over the `cases` table."""

    def predicate(self, t: LogTables) -> ir.BooleanValue: ...


def _has_case(t: LogTables, rows: ir.Table) -> ir.BooleanValue:
    """True for the cases that have at least one row in `rows`."""
    return t.cases[CASE].isin(rows[CASE])


@dataclass(frozen=True, slots=True)
class Attribute:
    """Cases with at least one event whose attribute compares true (`in` takes a tuple)."""

    name: str
    op: Op
    value: str | float | datetime | tuple[str | float, ...]

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        if self.name not in t.events.columns:
            raise Lead2CashError(
                f"filter on '{self.name}': the log has no such attribute",
                f"use one of: {', '.join(c for c in t.events.columns if c[0].isupper())}",
            )
        col = t.events[self.name]
        try:
            if self.op == "in":
                values = self.value if isinstance(self.value, tuple) else (self.value,)
                cond = col.isin([ibis.literal(v) for v in values])
            else:
                lit = ibis.literal(self.value)
                cond = {
                    "=": col == lit, "!=": col != lit, "<": col < lit,
                    "<=": col <= lit, ">": col > lit, ">=": col >= lit,
                }[self.op]
        except (ibis_exc.IbisTypeError, TypeError):
            raise _type_mismatch(self.name, col.type(), self.value) from None
        return _has_case(t, t.events.filter(cond))


def _type_mismatch(name: str, dtype: object, value: object) -> Lead2CashError:
    """A filter comparing a column with a value of another kind: say both, and how to write it."""
    first = value[0] if isinstance(value, tuple) and value else value
    kind = ("text" if isinstance(first, str) else "a date" if isinstance(first, datetime)
            else "a number")
    holds = ("numbers" if getattr(dtype, "is_numeric", lambda: False)() else
             "times" if getattr(dtype, "is_temporal", lambda: False)() else "text")
    example = {"numbers": f"{name} >= 50000 (no quotes)",
               "times": f"{name} >= 2024-01-31 (a date without quotes)",
               "text": f"{name} = 'some text' (in quotes)"}[holds]
    return Lead2CashError(
        f"filter on '{name}': the attribute holds {holds} ({dtype}), but the filter compares it "
        f"with {kind} ({first!r})",
        f"write the value as {holds} are written, e.g. {example}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """Cases whose OpportunityOutcome is one of the given values (e.g. 'Won')."""

    values: tuple[str, ...]

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        return Attribute(OUTCOME, "in", self.values).predicate(t)


@dataclass(frozen=True, slots=True)
class Closed:
    """Cases that left the pipeline (an OpportunityOutcome is recorded); wrap in Not for open ones."""

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        return _has_case(t, t.events.filter(t.events[OUTCOME].notnull()))


@dataclass(frozen=True, slots=True)
class Activity:
    """Cases in which the activity occurs at least once."""

    name: str

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        return _has_case(t, t.steps.filter(t.steps.ActivityName == ibis.literal(self.name)))


@dataclass(frozen=True, slots=True)
class Follows:
    """Cases in which `target` directly follows `source` at least once."""

    source: str
    target: str

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        s = t.steps
        pair = (s.ActivityName == ibis.literal(self.source)) & (s.target == ibis.literal(self.target))
        return _has_case(t, s.filter(pair))


@dataclass(frozen=True, slots=True)
class Variant:
    """Cases whose whole ordered trace is exactly this sequence of activities."""

    activities: tuple[str, ...]

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        return t.cases.variant == ibis.literal(SEP.join(self.activities))


@dataclass(frozen=True, slots=True)
class CaseDuration:
    """Cases lasting at least `min_s` and at most `max_s` seconds (first to last event)."""

    min_s: float | None = None
    max_s: float | None = None

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        d = t.cases.duration_us
        cond = ibis.literal(True)
        if self.min_s is not None:
            cond &= d >= ibis.literal(round(self.min_s * 1e6), type="int64")
        if self.max_s is not None:
            cond &= d <= ibis.literal(round(self.max_s * 1e6), type="int64")
        return cond


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Cases started, ended, active or entirely contained in [start, end) (UTC, either side open)."""

    start: datetime | None = None
    end: datetime | None = None
    mode: Literal["started", "ended", "active", "contained"] = "active"

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        c = t.cases
        lo, hi = {
            "started": (c.start_time, c.start_time),
            "ended": (c.end_time, c.end_time),
            "active": (c.end_time, c.start_time),
            "contained": (c.start_time, c.end_time),
        }[self.mode]
        cond = ibis.literal(True)
        if self.start is not None:
            cond &= lo >= ibis.literal(self.start, type="timestamp")
        if self.end is not None:
            cond &= hi < ibis.literal(self.end, type="timestamp")
        return cond


@dataclass(frozen=True, slots=True)
class Not:
    """The cases the inner filter drops (e.g. Not(Activity('Opportunity Lost')))."""

    inner: Filter

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        return ~self.inner.predicate(t)


def select_cases(t: LogTables, filters: Sequence[Filter]) -> ir.Column:
    """The ids of the cases every filter keeps."""
    cond = filters[0].predicate(t)
    for f in filters[1:]:
        cond &= f.predicate(t)
    return t.cases.filter(cond)[CASE]


def restrict(t: LogTables, keep: ir.Column) -> LogTables:
    """Events, steps and cases of the cases whose id is in `keep`."""
    return LogTables(
        events=t.events.filter(t.events[CASE].isin(keep)),
        steps=t.steps.filter(t.steps[CASE].isin(keep)),
        cases=t.cases.filter(t.cases[CASE].isin(keep)),
        variant_steps=t.variant_steps,
        case_facts=None if t.case_facts is None else t.case_facts.filter(t.case_facts[CASE].isin(keep)),
        stage_visits=None if t.stage_visits is None
        else t.stage_visits.filter(t.stage_visits[CASE].isin(keep)),
    )


def apply(t: LogTables, filters: Iterable[Filter]) -> LogTables:
    """Restrict events, steps and cases to the cases every filter keeps."""
    chosen = tuple(filters)
    return restrict(t, select_cases(t, chosen)) if chosen else t
