"""Variants: the distinct ordered activity sequences, with case counts, shares and durations."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import working
from .calendar import CalendarSet
from .derived import SEP
from .engine import Engine
from .filters import Filter
from .stats import DurationStats, duration_aggs, stats_list

__all__ = ["VariantStat", "Variants", "discover"]


@dataclass(frozen=True, slots=True)
class VariantStat:
    """One variant: its activities, how many cases follow it, their share and case durations."""

    activities: tuple[str, ...]
    cases: int
    share: float
    duration: DurationStats

    def to_dict(self) -> dict[str, Any]:
        head = {"activities": list(self.activities), "cases": self.cases, "share": self.share}
        return head | self.duration.to_dict("duration_")


@dataclass(frozen=True, slots=True)
class Variants:
    """The listed variants (most frequent first), out of how many, and the share of cases covered."""

    variants: tuple[VariantStat, ...]
    total_variants: int
    total_cases: int
    coverage: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "variants": [v.to_dict() for v in self.variants],
            "total_variants": self.total_variants,
            "total_cases": self.total_cases,
            "coverage": self.coverage,
        }


def discover(
    engine: Engine,
    filters: Iterable[Filter] = (),
    top: int | None = None,
    coverage: float | None = None,
    calendar: CalendarSet | None = None,
) -> Variants:
    """Variants of the filtered log; `top` keeps the k most frequent, `coverage` the fewest
    most frequent that together hold at least that share of cases; durations in working time
    under `calendar`."""
    t = engine.tables(filters)
    cases = t.cases
    agg = cases.group_by("variant").aggregate(n=cases.count(), **duration_aggs(cases.duration_us))
    frame = engine.execute(agg)
    if calendar is not None:
        pairs = cases.select("SalesOpportunityId", "variant", start=cases.start_time, us=cases.duration_us)
        frame = working.restat(engine, frame, pairs, t, calendar, ["variant"])
    frame = frame.sort_values(["n", "variant"], ascending=[False, True], ignore_index=True)
    counts = frame.n.astype("int64").tolist()
    total = sum(counts)
    listed = 0
    for covered in itertools.accumulate(counts, initial=0):
        if listed == len(counts) or (top is not None and listed >= top) or (
            coverage is not None and total and covered / total >= coverage
        ):
            break
        listed += 1
    head = frame.iloc[:listed]
    chosen = tuple(
        VariantStat(tuple(v.split(SEP)), n, round(n / total, 9), d)
        for v, n, d in zip(head.variant.tolist(), counts[:listed], stats_list(head))
    )
    covered = sum(counts[:listed])
    return Variants(chosen, len(counts), total, round(covered / total, 9) if total else 0.0)
