"""The mining core against pm4py (test-only oracle) on every real log in ../shared/data.

Each log goes through the product's importer into a workspace once; pm4py
reads the same file its own way; then the process map, start/end activities,
variants and case durations must equal pm4py's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from pm4py_logs import pm4py_frame

from lead2cash.io.importer import import_log
from lead2cash.mining import DuckDBEngine, case_durations, process_map, variant_stats
from lead2cash.store import Workspace

pm4py = pytest.importorskip("pm4py")

LOGS = ["receipt.csv", "helpdesk.xes.gz", "running-example.xes", "roadtraffic100traces.xes",
        pytest.param("bpic2012.xes.gz", marks=pytest.mark.slow)]  # 262k events: slow tier
# (cases, variants, directly-follows edges) published in ../shared/data/README.md where given.
PUBLISHED = {"receipt.csv": (1434, 116, None), "helpdesk.xes.gz": (4580, 226, None),
             "bpic2012.xes.gz": (13087, 4366, 125), "running-example.xes": (6, None, None)}


@dataclass
class Loaded:
    """One real log in a workspace and the same log as pm4py's frame."""

    engine: DuckDBEngine
    frame: pd.DataFrame


@pytest.fixture(scope="module", params=LOGS)
def loaded(request: pytest.FixtureRequest, shared_data: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """Each real log imported into its own workspace, with pm4py's frame beside it."""
    path = shared_data / request.param
    frame = pm4py_frame(path)
    ws = Workspace(tmp_path_factory.mktemp("oracle") / "log.duckdb", memory_limit="2GB")
    import_log(ws, path)
    yield Loaded(DuckDBEngine(ws), frame)
    ws.close()


def test_dfg_counts_and_mean_durations(loaded: Loaded) -> None:
    pm = process_map(loaded.engine)
    counts, _, _ = pm4py.discover_dfg(loaded.frame)
    perf, _, _ = pm4py.discover_performance_dfg(loaded.frame)
    ours = {(e.source, e.target): e for e in pm.edges}
    assert {k: e.frequency for k, e in ours.items()} == dict(counts)
    for key, edge in ours.items():
        assert edge.duration.mean_s == pytest.approx(perf[key]["mean"], rel=1e-9, abs=1e-6)
        assert edge.duration.median_s == pytest.approx(perf[key]["median"], rel=1e-9, abs=1e-6)
        assert edge.duration.max_s == pytest.approx(perf[key]["max"], rel=1e-9, abs=1e-6)
    activity_counts = pm4py.get_event_attribute_values(loaded.frame, "concept:name")
    assert {a.activity: a.events for a in pm.activities} == dict(activity_counts)


def test_start_and_end_activities(loaded: Loaded) -> None:
    pm = process_map(loaded.engine)
    assert pm.start_activities == dict(pm4py.get_start_activities(loaded.frame))
    assert pm.end_activities == dict(pm4py.get_end_activities(loaded.frame))


def test_variants_and_counts(loaded: Loaded) -> None:
    result = variant_stats(loaded.engine)
    expected = {tuple(k): v for k, v in pm4py.get_variants(loaded.frame).items()}
    assert {v.activities: v.cases for v in result.variants} == expected
    assert result.total_cases == loaded.frame["case:concept:name"].nunique()
    assert result.coverage == 1.0


def test_case_durations(loaded: Loaded) -> None:
    ours = case_durations(loaded.engine, per_case=True)
    theirs = sorted(pm4py.get_all_case_durations(loaded.frame))
    assert ours.per_case is not None
    assert sorted(ours.per_case.values()) == pytest.approx(theirs, abs=1e-6)
    assert ours.duration.mean_s == pytest.approx(sum(theirs) / len(theirs), rel=1e-9)


def test_published_figures(loaded: Loaded, request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.params["loaded"]
    cases, n_variants, n_edges = PUBLISHED.get(name, (None, None, None))
    result = variant_stats(loaded.engine)
    assert cases is None or result.total_cases == cases
    assert n_variants is None or result.total_variants == n_variants
    assert n_edges is None or len(process_map(loaded.engine).edges) == n_edges
