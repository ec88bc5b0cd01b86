"""Stage regressions, defined once for `performance.rework` and the KPIs' `regression_rate`.

An event is a regression when the deal moves back:

- along the pipeline activities (Opportunity Created ... Opportunity Won): its activity
  comes earlier than one the case already did (Solution Proposed, then Requirements Gathered);
- in the stage history, before the case's first Won/Lost: it enters a `SalesStage` that
  ranks below the furthest stage entered so far. Stages rank by their source system's
  pipeline order (`sources.defaults`) and, for any stage (also custom ones), by the order
  the case first reached them, so re-entering an earlier stage counts, repeating the
  current one does not.

A case regressed when it has at least one regression event.
"""

from __future__ import annotations

import functools
import operator

import ibis
import ibis.expr.types as ir

from ..model import ACTIVITY_NAMES, HAPPY_PATH
from ..sources.defaults import DEFAULTS

__all__ = ["FUNNEL", "PIPELINE_RANK", "STAGE_ENTRIES", "flag_regressions", "flag_steps"]

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


def flag_regressions(e: ir.Table) -> ir.Table:
    """The events (with SalesOpportunityId, ActivityName, EventTime and `pos`, the position in
    the case; SalesStage when the log has it) plus a boolean `regression` column."""
    ranks = ["_step"]
    e = e.mutate(_step=_rank(e[ACT], {a: i for i, a in enumerate(FUNNEL)}))
    if STAGE in e.columns:
        closing = ibis.ifelse(e[ACT].isin([WON, LOST]), e[TIME], ibis.null("timestamp"))
        decided = closing.min().over(ibis.window(group_by=e[CASE]))
        entry = e[ACT].isin(list(STAGE_ENTRIES)) & (decided.isnull() | (e[TIME] < decided))
        e = e.mutate(_entered=ibis.ifelse(entry, e[STAGE], ibis.null("string")))
        first = e.pos.min().over(ibis.window(group_by=[e[CASE], e._entered]))
        e = e.mutate(_first=ibis.ifelse(e._entered.notnull(), first, ibis.null("int64")),
                     _known=_rank(e._entered, PIPELINE_RANK))
        ranks += ["_first", "_known"]
    before = ibis.window(group_by=e[CASE], order_by=e.pos, rows=(None, -1))
    back = functools.reduce(operator.or_, [(e[r] < e[r].max().over(before)).fill_null(False)
                                           for r in ranks])
    return e.mutate(regression=back).drop(*ranks, *(["_entered"] if "_entered" in e.columns else []))


def flag_steps(steps: ir.Table, events: ir.Table) -> ir.Table:
    """The mining steps (see derived.py) with their event's SalesStage, flagged as above."""
    if STAGE in events.columns:
        steps = steps.join(events.select(CASE, "event_id", STAGE), [CASE, "event_id"])
    return flag_regressions(steps)
