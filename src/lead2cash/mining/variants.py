"""Variants: the distinct ordered activity sequences, with case counts, shares and durations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .derived import SEP
from .engine import Engine
from .filters import Filter
from .stats import DurationStats, duration_aggs

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
) -> Variants:
    """Variants of the filtered log; `top` keeps the k most frequent, `coverage` the fewest
    most frequent that together hold at least that share of cases."""
    cases = engine.cases(filters)
    agg = cases.group_by("variant").aggregate(n=cases.count(), **duration_aggs(cases.duration_us))
    rows = sorted(engine.execute(agg).to_dict("records"), key=lambda r: (-int(r["n"]), r["variant"]))
    total = sum(int(r["n"]) for r in rows)
    listed: list[VariantStat] = []
    covered = 0
    for r in rows:
        if (top is not None and len(listed) >= top) or (
            coverage is not None and total and covered / total >= coverage
        ):
            break
        covered += int(r["n"])
        listed.append(VariantStat(tuple(r["variant"].split(SEP)), int(r["n"]),
                                  round(int(r["n"]) / total, 9), DurationStats.from_row(r)))
    return Variants(tuple(listed), len(rows), total, round(covered / total, 9) if total else 0.0)
