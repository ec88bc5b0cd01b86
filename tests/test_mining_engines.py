"""Every analysis gives identical results on DuckDB and on Spark (local mode).

`ANALYSES` is the registry: add a (name, callable) pair and it runs on both
engines. The log is the seeded synthetic one: microsecond times, ties,
shuffled rows, rework, reopened and open deals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from mining_log import load_frame, synthetic_frame

from lead2cash.conformance import Rule, align_log, check_rules, replay_log
from lead2cash.mining import DuckDBEngine, Engine, SparkEngine, dfg, kpis, parse_filters, performance
from lead2cash.mining.activity_times import activity_times
from lead2cash.mining.compare import compare
from lead2cash.mining.drivers import drivers
from lead2cash.mining.calendar import load_calendars
from lead2cash.mining import variants as variants_mod
from lead2cash.store import Workspace

FILTERS = (
    "SalesRegion = 'EMEA' and has 'Quote Issued' and duration > 30d",
    "not follows 'Opportunity Lost' -> 'Opportunity Reopened' and OpportunityAmount >= 20000",
    "started from 2024-03-01 to 2024-08-01 and closed",
    "active from 2024-06-01 to 2024-06-15 and outcome in ('Won', 'Lost')",
)
EVENT_FILTERS = (
    "drop activities ('Opportunity Qualified') and merge ('Quote Issued', 'Quote Accepted') -> "
    "'Quote' and has 'Quote'",
    "keep events SalesStage != 'Proposal/Quote' and rename 'Opportunity Won' -> 'Won' and closed",
)
Analysis = Callable[[Engine], Any]


def _untimed(d: dict[str, Any]) -> dict[str, Any]:
    """An alignment report without the seconds each variant took (not a result)."""
    return d | {"variant_details": [{k: v for k, v in x.items() if k != "seconds"}
                                    for x in d["variant_details"]]}

NOW = datetime(2025, 1, 1)  # KPIs' freshness is measured against this fixed "now"

ANALYSES: list[tuple[str, Analysis]] = [
    ("process map", lambda e: dfg.discover(e).to_dict()),
    ("process map, 60% activities, 40% paths",
     lambda e: dfg.discover(e, activities=0.6, paths=0.4).to_dict()),
    ("variants", lambda e: variants_mod.discover(e).to_dict()),
    ("variants covering 80%", lambda e: variants_mod.discover(e, coverage=0.8).to_dict()),
    ("case durations per case", lambda e: performance.case_durations(e, per_case=True).to_dict()),
    ("quote (last) to won", lambda e: performance.between(
        e, "Quote Issued", "Opportunity Won", source_occurrence="last").to_dict()),
    ("throughput", lambda e: [b.to_dict() for b in performance.throughput(e)]),
    ("time in stage", lambda e: [s.to_dict() for s in performance.time_in_stage(e)]),
    ("rework", lambda e: performance.rework(e).to_dict()),
    *(
        (f"filtered: {text}", lambda e, text=text: {
            "map": dfg.discover(e, parse_filters([text])).to_dict(),
            "variants": variants_mod.discover(e, parse_filters([text])).to_dict(),
            "rework": performance.rework(e, parse_filters([text])).to_dict(),
        })
        for text in FILTERS
    ),
    ("kpis", lambda e: kpis.report(e, now=NOW).to_dict()),
    ("kpis by region and amount band, working time (de)", lambda e: kpis.report(
        e, by="SalesRegion", amount_bands=[20000, 60000], calendar=load_calendars("de"),
        now=NOW).to_dict()),
    ("kpis filtered, by owner", lambda e: kpis.report(
        e, parse_filters([FILTERS[0]]), by="OpportunityOwner", now=NOW).to_dict()),
    ("working time (de): process map, 60% activities", lambda e: dfg.discover(
        e, activities=0.6, calendar=load_calendars("de")).to_dict()),
    ("working time (us): variants", lambda e: variants_mod.discover(
        e, calendar=load_calendars("us")).to_dict()),
    ("working time (de): performance, filtered", lambda e: performance.report(
        e, parse_filters([FILTERS[2]]), pair=("Quote Issued", "Opportunity Won"),
        calendar=load_calendars("de")).to_dict()),
    ("working time (uk): case durations per case", lambda e: performance.case_durations(
        e, per_case=True, calendar=load_calendars("uk")).to_dict()),
    ("conformance rules (built-in)", lambda e: check_rules(e).to_dict()),
    ("conformance rules, filtered", lambda e: check_rules(e, filters=parse_filters([FILTERS[1]])).to_dict()),
    ("token replay (reference model), per case", lambda e: replay_log(e, per_case=True).to_dict()),
    ("alignments (reference model), per case", lambda e: _untimed(
        align_log(e, time_limit=60.0, per_case=True).to_dict())),
    *((f"drivers of {t}", lambda e, t=t: drivers(e, target=t, min_cases=3).to_dict())
      for t in ("lost", "slow", "late-payment")),
    ("drivers of a rule", lambda e: drivers(e, target=Rule(
        "reopened", "absence", "Opportunity Reopened"), min_cases=3).to_dict()),
    ("compare two filters", lambda e: compare(
        e, parse_filters(["SalesRegion = 'EMEA'"]), parse_filters(["SalesRegion = 'APAC'"]),
        now=NOW).to_dict()),
    *((f"event filters: {text}", lambda e, text=text: {
        "map": dfg.discover(e, parse_filters([text])).to_dict(),
        "variants": variants_mod.discover(e, parse_filters([text])).to_dict(),
        "rework": performance.rework(e, parse_filters([text])).to_dict(),
        "kpis": kpis.report(e, parse_filters([text]), now=NOW).to_dict(),
    }) for text in EVENT_FILTERS),
    ("activity times", lambda e: [a.to_dict() for a in activity_times(e)]),
    ("filtered: variant and open", lambda e: performance.case_durations(
        e, parse_filters(["not variant = ['Opportunity Created', 'Opportunity Qualified']",
                          "not closed"]), per_case=True).to_dict()),
]


@pytest.fixture(scope="module")
def workspace_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The synthetic log loaded into a workspace file."""
    path = tmp_path_factory.mktemp("engines") / "log.duckdb"
    with Workspace(path, memory_limit="1GB") as ws:
        load_frame(ws, synthetic_frame())
    yield path


@pytest.fixture(scope="module")
def duck(workspace_path: Path) -> Iterator[DuckDBEngine]:
    """The DuckDB engine on the workspace."""
    with Workspace(workspace_path, read_only=True) as ws:
        yield DuckDBEngine(ws)


@pytest.fixture(scope="module")
def spark(workspace_path: Path) -> Iterator[SparkEngine]:
    """The same log exported to Parquet and read by the shared local Spark session."""
    with Workspace(workspace_path, read_only=True) as ws:
        with SparkEngine.from_workspace(ws) as engine:
            yield engine


@pytest.mark.parametrize(("name", "analysis"), ANALYSES, ids=[n for n, _ in ANALYSES])
def test_duckdb_gives_a_non_trivial_answer(duck: DuckDBEngine, name: str, analysis: Analysis) -> None:
    result = analysis(duck)
    assert result and result == analysis(duck)  # deterministic, and not empty


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize(("name", "analysis"), ANALYSES, ids=[n for n, _ in ANALYSES])
def test_spark_equals_duckdb(duck: DuckDBEngine, spark: SparkEngine, name: str,
                             analysis: Analysis) -> None:
    assert analysis(spark) == analysis(duck)
