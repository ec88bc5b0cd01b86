"""Mining: analyses of one event log (process map, variants, performance, KPIs, working time).

Every analysis takes an engine (or a workspace, or a workspace path) and typed
filters, runs as one Ibis query on DuckDB or Spark, and returns frozen
dataclasses with `to_dict()` for JSON.
"""

from __future__ import annotations

from .engine import DuckDBEngine, Engine, SparkEngine, as_engine, spark_session
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
    "Filter",
    "Follows",
    "LogTables",
    "Not",
    "Outcome",
    "SparkEngine",
    "TimeWindow",
    "Variant",
    "as_engine",
    "parse_filter",
    "parse_filters",
    "spark_session",
]
