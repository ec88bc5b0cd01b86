"""Process map simplification, variants, performance and `lead2cash mine` on logs small
enough to work out by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from mining_log import load_frame, synthetic_frame
from typer.testing import CliRunner

from lead2cash.cli import app
from lead2cash.errors import Lead2CashError
from lead2cash.io.export import export_log
from lead2cash.mining import Activity, DuckDBEngine, derived, dfg, performance, process_map, variant_stats
from lead2cash.mining.dfg import END, START, ProcessMap
from lead2cash.store import Workspace

DAY = 86400.0
T0 = datetime(2024, 3, 1, 9, 0)
# case: [(day offset, activity, outcome)]
HAND = {
    "A": [(0, "Opportunity Created", None), (1, "Opportunity Qualified", None),
          (2, "Quote Issued", None), (3, "Quote Issued", None),
          (4, "Requirements Gathered", None), (5, "Opportunity Won", "Won")],
    "B": [(0, "Opportunity Created", None), (2, "Opportunity Lost", "Lost"),
          (3, "Opportunity Reopened", None), (4, "Quote Issued", None),
          (6, "Opportunity Won", "Won")],
    "C": [(0, "Opportunity Created", None), (1, "Opportunity Qualified", None)],
}


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBEngine, Path]]:
    """The hand log in a workspace file."""
    rows = [{"SalesOpportunityId": c, "ActivityName": a, "EventTime": T0 + timedelta(days=d),
             "OpportunityOutcome": o} for c, evs in HAND.items() for d, a, o in evs]
    frame = pd.DataFrame(rows).assign(event_id=lambda f: range(len(f)))
    path = tmp_path_factory.mktemp("hand") / "log.duckdb"
    with Workspace(path, memory_limit="1GB") as ws:
        load_frame(ws, frame)
    with Workspace(path, read_only=True) as ws:  # read-only, like the CLI, so both can open it
        yield DuckDBEngine(ws), path


def test_between_first_and_last_occurrence(hand: tuple[DuckDBEngine, Path]) -> None:
    engine = hand[0]
    first = performance.between(engine, "Opportunity Created", "Quote Issued")
    last = performance.between(engine, "Opportunity Created", "Quote Issued", target_occurrence="last")
    assert (first.duration.count, first.duration.mean_s, first.duration.max_s) == (2, 3 * DAY, 4 * DAY)
    assert (last.duration.mean_s, last.duration.min_s) == (3.5 * DAY, 3 * DAY)
    back = performance.between(engine, "Quote Issued", "Opportunity Qualified")
    assert back.reversed_cases == 1 and back.duration.count == 0


def test_throughput_between_key_milestones(hand: tuple[DuckDBEngine, Path]) -> None:
    steps = {(b.source, b.target): b.duration for b in performance.throughput(hand[0])}
    assert steps[("Opportunity Created", "Opportunity Qualified")].count == 2
    assert steps[("Opportunity Created", "Opportunity Qualified")].mean_s == DAY
    assert steps[("Quote Issued", "Opportunity Won")].mean_s == 2.5 * DAY
    assert steps[("Quote Issued", "Opportunity Won")].p90_s == pytest.approx(2.9 * DAY)
    assert steps[("Opportunity Won", "Sales Order Created")].count == 0


def test_time_in_stage_sums_each_visit_per_case(hand: tuple[DuckDBEngine, Path]) -> None:
    stages = {s.stage: s.duration for s in performance.time_in_stage(hand[0], stage="ActivityName")}
    created = stages["Opportunity Created"]
    assert (created.count, created.mean_s, created.median_s, created.max_s) == (3, 4 / 3 * DAY, DAY, 2 * DAY)
    assert (stages["Quote Issued"].count, stages["Quote Issued"].mean_s) == (2, 2 * DAY)
    assert "Opportunity Won" not in stages  # always last: no time measured after it


def test_rework_repeats_regressions_reopens(hand: tuple[DuckDBEngine, Path]) -> None:
    r = performance.rework(hand[0]).to_dict()
    assert r["total_cases"] == 3
    assert r["repeated_activities"] == [{"activity": "Quote Issued", "cases": 1, "extra_events": 1}]
    assert (r["cases_with_regression"], r["regression_events"]) == (1, 1)  # A: quote -> requirements
    # Reopen rate over the cases ever closed (A and B), as the KPIs define it.
    assert (r["reopened_cases"], r["ever_closed_cases"], r["reopen_rate"]) == (1, 2, 0.5)


def test_activity_share_projects_the_log(hand: tuple[DuckDBEngine, Path]) -> None:
    pm = process_map(hand[0], activities=0.5)
    assert [a.activity for a in pm.activities] == [
        "Opportunity Created", "Quote Issued", "Opportunity Qualified", "Opportunity Won"]
    edges = {(e.source, e.target): (e.frequency, e.duration.mean_s) for e in pm.edges}
    assert edges == {
        ("Opportunity Created", "Opportunity Qualified"): (2, DAY),
        ("Opportunity Qualified", "Quote Issued"): (1, DAY),
        ("Quote Issued", "Quote Issued"): (1, DAY),
        ("Quote Issued", "Opportunity Won"): (2, 2 * DAY),
        ("Opportunity Created", "Quote Issued"): (1, 4 * DAY),  # B, once Lost/Reopened are hidden
    }
    assert pm.end_activities == {"Opportunity Won": 2, "Opportunity Qualified": 1}


def _connected(pm: ProcessMap) -> bool:
    """Every activity lies on a path from the start to the end of the map."""
    edges = [(e.source, e.target) for e in pm.edges]
    edges += [(START, a) for a in pm.start_activities] + [(a, END) for a in pm.end_activities]
    nodes = {a.activity for a in pm.activities}

    def reach(root: str, forward: bool) -> set[str]:
        seen, todo = {root}, [root]
        while todo:
            n = todo.pop()
            for s, t in edges:
                a, b = (s, t) if forward else (t, s)
                if a == n and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    return nodes <= reach(START, True) and nodes <= reach(END, False)


@pytest.mark.parametrize("paths", [0.01, 0.2, 0.5, 1.0])
def test_path_share_keeps_the_map_connected(tmp_path: Path, paths: float) -> None:
    with Workspace(tmp_path / "s.duckdb", memory_limit="1GB") as ws:
        load_frame(ws, synthetic_frame(cases=80, seed=3))
        full = process_map(ws)
        simple = process_map(ws, paths=paths)
    assert _connected(simple)
    assert len(simple.edges) <= len(full.edges)
    assert paths < 1.0 or simple == full
    if paths == 0.01:  # the strongest edges only: far fewer than all of them
        assert len(simple.edges) < len(full.edges) // 2


def test_variants_top_and_coverage(hand: tuple[DuckDBEngine, Path]) -> None:
    everything = variant_stats(hand[0])
    assert everything.total_variants == 3 and [v.cases for v in everything.variants] == [1, 1, 1]
    assert variant_stats(hand[0], top=2).coverage == round(2 / 3, 9)
    assert len(variant_stats(hand[0], coverage=0.5).variants) == 2
    first = everything.variants[0]  # ties in count sort by the trace itself
    assert first.activities[:2] == ("Opportunity Created", "Opportunity Lost")
    assert first.duration.mean_s == 6 * DAY


def test_cli_json_equals_the_api(hand: tuple[DuckDBEngine, Path]) -> None:
    engine, path = hand
    runner = CliRunner()
    for argv, expected in [
        (["dfg"], dfg.discover(engine).to_dict()),
        (["variants", "--top", "2"], variant_stats(engine, top=2).to_dict()),
        (["performance", "--stage", "ActivityName", "-f", "has 'Quote Issued'"],
         performance.report(engine, [Activity("Quote Issued")], stage="ActivityName").to_dict()),
    ]:
        out = runner.invoke(app, ["mine", *argv, "--db", str(path), "--json"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.output) == json.loads(json.dumps(expected))


def test_cli_reports_bad_filters_without_traceback(hand: tuple[DuckDBEngine, Path]) -> None:
    run = subprocess.run(
        [sys.executable, "-c", "from lead2cash.cli import main; main()", "mine", "variants",
         "--db", str(hand[1]), "--filter", "duration > soon"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 2
    assert "character 12" in run.stderr and "fix:" in run.stderr and "Traceback" not in run.stderr


def test_case_counts_of_activities_and_edges(tmp_path: Path) -> None:
    frame = synthetic_frame(cases=50, seed=5)
    with Workspace(tmp_path / "c.duckdb", memory_limit="1GB") as ws:
        load_frame(ws, frame)
        pm = process_map(ws)
    traces = [list(g.ActivityName) for _, g in
              frame.sort_values(["EventTime", "event_id"]).groupby("SalesOpportunityId")]
    acts = {a.activity: a.cases for a in pm.activities}
    edges = {(e.source, e.target): e.cases for e in pm.edges}
    assert acts == {a: sum(a in t for t in traces) for a in acts}
    assert edges == {p: sum(p in set(zip(t, t[1:])) for t in traces) for p in edges}
    assert any(e.cases < e.frequency for e in pm.edges)  # repeated pairs are counted once per case


def test_parquet_export_mines_like_the_workspace(hand: tuple[DuckDBEngine, Path], tmp_path: Path) -> None:
    engine = hand[0]
    export_log(engine.workspace, tmp_path / "log.parquet")
    with DuckDBEngine.from_parquet(tmp_path / "log.parquet", memory_limit="500MB") as direct:
        assert process_map(direct) == process_map(engine)
        assert variant_stats(direct) == variant_stats(engine)
        assert performance.rework(direct) == performance.rework(engine)
    bare = tmp_path / "bare.parquet"
    engine.workspace.con.execute(f"COPY (SELECT * EXCLUDE (event_id) FROM events) TO '{bare}'")
    with pytest.raises(Lead2CashError, match=r"missing event_id") as err:
        DuckDBEngine.from_parquet(bare)
    assert "export" in (err.value.hint or "")


def test_every_load_builds_the_derived_tables(tmp_path: Path) -> None:
    path = tmp_path / "d.duckdb"
    frame = synthetic_frame(cases=30, seed=2)
    with Workspace(path, memory_limit="1GB") as ws:
        load_frame(ws, frame)  # through Workspace.replace_log, like import and extract
        assert derived.is_derived(ws.con)
        counts = ws.con.execute(
            f"SELECT (SELECT count(*) FROM {derived.STEPS}), (SELECT count(*) FROM {derived.CASES})"
        ).fetchall()[0]
        assert counts == (len(frame), frame.SalesOpportunityId.nunique())
        with ws.transaction() as con:  # as a log loaded by an older version
            for table in (derived.STEPS, derived.CASES, derived.VARIANT_STEPS):
                con.execute(f"DROP TABLE {table}")
    with Workspace(path, read_only=True) as ws, pytest.raises(Lead2CashError) as err:
        DuckDBEngine(ws)
    assert "no derived mining tables" in err.value.message and "re-import" in (err.value.hint or "")
    with Workspace(path) as ws:  # writable: the engine rebuilds them itself
        assert variant_stats(DuckDBEngine(ws)).total_cases == 30
