"""Working time for every mining duration: the same statistics, measured under a business calendar.

Each analysis fetches its (start, duration) pairs from the engine together with
the case's region, `calendar.working_seconds` measures each pair in working
time (exact to the microsecond, per region), and the statistics are computed
in pandas with the same definitions as the engine's (`stats.duration_aggs`):
count, mean, linear-interpolated median and p90, min and max of microseconds.
Pairs are sorted before aggregating, so DuckDB and Spark give identical results.
The calendar-time path never comes here.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from .calendar import CalendarSet, working_seconds
from .engine import Engine
from .filters import LogTables

__all__ = ["aggregate", "case_regions", "fetch", "measure", "pair_stats", "restat", "span_us", "working_us"]

_STATS = ("count", "mean", "median", "p90", "min", "max")

CASE, REGION, EID = "SalesOpportunityId", "SalesRegion", "event_id"


def case_regions(events: ir.Table, steps: ir.Table) -> ir.Table | None:
    """Each case's last known SalesRegion (by event order), as the KPIs take it; None without the column."""
    if REGION not in events.columns:
        return None
    e = events.select(CASE, EID, REGION).join(steps.select(CASE, EID, "pos"), [CASE, EID])
    return e.group_by(CASE).aggregate(region=e[REGION].argmax(e.pos, where=e[REGION].notnull()))


def fetch(engine: Engine, expr: ir.Table, t: LogTables) -> pd.DataFrame:
    """Run a per-case expression (with SalesOpportunityId) adding each case's `region`."""
    regions = case_regions(t.events, t.steps)
    if regions is None:
        return engine.execute(expr).assign(region=None)
    return engine.execute(expr.left_join(regions, CASE).drop(f"{CASE}_right"))


def measure(engine: Engine, pairs: ir.Table, t: LogTables, calendar: CalendarSet) -> pd.DataFrame:
    """Run a pairs expression (SalesOpportunityId, start, us, keys...) and replace `us` by the
    working microseconds under the calendar of each case's region."""
    frame = fetch(engine, pairs, t)
    return frame.assign(us=working_us(frame, calendar))


def pair_stats(engine: Engine, per: ir.Table, n: int, t: LogTables, calendar: CalendarSet) -> dict[str, object]:
    """For per-case times m0..m(n-1), the working-time statistics of each consecutive pair where
    the later comes no earlier (columns `p{i}_*`), and `p{i}_reversed`: cases where it does."""
    frame = fetch(engine, per, t)
    region = frame["region"].to_numpy(dtype=object)
    row: dict[str, object] = {}
    for i in range(n - 1):
        start, end = frame[f"m{i}"], frame[f"m{i + 1}"]
        us = np.where((end >= start).to_numpy(), span_us(start, end, region, calendar), np.nan)
        row |= aggregate(frame, us, prefix=f"p{i}_").iloc[0].to_dict()
        row[f"p{i}_reversed"] = int((end < start).sum())
    return row


def restat(engine: Engine, result: pd.DataFrame, pairs: ir.Table, t: LogTables,
           calendar: CalendarSet, by: Sequence[str] = (), per_case: bool = False) -> pd.DataFrame:
    """The engine's result frame with its `d_*` statistics measured in working time instead.

    `pairs` yields one duration per row (keyed by `by`); `per_case` first sums them per case
    and key, as time in stage does.
    """
    frame = measure(engine, pairs, t, calendar)
    if per_case:
        frame = frame.groupby([CASE, *by], sort=False, dropna=False)["us"].sum().reset_index()
    stats = aggregate(frame, frame["us"].to_numpy(dtype="float64"), by)
    kept = result.drop(columns=[f"d_{k}" for k in _STATS], errors="ignore")
    if not by:
        return pd.concat([kept.reset_index(drop=True), stats], axis=1)
    return kept.merge(stats, on=list(by), how="left")


def _times(values: pd.Series | np.ndarray) -> np.ndarray:
    """Timestamps as numpy datetime64[us] (NaT kept)."""
    return pd.to_datetime(values).to_numpy().astype("datetime64[us]")


def span_us(start: pd.Series | np.ndarray, end: pd.Series | np.ndarray, region: np.ndarray, calendar: CalendarSet) -> np.ndarray:
    """Working microseconds from each start to each end, as whole numbers (NaN if either is missing)."""
    return np.round(working_seconds(_times(start), _times(end), calendar, region) * 1e6)


def working_us(frame: pd.DataFrame, calendar: CalendarSet) -> np.ndarray:
    """Working microseconds from each `start` over its `us` calendar microseconds (NaN if missing)."""
    start = _times(frame["start"])
    us = frame["us"].to_numpy(dtype="float64", na_value=np.nan)
    end = start + np.where(np.isnan(us), 0, us).astype("int64").astype("timedelta64[us]")
    return np.where(np.isnan(us), np.nan, span_us(start, end, frame["region"].to_numpy(dtype=object), calendar))


def aggregate(keys: pd.DataFrame, us: np.ndarray, by: Sequence[str] = (), prefix: str = "d_") -> pd.DataFrame:
    """Per group of `by` (one row overall without), the columns `stats.duration_aggs` gives."""
    cols = list(by) or ["_all"]
    frame = (keys[list(by)] if by else pd.DataFrame(index=keys.index)).assign(_all=0, _us=us)
    frame = frame.dropna(subset=["_us"]).sort_values([*cols, "_us"], ignore_index=True)
    groups = frame.groupby(cols, sort=True, dropna=False)["_us"]  # sorted: one summation order
    out = groups.agg(["count", "mean", "median", "min", "max"]).assign(p90=groups.quantile(0.9))
    out = out.reset_index().drop(columns=["_all"], errors="ignore")
    if not by and out.empty:
        out = pd.DataFrame([dict.fromkeys(_STATS, np.nan) | {"count": 0}])
    return out.rename(columns={k: f"{prefix}{k}" for k in _STATS})
