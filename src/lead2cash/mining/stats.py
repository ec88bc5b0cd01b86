"""The one duration-statistics type of every analysis, and the one way to divide counts.

Every duration statistic in lead2cash (process-map edges, variants, performance, KPIs) is a
`DurationStats`: count, mean, median, 90th percentile, min and max, in seconds of the time
the analysis measured (calendar time, or working time under a business calendar), with the
JSON keys `<prefix>count`, `<prefix>mean_s`, `<prefix>median_s`, `<prefix>p90_s`,
`<prefix>min_s` and `<prefix>max_s`. Engines compute them from microseconds
(`duration_aggs`); pure Python code from an array of seconds (`DurationStats.of`); both use
linearly interpolated quantiles, so the two agree. See docs/mining.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np
    import pandas as pd

__all__ = ["DurationStats", "duration_aggs", "ratio", "seconds", "stats_list", "to_seconds", "whole"]

_FIELDS = ("count", "mean", "median", "p90", "min", "max")


def to_seconds(us: np.ndarray) -> np.ndarray:
    """Microseconds to seconds rounded to the microsecond, through tenths of a microsecond.

    Interpolated percentiles of whole microseconds are exact multiples of 0.1 us up to float
    noise, which differs between engines; the first rounding removes that noise, so both
    engines report the same value. (Array methods, so this module needs no numpy import:
    `mine dfg` and `mine variants` then start without it.)
    """
    return (us.astype("float64").round(1) / 1e6).round(6)


def _second(us: float) -> float | None:
    """`to_seconds` of one float in plain Python, bit for bit: numpy rounds to n decimals as
    rint(x * 10**n) / 10**n, and Python's `round(x)` is rint (half to even, on the float)."""
    if math.isnan(us):
        return None
    return round(round(us * 10.0) / 10.0 / 1e6 * 1e6) / 1e6


def seconds(us: object) -> float | None:
    """One duration in microseconds (any numeric, or missing) as seconds (see `to_seconds`)."""
    if us is None:
        return None
    return _second(float(us))  # type: ignore[arg-type]


def whole(value: object) -> int:
    """A count from a result cell: missing (None or NaN, e.g. a sum over no rows) is 0."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(value)  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Count, mean, median, 90th percentile, min and max of a set of durations, in seconds."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None
    min_s: float | None
    max_s: float | None

    @classmethod
    def of(cls, values: np.ndarray | pd.Series) -> DurationStats:
        """Statistics of the non-missing values of an array of seconds (sorted first, so the
        mean is summed in one order whatever order the engine returned; quantiles interpolate
        linearly, as the engines' do)."""
        import numpy as np  # the callers hold arrays already: numpy is loaded

        v = np.asarray(values, dtype=float)
        v = np.sort(v[~np.isnan(v)])
        if not len(v):
            return cls(0, None, None, None, None, None)
        median, p90 = np.quantile(v, [0.5, 0.9])
        return cls(len(v), float(v.mean()), float(median), float(p90), float(v[0]), float(v[-1]))

    @classmethod
    def from_row(cls, row: Mapping[str, Any], prefix: str = "d_") -> DurationStats:
        """Read the columns `duration_aggs(prefix)` produced from one result row."""
        return cls(
            whole(row[f"{prefix}count"]),
            *(seconds(row[f"{prefix}{f}"]) for f in _FIELDS[1:]),
        )

    def to_dict(self, prefix: str = "") -> dict[str, Any]:
        """Flat JSON fields, optionally prefixed (`duration_mean_s`, ...)."""
        return {f"{prefix}{k}": v for k, v in asdict(self).items()}


def ratio(numerator: float, denominator: float) -> float | None:
    """A share, or None when there is nothing to divide by (every rate in lead2cash)."""
    return float(numerator) / float(denominator) if denominator else None


def stats_list(columns: Mapping[str, Sequence[Any]], prefix: str = "d_") -> list[DurationStats]:
    """One DurationStats per row of a result given as columns (lists, arrays or a frame), each
    value through `seconds`."""
    counts = [whole(v) for v in columns[f"{prefix}count"]]
    values = [[seconds(v) for v in columns[f"{prefix}{f}"]] for f in _FIELDS[1:]]
    return [DurationStats(c, *row) for c, *row in zip(counts, *values)]


def duration_aggs(us: ir.IntegerColumn, prefix: str = "d_") -> dict[str, ir.Scalar]:
    """Aggregations of a microsecond column: count, mean, exact median and p90, min, max.

    Median and p90 come from one two-quantile aggregate (one sort per group, not two; the
    engines compute it once for both columns) and equal separate `median()` / `quantile(0.9)`.
    """
    quantiles = us.quantile([0.5, 0.9])
    return {
        f"{prefix}count": us.count(),
        f"{prefix}mean": us.mean(),
        f"{prefix}median": quantiles[0],
        f"{prefix}p90": quantiles[1],
        f"{prefix}min": us.min(),
        f"{prefix}max": us.max(),
    }
