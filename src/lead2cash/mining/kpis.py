"""Lead-to-Cash KPIs, whole log and per segment: the one entry point `kpis(events, ...)`.

The engine computes per-case facts once (kpis_facts); the sales-side
(kpis_sales) and order-to-cash (kpis_o2c) KPIs are pure functions of them.
Segments come from `by` (any attribute, last known value per case) and/or
amount bands. Every duration can be calendar time or working time.
Definitions and formulas: docs/kpis.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import ibis.expr.types as ir

from ..model import ACTIVITY_NAMES
from ..object_model import CASE_OBJECT_TYPE
from ..progress import NO_PROGRESS, Progress
from .calendar import CalendarSet
from .engine import Engine
from .filters import Filter, LogTables
from .kpis_facts import CaseFacts, Transition
from .kpis_o2c import Freshness, LatePayments, freshness, late_payments, o2c_transitions
from .kpis_sales import (
    DEFAULT_DISCOUNT_BANDS,
    Discounts,
    Funnel,
    Rework,
    SalesCycle,
    Stalls,
    ValueAtStake,
    WinRate,
    discounts,
    funnel,
    rework,
    sales_cycle,
    sales_transitions,
    stalls,
    value_at_stake,
    win_rate,
)

__all__ = [
    "KpiOptions", "KpiReport", "KpiSet", "facts_of", "flat_kpis", "from_facts", "kpi_set", "kpis",
    "report",
]


@dataclass(frozen=True, slots=True)
class KpiOptions:
    """Thresholds and bands the KPIs use (the defaults are documented in docs/kpis.md)."""

    stall_days: float = 30.0
    discount_bands: tuple[float, ...] = DEFAULT_DISCOUNT_BANDS
    discount_policy: float = 0.20


@dataclass(frozen=True, slots=True)
class KpiSet:
    """Every KPI for one set of cases (the whole log or one segment)."""

    cases: int
    events: int
    win: WinRate
    cycle: SalesCycle
    rework: Rework
    transitions: tuple[Transition, ...]
    late: LatePayments
    funnel: Funnel
    stalls: Stalls
    discounts: Discounts
    value_at_stake: ValueAtStake
    day_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Headline numbers as flat keys (win_rate, sales_cycle_median_s, ...), details nested;
        every duration in seconds of the report's time (calendar or working)."""
        return _flat(self.cases, self.events, self.win, self.cycle, self.rework, self.transitions,
                     self.late) | {
            "funnel": self.funnel.to_dict(),
            "stalls": self.stalls.to_dict(),
            "discounts": self.discounts.to_dict(),
            "value_at_stake": self.value_at_stake.to_dict(),
        }


def _flat(cases: int, events: int, win: WinRate, cycle: SalesCycle, rework: Rework,
          transitions: tuple[Transition, ...], late: LatePayments) -> dict[str, Any]:
    """The flat keys of `KpiSet.to_dict` (counts, rates, duration statistics)."""
    flat: dict[str, Any] = {"cases": cases, "events": events, **win.to_dict()}
    flat |= cycle.to_dict()
    flat |= rework.to_dict()
    for t in transitions:
        flat |= t.to_dict()
    return flat | late.to_dict()


def _parts(f: CaseFacts) -> tuple[int, int, WinRate, SalesCycle, Rework, tuple[Transition, ...],
                                  LatePayments]:
    """The KPIs behind the flat keys, in `_flat`'s order."""
    return (len(f.cases), int(f.cases["events"].sum()), win_rate(f), sales_cycle(f), rework(f),
            sales_transitions(f) + o2c_transitions(f), late_payments(f))


def kpi_set(f: CaseFacts, options: KpiOptions = KpiOptions()) -> KpiSet:
    """Compute every KPI on one set of case facts."""
    cases, events, win, cycle, rework_, transitions, late = _parts(f)
    return KpiSet(
        cases=cases,
        events=events,
        win=win,
        cycle=cycle,
        rework=rework_,
        transitions=transitions,
        late=late,
        funnel=funnel(f),
        stalls=stalls(f, options.stall_days),
        discounts=discounts(f, options.discount_bands, options.discount_policy),
        value_at_stake=value_at_stake(f, options.stall_days),
        day_seconds=f.day_seconds,
    )


def flat_kpis(f: CaseFacts) -> dict[str, Any]:
    """The flat keys of `kpi_set(f).to_dict()` alone (counts, win rate, cycle, rework,
    milestone transitions, late payments), computed without the nested details (funnel,
    stalls, discounts, value at stake): the same numbers, for a side-by-side comparison."""
    return _flat(*_parts(f))


@dataclass(frozen=True, slots=True)
class KpiReport:
    """KPIs of the whole log, per segment when sliced, and the data's freshness."""

    overall: KpiSet
    segments: dict[str, KpiSet]
    by: str | None
    amount_bands: tuple[float, ...]
    time: str
    as_of: str | None
    freshness: Freshness
    case_type: str = CASE_OBJECT_TYPE
    """The object type whose objects are the cases (another than Opportunity: a flattened log)."""
    foreign_activities: tuple[str, ...] = ()
    """Set when the log holds none of the model's activities: the ones it holds instead."""

    def note(self) -> str | None:
        """What the figures mean when the cases are not opportunities or the log is not a
        Lead-to-Cash log; None when they are and it is."""
        if self.foreign_activities:
            shown = ", ".join(repr(a) for a in self.foreign_activities[:6])
            more = ", ..." if len(self.foreign_activities) > 6 else ""
            return (f"the log holds none of the {len(ACTIVITY_NAMES)} Lead-to-Cash activities "
                    f"(its activities are {shown}{more}), so the KPIs that need them (win rate, "
                    "cycle, quotes, order to cash, funnel) show '-'; name the activities as the "
                    "model does (`lead2cash model`) when importing, or use `mine dfg`, "
                    "`mine variants` and `mine performance`, which work on any log")
        if self.case_type == CASE_OBJECT_TYPE:
            return None
        return (f"the cases are {self.case_type} objects, not opportunities: the Lead-to-Cash "
                f"KPIs are defined per opportunity, so win rate, funnel, stalls and discounts "
                f"count {self.case_type} objects as if they were deals (and find no opportunity "
                f"milestones on most); for {self.case_type} lifecycles use `mine performance`, "
                f"`mine variants` or `mine dfg` with --case-type {self.case_type}, or `mine objects`")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the overall KPIs at top level, then slicing, segments and freshness."""
        return self.overall.to_dict() | {
            "case_type": self.case_type,
            "note": self.note(),
            "time": self.time,
            "day_s": self.overall.day_seconds,
            "as_of": self.as_of,
            "by": self.by,
            "amount_bands": list(self.amount_bands),
            "segments": [{"segment": k, **v.to_dict()} for k, v in self.segments.items()],
            "freshness": self.freshness.to_dict(),
        }


def kpis(
    events: ir.Table,
    by: str | None = None,
    amount_bands: Sequence[float] = (),
    calendar: CalendarSet | None = None,
    options: KpiOptions = KpiOptions(),
    now: datetime | None = None,
    progress: Progress = NO_PROGRESS,
    steps: ir.Table | None = None,
) -> KpiReport:
    """All Lead-to-Cash KPIs of an events table (DuckDB or Spark), optionally sliced and in working time.

    `steps`, the engine's precomputed event positions for the same cases, makes it faster.
    """
    progress("reducing events to case facts", 0, 1)
    facts = CaseFacts.load(events, by, amount_bands, calendar, steps)
    progress("reducing events to case facts", 1, 1)
    return from_facts(facts, by, amount_bands, calendar, options, now, progress)


def from_facts(
    facts: CaseFacts,
    by: str | None = None,
    amount_bands: Sequence[float] = (),
    calendar: CalendarSet | None = None,
    options: KpiOptions = KpiOptions(),
    now: datetime | None = None,
    progress: Progress = NO_PROGRESS,
    case_type: str = CASE_OBJECT_TYPE,
) -> KpiReport:
    """Every KPI of case facts already read (`CaseFacts.load` or `CaseFacts.read`), overall
    and per segment; `case_type` names what the cases are (see `KpiReport.note`)."""
    parts = facts.slices() if by is not None or amount_bands else {}
    segments: dict[str, KpiSet] = {}
    for i, (name, part) in enumerate(parts.items()):
        progress("computing KPIs per segment", i, len(parts))
        segments[name] = kpi_set(part, options)
    if parts:
        progress("computing KPIs per segment", len(parts), len(parts))
    return KpiReport(
        overall=kpi_set(facts, options),
        segments=segments,
        by=by,
        amount_bands=tuple(sorted(amount_bands)),
        time=f"working ({calendar.default.name})" if calendar else "calendar",
        as_of=None if facts.as_of is None else facts.as_of.isoformat() + "Z",
        freshness=freshness(facts, now),
        case_type=case_type,
    )


def facts_of(
    t: LogTables,
    by: str | None = None,
    amount_bands: Sequence[float] = (),
    calendar: CalendarSet | None = None,
) -> CaseFacts:
    """The case facts of a (filtered) log: read from the facts stored at load time when the
    log has them (one row per case), else computed from its events."""
    if t.case_facts is not None and t.stage_visits is not None and (
            by is None or f"attr_{by}" in t.case_facts.columns):
        return CaseFacts.read(t.case_facts, t.stage_visits, by, amount_bands, calendar)
    return CaseFacts.load(t.events, by, amount_bands, calendar, t.steps)


def report(
    engine: Engine,
    filters: Iterable[Filter] = (),
    by: str | None = None,
    amount_bands: Sequence[float] = (),
    calendar: CalendarSet | None = None,
    options: KpiOptions = KpiOptions(),
    now: datetime | None = None,
    progress: Progress = NO_PROGRESS,
) -> KpiReport:
    """The KPIs of an engine's log restricted by filters (the API shape of the other analyses)."""
    progress("reducing events to case facts", 0, 1)
    facts = facts_of(engine.tables(filters), by, amount_bands, calendar)
    progress("reducing events to case facts", 1, 1)
    result = from_facts(facts, by, amount_bands, calendar, options, now, progress,
                        case_type=engine.case_type)
    return replace(result, foreign_activities=foreign_activities(engine))


def foreign_activities(engine: Engine) -> tuple[str, ...]:
    """The log's activities when none of them is one of the model's (a log that is not
    Lead-to-Cash, or one whose activity names were not mapped); () otherwise."""
    events = engine.events()
    names = engine.execute(events.select("ActivityName").distinct().limit(1000))
    found = tuple(sorted(str(a) for a in names["ActivityName"].dropna()))
    return () if not found or set(found) & set(ACTIVITY_NAMES) else found
