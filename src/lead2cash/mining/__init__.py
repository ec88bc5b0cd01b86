"""Mining: analyses of one event log (process map, variants, performance, KPIs, working time,
drivers of a target, comparison of two filters, activity times).

Every analysis takes an engine, an open workspace or a workspace path, plus
typed filters; it runs as Ibis queries on DuckDB or Spark and returns frozen
dataclasses with `to_dict()` for JSON.

    >>> from lead2cash.mining import process_map, Attribute
    >>> pm = process_map("lead2cash.duckdb", [Attribute("SalesRegion", "=", "EMEA")])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from . import activity_times as _activity_times
from . import compare as _compare
from . import dfg, kpis, performance
from . import drivers as _drivers
from . import variants as _variants
from .engine import DuckDBEngine, Engine, Source, SparkEngine, spark_session, using
from .event_filters import EventCondition, KeepEvents, Lifecycle, RenameActivities
from .filter_language import parse_filter, parse_filters
from .filters import (
    Activity,
    Attribute,
    CaseDuration,
    Closed,
    Filter,
    Follows,
    LogTables,
    Not,
    Outcome,
    TimeWindow,
    Variant,
)

__all__ = [
    "Activity",
    "Attribute",
    "CaseDuration",
    "Closed",
    "DuckDBEngine",
    "Engine",
    "EventCondition",
    "Filter",
    "Follows",
    "KeepEvents",
    "Lifecycle",
    "LogTables",
    "Not",
    "Outcome",
    "RenameActivities",
    "Source",
    "SparkEngine",
    "TimeWindow",
    "Variant",
    "activity_durations",
    "between",
    "case_durations",
    "compare_cases",
    "find_drivers",
    "kpi_report",
    "parse_filter",
    "parse_filters",
    "process_map",
    "rework",
    "spark_session",
    "throughput",
    "time_in_stage",
    "using",
    "variant_stats",
]

P = ParamSpec("P")
R = TypeVar("R")


def _on_any_source(fn: Callable[Concatenate[Engine, P], R]) -> Callable[Concatenate[Source, P], R]:
    """Let an analysis taking an Engine also take a workspace or a workspace path."""

    @functools.wraps(fn)
    def run(source: Source, *args: P.args, **kwargs: P.kwargs) -> R:
        with using(source) as engine:
            return fn(engine, *args, **kwargs)

    return run


process_map = _on_any_source(dfg.discover)
variant_stats = _on_any_source(_variants.discover)
case_durations = _on_any_source(performance.case_durations)
between = _on_any_source(performance.between)
throughput = _on_any_source(performance.throughput)
time_in_stage = _on_any_source(performance.time_in_stage)
rework = _on_any_source(performance.rework)
kpi_report = _on_any_source(kpis.report)
find_drivers = _on_any_source(_drivers.drivers)
compare_cases = _on_any_source(_compare.compare)
activity_durations = _on_any_source(_activity_times.activity_times)
