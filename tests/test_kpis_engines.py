"""The KPIs give identical results on DuckDB and on Spark (local mode), sliced and in working time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from kpi_log import load_simulated, write_log

from lead2cash.mining import DuckDBEngine, SparkEngine
from lead2cash.mining.calendar import load_calendars
from lead2cash.mining.filter_language import parse_filters
from lead2cash.mining.kpis import kpis
from lead2cash.store import Workspace

pytestmark = [pytest.mark.spark, pytest.mark.slow]

NOW = datetime(2024, 3, 7)
CASES = {
    "whole log": {},
    "by region, amount bands": {"by": "SalesRegion", "amount_bands": [25000, 60000]},
    "by owner, working time (us)": {"by": "OpportunityOwner", "calendar": "us"},
    "filtered": {"filters": ["SalesRegion != 'APAC'"]},
}


@pytest.fixture(scope="module", params=["hand-built", "simulated"])
def engines(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DuckDBEngine, SparkEngine]]:
    """A log on DuckDB and the same log exported to Spark."""
    folder = tmp_path_factory.mktemp("kpis")
    ws = Workspace(folder / "log.duckdb", memory_limit="1GB")
    if request.param == "hand-built":
        write_log(ws)
    else:
        load_simulated(ws, folder, 600, 3)
    yield DuckDBEngine(ws), SparkEngine.from_workspace(ws)
    ws.close()


def _run(engine: DuckDBEngine | SparkEngine, case: dict[str, Any]) -> dict[str, Any]:
    """The KPI report of one engine for one parameter set, as JSON data."""
    cal = load_calendars(case["calendar"]) if "calendar" in case else None
    events = engine.events(parse_filters(case.get("filters", [])))
    return kpis(events, case.get("by"), case.get("amount_bands", ()), cal, now=NOW).to_dict()


@pytest.mark.parametrize("name", list(CASES))
def test_duckdb_and_spark_agree(engines: tuple[DuckDBEngine, SparkEngine], name: str) -> None:
    duck, spark = engines
    a, b = _run(duck, CASES[name]), _run(spark, CASES[name])
    assert a["cases"] > 0 and a["win_rate"] is not None
    assert a == b
