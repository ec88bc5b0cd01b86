"""Performance: case durations, time between activities, time in stage, throughput, rework.

Every duration is measured in microseconds on the engine and reported in
seconds. Events are ordered by (EventTime, event_id) everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from ..errors import Lead2CashError
from ..model import ACTIVITIES, HAPPY_PATH, ActivityGroup
from . import working
from .calendar import CalendarSet
from .engine import Engine
from .filters import Filter, LogTables
from .kpis_facts import LOST, REOPENED, WON
from .regression import flag_regressions, steps_with_stage
from .stats import DurationStats, duration_aggs, ratio, to_seconds, whole

__all__ = [
    "DOCUMENT_ACTIVITIES",
    "Between",
    "CaseDurations",
    "PerformanceReport",
    "RepeatedActivity",
    "Rework",
    "StageTime",
    "between",
    "case_durations",
    "report",
    "rework",
    "throughput",
    "time_in_stage",
]

CASE = "SalesOpportunityId"
DOCUMENT_ACTIVITIES: tuple[str, ...] = tuple(
    a.name for a in ACTIVITIES if a.name in (
        "Contract Signed", "Sales Order Created", "Order Fulfilled", "Invoice Generated",
        "Payment Received")
)
"""Activities done once per document (contract, order, delivery, invoice, payment): a repeat
on another document of the case (split delivery, second invoice, partial payment) is not
rework; only a repeat on the same document is. Every other activity's repeat is rework."""
DOCUMENT_RECORD = r"^[^:]*:[A-Za-z_][A-Za-z0-9_]*="
"""A `source_record` naming one record of a source table (`<file>:<Key>=<value>`, as the
connectors write it); other lineage (an imported file's line) names no document."""
Occurrence = Literal["first", "last"]
MILESTONES: tuple[str, ...] = tuple(
    a for a in HAPPY_PATH if any(x.name == a and x.group is ActivityGroup.KEY for x in ACTIVITIES)
)
"""Default throughput milestones: the key activities of the happy path, in order."""


@dataclass(frozen=True, slots=True)
class CaseDurations:
    """Case durations (first to last event): statistics, and per case when asked for."""

    duration: DurationStats
    per_case: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = self.duration.to_dict("duration_")
        if self.per_case is not None:
            out["cases"] = dict(self.per_case)
        return out


@dataclass(frozen=True, slots=True)
class Between:
    """Time from one activity to another within cases having both, in that order."""

    source: str
    target: str
    source_occurrence: Occurrence
    target_occurrence: Occurrence
    duration: DurationStats
    reversed_cases: int

    def to_dict(self) -> dict[str, Any]:
        head = {"source": self.source, "target": self.target,
                "source_occurrence": self.source_occurrence,
                "target_occurrence": self.target_occurrence,
                "cases": self.duration.count, "reversed_cases": self.reversed_cases}
        return head | self.duration.to_dict("duration_")


@dataclass(frozen=True, slots=True)
class StageTime:
    """Time a case spends in one stage (from each event in it to the next event), per case."""

    stage: str
    duration: DurationStats

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "cases": self.duration.count} | self.duration.to_dict("duration_")


@dataclass(frozen=True, slots=True)
class RepeatedActivity:
    """An activity done more than once in some cases (on the same document, for document
    activities): in how many, and how many extra times."""

    activity: str
    cases: int
    extra_events: int

    def to_dict(self) -> dict[str, Any]:
        return {"activity": self.activity, "cases": self.cases, "extra_events": self.extra_events}


@dataclass(frozen=True, slots=True)
class Rework:
    """Repeated activities, stage regressions (see regression.py), and reopened deals.

    Rates: repeats and regressions over all cases; reopened deals over the cases ever closed
    (with a Won or Lost event), the same definition as the KPIs' `reopen_rate`."""

    total_cases: int
    cases_with_repeats: int
    repeated: tuple[RepeatedActivity, ...]
    cases_with_regression: int
    regression_events: int
    reopened_cases: int
    ever_closed_cases: int

    def to_dict(self) -> dict[str, Any]:
        rate = (lambda n: ratio(n, self.total_cases))
        return {
            "total_cases": self.total_cases,
            "cases_with_repeats": self.cases_with_repeats,
            "repeat_rate": rate(self.cases_with_repeats),
            "repeated_activities": [r.to_dict() for r in self.repeated],
            "cases_with_regression": self.cases_with_regression,
            "regression_events": self.regression_events,
            "regression_rate": rate(self.cases_with_regression),
            "reopened_cases": self.reopened_cases,
            "ever_closed_cases": self.ever_closed_cases,
            "reopen_rate": ratio(self.reopened_cases, self.ever_closed_cases),
        }


def case_durations(engine: Engine, filters: Iterable[Filter] = (), per_case: bool = False,
                   calendar: CalendarSet | None = None) -> CaseDurations:
    """Statistics of case durations, and the duration of every case when `per_case`
    (in working time under `calendar`)."""
    t = engine.tables(filters)
    cases = t.cases
    frame = None
    if calendar is not None:
        pairs = cases.select(CASE, start=cases.start_time, us=cases.duration_us)
        frame = working.measure(engine, pairs, t, calendar)
        row = working.aggregate(frame, frame.us.to_numpy(dtype="float64")).iloc[0]
    else:
        row = engine.execute(cases.aggregate(**duration_aggs(cases.duration_us))).iloc[0]
        if per_case:
            frame = engine.execute(cases.select(CASE, us=cases.duration_us))
    detail = None
    if per_case and frame is not None:
        values = to_seconds(frame.us.to_numpy(dtype="float64")).tolist()
        detail = dict(zip(frame[CASE].tolist(), values))
    return CaseDurations(DurationStats.from_row(row), detail)  # type: ignore[arg-type]


def _milestone_times(
    events: ir.Table, points: Sequence[tuple[str, Occurrence]]
) -> ir.Table:
    """Per case, the time of the first or last occurrence of each activity (m0, m1, ...)."""
    t = events.EventTime
    aggs = {
        f"m{i}": (t.min if occ == "first" else t.max)(where=events.ActivityName == ibis.literal(act))
        for i, (act, occ) in enumerate(points)
    }
    return events.group_by(CASE).aggregate(**aggs)


def _pairs(
    engine: Engine, filters: Iterable[Filter], points: Sequence[tuple[str, Occurrence]],
    calendar: CalendarSet | None = None,
) -> list[Between]:
    """Between-statistics for each consecutive pair of points, in one query."""
    t = engine.tables(filters)
    per = _milestone_times(t.events, points)
    if calendar is not None:
        row = working.pair_stats(engine, per, len(points), t, calendar)
    else:
        aggs: dict[str, ir.Scalar] = {}
        for i in range(len(points) - 1):
            d = per[f"m{i + 1}"].delta(per[f"m{i}"], unit="microsecond")
            aggs |= duration_aggs(ibis.ifelse(d >= 0, d, ibis.null("int64")), f"p{i}_")
            aggs[f"p{i}_reversed"] = (d < 0).sum()
        row = engine.execute(per.aggregate(**aggs)).iloc[0]
    return [
        Between(points[i][0], points[i + 1][0], points[i][1], points[i + 1][1],
                DurationStats.from_row(row, f"p{i}_"), whole(row[f"p{i}_reversed"]))
        for i in range(len(points) - 1)
    ]


def between(
    engine: Engine,
    source: str,
    target: str,
    filters: Iterable[Filter] = (),
    source_occurrence: Occurrence = "first",
    target_occurrence: Occurrence = "first",
    calendar: CalendarSet | None = None,
) -> Between:
    """Time from `source` to `target` per case (first or last occurrence of each)."""
    points = [(source, source_occurrence), (target, target_occurrence)]
    return _pairs(engine, filters, points, calendar)[0]


def throughput(
    engine: Engine, milestones: Sequence[str] | None = None, filters: Iterable[Filter] = (),
    calendar: CalendarSet | None = None,
) -> tuple[Between, ...]:
    """Time between consecutive milestones (first occurrences), by default the key happy path."""
    chosen = list(milestones or MILESTONES)
    if len(chosen) < 2:
        raise Lead2CashError("throughput needs at least two milestones", "name two or more activities")
    return tuple(_pairs(engine, filters, [(m, "first") for m in chosen], calendar))


def time_in_stage(
    engine: Engine, filters: Iterable[Filter] = (), stage: str = "SalesStage",
    calendar: CalendarSet | None = None,
) -> tuple[StageTime, ...]:
    """Per stage value, the time cases spend in it: from each event there to the next event."""
    t = engine.tables(filters)
    ev = t.events
    if stage not in ev.columns:
        raise Lead2CashError(f"time in stage: the log has no attribute '{stage}'",
                             "pass --stage with a column of the log, e.g. SalesStage or ActivityName")
    w = ibis.window(group_by=ev[CASE], order_by=[ev.EventTime, ev.event_id])
    x = ev.select(ev[CASE], stage=ev[stage].cast("string"), start=ev.EventTime,
                  us=ev.EventTime.lead().over(w).delta(ev.EventTime, unit="microsecond"))
    x = x.filter(x.stage.notnull() & x.us.notnull())
    per = x.group_by([CASE, "stage"]).aggregate(us=x.us.sum())
    frame = engine.execute(per.group_by("stage").aggregate(**duration_aggs(per.us)))
    if calendar is not None:
        frame = working.restat(engine, frame, x, t, calendar, ["stage"], per_case=True)
    rows = sorted(frame.to_dict("records"), key=lambda r: (-int(r["d_count"]), r["stage"]))
    return tuple(StageTime(r["stage"], DurationStats.from_row(r)) for r in rows)


def _repeats(t: LogTables) -> ir.Table:
    """Per case, activity and document (see DOCUMENT_ACTIVITIES): how often, when more than once."""
    e = t.events
    if "source_record" in e.columns:
        named = e.source_record.notnull() & e.source_record.re_search(DOCUMENT_RECORD)
        doc = ibis.ifelse(e.ActivityName.isin(list(DOCUMENT_ACTIVITIES)) & named.fill_null(False),
                          e.source_record, ibis.literal(""))
    else:
        doc = ibis.literal("")
    x = e.select(CASE, "ActivityName", doc=doc)
    per = x.group_by([CASE, "ActivityName", "doc"]).aggregate(n=x.count())
    return per.filter(per.n > 1)


def rework(engine: Engine, filters: Iterable[Filter] = ()) -> Rework:
    """Repeated activities (not counting a document activity's repeat on another document),
    stage regressions (see regression.py) and reopened deals."""
    t = engine.tables(filters)
    rep = _repeats(t)
    by_act = engine.execute(
        rep.group_by("ActivityName").aggregate(cases=rep[CASE].nunique(), extra=(rep.n - 1).sum())
    )
    s = t.steps
    marked = flag_regressions(steps_with_stage(s, t.events))
    back = marked.filter(marked.regression)
    totals = engine.execute(
        t.cases.aggregate(
            total=t.cases.count(),
            repeats=t.cases[CASE].isin(rep[CASE]).sum(),
            regressed=t.cases[CASE].isin(back[CASE]).sum(),
            reopened=t.cases[CASE].isin(s.filter(s.ActivityName == REOPENED)[CASE]).sum(),
            closed=t.cases[CASE].isin(s.filter(s.ActivityName.isin([WON, LOST]))[CASE]).sum(),
        )
    ).iloc[0]
    back_events = int(engine.execute(back.count()))
    repeated = sorted(
        (RepeatedActivity(a, int(c), int(x)) for a, c, x in
         zip(by_act.ActivityName, by_act.cases, by_act.extra)),
        key=lambda r: (-r.cases, -r.extra_events, r.activity),
    )
    return Rework(whole(totals.total), whole(totals.repeats), tuple(repeated),
                  whole(totals.regressed), back_events, whole(totals.reopened),
                  whole(totals.closed))


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    """Everything `mine performance` shows: durations, throughput, stages, rework, a pair."""

    case_durations: CaseDurations
    throughput: tuple[Between, ...]
    time_in_stage: tuple[StageTime, ...]
    rework: Rework
    between: Between | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_durations": self.case_durations.to_dict(),
            "throughput": [b.to_dict() for b in self.throughput],
            "time_in_stage": [s.to_dict() for s in self.time_in_stage],
            "rework": self.rework.to_dict(),
            "between": self.between.to_dict() if self.between else None,
        }


def report(
    engine: Engine,
    filters: Iterable[Filter] = (),
    milestones: Sequence[str] | None = None,
    stage: str = "SalesStage",
    pair: tuple[str, str] | None = None,
    occurrences: tuple[Occurrence, Occurrence] = ("first", "first"),
    calendar: CalendarSet | None = None,
) -> PerformanceReport:
    """All performance analyses of the filtered log in one result (durations in working time
    under `calendar`)."""
    chosen = tuple(filters)
    return PerformanceReport(
        case_durations(engine, chosen, calendar=calendar),
        throughput(engine, milestones, chosen, calendar),
        time_in_stage(engine, chosen, stage, calendar),
        rework(engine, chosen),
        between(engine, pair[0], pair[1], chosen, *occurrences, calendar=calendar) if pair else None,
    )
