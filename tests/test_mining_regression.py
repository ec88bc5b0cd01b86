"""One definition of a stage regression (mining/regression.py): `rework` and the KPIs agree,
on a hand-built log covering each rule and on the simulator's ground truth."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import ibis
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kpi_log import load_simulated
from mining_log import load_frame

from lead2cash.mining import DuckDBEngine, performance
from lead2cash.mining.derived import steps_expr
from lead2cash.mining.kpis import kpis
from lead2cash.mining.regression import (
    FUNNEL,
    case_aggregates,
    decision_time,
    flag_regressions,
    regressed,
    steps_with_stage,
    with_ranks,
)
from lead2cash.simulate.params import SimulationParams
from lead2cash.store import Workspace

CREATED, QUALIFIED, CHANGED = "Opportunity Created", "Opportunity Qualified", "Opportunity Stage Changed"
# case: [(activity, SalesStage)], one day apart
HAND = {
    # back to a Salesforce stage it never entered: pipeline order says it is earlier
    "R1": [(CREATED, "Prospecting"), (CHANGED, "Needs Analysis"), (CHANGED, "Qualification")],
    # custom stages: back to one entered before
    "R2": [(CREATED, "Alpha"), (CHANGED, "Alpha"), (CHANGED, "Beta"), (CHANGED, "Alpha")],
    # a stage entered again, even right after itself
    "R4": [(CREATED, "Beta"), (CHANGED, "Beta"), (CHANGED, "Beta")],
    # after the deal was lost, re-entering a stage is a reopening, not a regression
    "N2": [(QUALIFIED, "Qualification"), (CHANGED, "Needs Analysis"),
           ("Opportunity Lost", "Closed Lost"), (CHANGED, "Qualification")],
    # pipeline activities out of order (no stage history)
    "R3": [(CREATED, None), ("Solution Proposed", None), ("Requirements Gathered", None)],
}


def _rates(ws: Workspace) -> tuple[dict[str, object], dict[str, object]]:
    """rework() through the engine and the KPIs on the events table, as dicts."""
    rework = performance.rework(DuckDBEngine(ws)).to_dict()
    return rework, kpis(ibis.duckdb.from_connection(ws.con).table("events")).to_dict()


def test_each_rule_on_a_hand_log(tmp_path: Path) -> None:
    t0 = datetime(2024, 5, 1)
    rows = [{"SalesOpportunityId": c, "ActivityName": a, "SalesStage": s,
             "EventTime": t0 + timedelta(days=i)} for c, evs in HAND.items()
            for i, (a, s) in enumerate(evs)]
    with Workspace(tmp_path / "log.duckdb", memory_limit="1GB") as ws:
        load_frame(ws, pd.DataFrame(rows).assign(event_id=lambda f: range(len(f))))
        rework, kpi = _rates(ws)
    assert (rework["cases_with_regression"], rework["regression_events"]) == (4, 4)
    assert rework["regression_rate"] == 0.8
    assert (kpi["regressed_cases"], kpi["regression_rate"]) == (4, 0.8)


def test_rework_and_kpis_agree_on_the_simulator_ground_truth(tmp_path: Path) -> None:
    with Workspace(tmp_path / "log.duckdb", memory_limit="1GB") as ws:
        load_simulated(ws, tmp_path, 2000, 5)
        rework, kpi = _rates(ws)
    assert rework["cases_with_regression"] == kpi["regressed_cases"]
    assert rework["regression_rate"] == pytest.approx(kpi["regression_rate"])
    configured = SimulationParams().regression_rate  # of deals past the first stage
    assert configured / 2 < kpi["regression_rate"] < configured * 1.2


STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Alpha", "Beta", None)
ACTS = (*FUNNEL, "Opportunity Lost", "Opportunity Reopened", CHANGED, CHANGED)
logs = st.lists(  # cases: events as (activity, stage, hour); equal hours are ties
    st.lists(st.tuples(st.sampled_from(ACTS), st.sampled_from(STAGES), st.integers(0, 6)),
             min_size=1, max_size=9),
    min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(cases=logs)
def test_per_event_and_per_case_evaluations_agree(cases: list[list[tuple[str, str | None, int]]]) -> None:
    """Rework's per-event flags and the KPIs' per-case aggregates find the same cases."""
    rows = [{"SalesOpportunityId": f"C{c}", "ActivityName": a, "SalesStage": s,
             "EventTime": datetime(2024, 1, 1) + timedelta(hours=h)}
            for c, evs in enumerate(cases) for a, s, h in evs]
    frame = pd.DataFrame(rows).assign(event_id=lambda f: range(len(f)))
    events = ibis.memtable(frame).cast({"EventTime": "timestamp(6)"})
    flagged = flag_regressions(steps_with_stage(steps_expr(events), events))
    by_event = set(flagged.filter(flagged.regression).SalesOpportunityId.to_pyarrow().to_pylist())
    e = steps_with_stage(steps_expr(events), events)
    e = with_ranks(e, decision_time(e))
    facts = e.group_by("SalesOpportunityId").aggregate(**case_aggregates(e)).to_pandas()
    assert by_event == set(facts.loc[regressed(facts), "SalesOpportunityId"])
