"""Variants: the distinct ordered activity sequences, with case counts, shares and durations.

In calendar time this is a standing query (`Engine.queries` with a key): on DuckDB its SQL
is kept compiled and no Ibis is imported.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .derived import SEP
from .engine import Engine, frame_columns
from .stats import DurationStats, duration_aggs, stats_list

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from .calendar import CalendarSet
    from .filters import Filter, LogTables

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
    chosen = tuple(filters)
    if calendar is None:
        (rows,) = engine.queries(_variant_query, chosen, key="variants")
    else:
        from . import working

        t = engine.tables(chosen)
        cases = t.cases
        pairs = cases.select("SalesOpportunityId", "variant", start=cases.start_time,
                             us=cases.duration_us)
        frame = working.restat(engine, engine.execute(_variant_query(t)[0]), pairs, t, calendar,
                               ["variant"])
        rows = frame_columns(frame)
    order = sorted(range(len(rows["variant"])), key=lambda i: (-rows["n"][i], rows["variant"][i]))
    counts = [int(rows["n"][i]) for i in order]
    total = sum(counts)
    listed = 0
    for covered in itertools.accumulate(counts, initial=0):
        if listed == len(counts) or (top is not None and listed >= top) or (
            coverage is not None and total and covered / total >= coverage
        ):
            break
        listed += 1
    head = {name: [values[i] for i in order[:listed]] for name, values in rows.items()}
    listed_variants = tuple(
        VariantStat(tuple(v.split(SEP)), n, round(n / total, 9), d)
        for v, n, d in zip(head["variant"], counts[:listed], stats_list(head))
    )
    covered = sum(counts[:listed])
    return Variants(listed_variants, len(counts), total,
                    round(covered / total, 9) if total else 0.0)


def _variant_query(t: LogTables) -> tuple[ir.Table]:
    """Cases and duration statistics per variant."""
    cases = t.cases
    return (cases.group_by("variant").aggregate(n=cases.count(), **duration_aggs(cases.duration_us)),)
