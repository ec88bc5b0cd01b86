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
from importlib import import_module
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

if TYPE_CHECKING:
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

# Every public name loads its module on first use (PEP 562): a command that mines on DuckDB
# with compiled SQL never imports Ibis or pandas (see compiled.py).
_NAMES = {
    **dict.fromkeys(("DuckDBEngine", "Engine", "Source", "SparkEngine", "spark_session", "using"),
                    ".engine"),
    **dict.fromkeys(("EventCondition", "KeepEvents", "Lifecycle", "RenameActivities"),
                    ".event_filters"),
    **dict.fromkeys(("parse_filter", "parse_filters"), ".filter_language"),
    **dict.fromkeys(("Activity", "Attribute", "CaseDuration", "Closed", "Filter", "Follows",
                     "LogTables", "Not", "Outcome", "TimeWindow", "Variant"), ".filters"),
}
# The analyses taking an engine, offered also on a workspace or a workspace path.
_ANALYSES = {
    "process_map": (".dfg", "discover"),
    "variant_stats": (".variants", "discover"),
    "case_durations": (".performance", "case_durations"),
    "between": (".performance", "between"),
    "throughput": (".performance", "throughput"),
    "time_in_stage": (".performance", "time_in_stage"),
    "rework": (".performance", "rework"),
    "kpi_report": (".kpis", "report"),
    "find_drivers": (".drivers", "drivers"),
    "compare_cases": (".compare", "compare"),
    "activity_durations": (".activity_times", "activity_times"),
}


def _on_any_source(fn: Callable[Concatenate[Engine, P], R]) -> Callable[Concatenate[Source, P], R]:
    """Let an analysis taking an Engine also take a workspace or a workspace path."""
    from .engine import using

    @functools.wraps(fn)
    def run(source: Source, *args: P.args, **kwargs: P.kwargs) -> R:
        with using(source) as engine:
            return fn(engine, *args, **kwargs)

    return run


def __getattr__(name: str) -> Any:
    """Load a public name's module when the name is first used."""
    if name in _NAMES:
        value = getattr(import_module(_NAMES[name], __name__), name)
    elif name in _ANALYSES:
        module, function = _ANALYSES[name]
        value = _on_any_source(getattr(import_module(module, __name__), function))
    else:  # a submodule, e.g. `mining.dfg` after `import lead2cash.mining`
        try:
            value = import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
