"""Stage regressions, defined once for `performance.rework` and the KPIs' `regression_rate`.

An event is a regression when the deal moves back:

1. along the pipeline activities (Opportunity Created ... Opportunity Won): its activity
   comes earlier than one the case already did (Solution Proposed, then Requirements Gathered);
2. in the stage history, before the case's first Won/Lost (in time), a stage entry
   - into a `SalesStage` ranking below one entered before, by its system's pipeline order
     (`sources.defaults`), or
   - into a `SalesStage` the case had already entered (any stage, also custom ones).

A case regressed when it has at least one regression event. Two evaluations of this one
definition: `flag_regressions` marks each event (ordered windows; rework counts the events),
`case_aggregates` + `regressed` decide per case from plain aggregates (the KPIs' one grouped
pass, no window); tests check that they agree.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ..model import ACTIVITY_NAMES, HAPPY_PATH
from ..sources.defaults import DEFAULTS

__all__ = [
    "FUNNEL", "PIPELINE_RANK", "STAGE_ENTRIES", "case_aggregates", "decision_time",
    "flag_regressions", "regressed", "steps_with_stage", "with_ranks",
]

CASE, ACT, TIME, STAGE = "SalesOpportunityId", "ActivityName", "EventTime", "SalesStage"
WON, LOST = "Opportunity Won", "Opportunity Lost"
FUNNEL: tuple[str, ...] = HAPPY_PATH[: HAPPY_PATH.index(WON) + 1]
"""Pipeline activities in order, from Opportunity Created to Opportunity Won."""
STAGE_ENTRIES: tuple[str, ...] = (
    "Opportunity Qualified", "Requirements Gathered", "Solution Proposed", "Opportunity Stage Changed",
)
"""Activities read from the stage history: their SalesStage is the stage the deal entered."""
assert set(STAGE_ENTRIES) <= set(ACTIVITY_NAMES), STAGE_ENTRIES  # spelled as in the model
PIPELINE_RANK: dict[str, int] = {
    s.name: i for system in DEFAULTS.values() for i, s in enumerate(system.open_stages)
}
"""Each known open stage's position in its system's pipeline."""


def _rank(values: ir.Value, ranks: dict[str, int]) -> ir.Value:
    """A name's position from a mapping, null for names it does not hold."""
    return values.cases(*ranks.items(), else_=ibis.null("int64"))


def _open_entry(e: ir.Table, decided: ir.Value) -> ir.BooleanValue:
    """Whether each event is a stage entry before the case's first Won/Lost (`decided`)."""
    return (e[ACT].isin(list(STAGE_ENTRIES)) & e[STAGE].notnull()
            & (decided.isnull() | (e[TIME] < decided)))


def decision_time(e: ir.Table) -> ir.Value:
    """The case's first Won/Lost time, on every event (a window over the case)."""
    closing = ibis.ifelse(e[ACT].isin([WON, LOST]), e[TIME], ibis.null("timestamp"))
    return closing.min().over(ibis.window(group_by=e[CASE]))


def flag_regressions(e: ir.Table) -> ir.Table:
    """The events plus a boolean `regression` column.

    `e`: events with SalesOpportunityId, ActivityName, EventTime, `pos` (position in the case)
    and SalesStage when the log has it. A rank below the running maximum up to an event is
    below an earlier event's rank.
    """
    e = with_ranks(e, decision_time(e))
    upto = ibis.window(group_by=e[CASE], order_by=e.pos, rows=(None, 0))
    back = (e.rg_step < e.rg_step.max().over(upto)).fill_null(False)
    if "rg_entry" in e.columns:
        first = e.pos.min().over(ibis.window(group_by=[e[CASE], e.rg_entry]))
        back = back | (e.rg_entry.notnull() & (e.pos > first)) | (
            e.rg_known < e.rg_known.max().over(upto)).fill_null(False)
    return e.mutate(regression=back).drop(*(c for c in e.columns if c.startswith("rg_")))


_KNOWN_RANKS = max(PIPELINE_RANK.values()) + 1


def with_ranks(e: ir.Table, decided: ir.Value) -> ir.Table:
    """The events plus the columns `case_aggregates` reads, computed once per event: `rg_step`
    (pipeline activity rank), and for stage entries before `decided`, `rg_entry` (the stage)
    and `rg_known` (its pipeline rank)."""
    e = e.mutate(rg_step=_rank(e[ACT], {a: i for i, a in enumerate(FUNNEL)}))
    if STAGE not in e.columns:
        return e
    e = e.mutate(rg_entry=ibis.ifelse(_open_entry(e, decided), e[STAGE], ibis.null("string")))
    return e.mutate(rg_known=_rank(e.rg_entry, PIPELINE_RANK))


def case_aggregates(e: ir.Table) -> dict[str, ir.Scalar]:
    """Per-case aggregates over `with_ranks` events (for one group_by) that `regressed` reads:
    first and last position of each pipeline activity and of each known stage rank entered,
    and the number of stage entries and of distinct stages entered."""
    aggs: dict[str, ir.Scalar] = {}
    for i in range(len(FUNNEL)):
        aggs |= {f"rg_first_{i}": e.pos.min(where=e.rg_step == i),
                 f"rg_last_{i}": e.pos.max(where=e.rg_step == i)}
    if "rg_entry" in e.columns:
        for r in range(_KNOWN_RANKS):
            aggs |= {f"rg_kfirst_{r}": e.pos.min(where=e.rg_known == r),
                     f"rg_klast_{r}": e.pos.max(where=e.rg_known == r)}
        aggs |= {"rg_entries": e.rg_entry.count(), "rg_stages": e.rg_entry.nunique()}
    return aggs


def _moved_back(cases: pd.DataFrame, first: str, last: str, n: int) -> np.ndarray:
    """Whether some rank's last position comes after a higher rank's first position."""
    lo = cases[[f"{first}_{i}" for i in range(n)]].to_numpy(dtype=float)
    hi = cases[[f"{last}_{i}" for i in range(n)]].to_numpy(dtype=float)
    reached = np.fmax.accumulate(hi, axis=1)  # latest position of any lower-or-equal rank
    with np.errstate(invalid="ignore"):
        return (reached[:, :-1] > lo[:, 1:]).any(axis=1)


def regressed(cases: pd.DataFrame) -> np.ndarray:
    """Whether each case (a frame of `case_aggregates` columns) has a regression event."""
    out = _moved_back(cases, "rg_first", "rg_last", len(FUNNEL))
    if "rg_entries" in cases.columns:
        out |= _moved_back(cases, "rg_kfirst", "rg_klast", _KNOWN_RANKS)
        out |= cases["rg_entries"].to_numpy() > cases["rg_stages"].to_numpy()
    return out


def steps_with_stage(steps: ir.Table, events: ir.Table) -> ir.Table:
    """The mining steps (see derived.py) with their event's SalesStage when the log has it."""
    if STAGE not in events.columns:
        return steps
    return steps.join(events.select(CASE, "event_id", STAGE), [CASE, "event_id"])
