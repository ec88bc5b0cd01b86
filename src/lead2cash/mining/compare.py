"""Compare two sets of cases (two filters): KPI deltas, and the edges and variants that differ most.

Every figure comes from the analyses that report it elsewhere (`kpis.report`,
`dfg.discover`, `variants.discover`), run once per side, so a number here is the
same number `mine kpis`, `mine dfg` or `mine variants` shows for that filter.
Deltas are B minus A. An edge's or a variant's share is the share of the side's
cases that contain the edge / follow the variant; durations are medians.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..progress import NO_PROGRESS, Progress
from . import dfg, kpis
from . import variants as variants_mod
from .calendar import CalendarSet
from .engine import Engine
from .filters import Filter
from .stats import DurationStats

__all__ = ["Comparison", "Difference", "compare"]


@dataclass(frozen=True, slots=True)
class Difference:
    """One edge or variant on both sides: share of cases and median duration, and the deltas."""

    key: tuple[str, ...]
    share_a: float
    share_b: float
    median_a_s: float | None
    median_b_s: float | None

    @property
    def share_delta(self) -> float:
        return self.share_b - self.share_a

    @property
    def median_delta_s(self) -> float | None:
        if self.median_a_s is None or self.median_b_s is None:
            return None
        return self.median_b_s - self.median_a_s

    def to_dict(self, name: str) -> dict[str, Any]:
        key: Any = {"source": self.key[0], "target": self.key[1]} if name == "edge" else {
            "activities": list(self.key)}
        return key | {"share_a": self.share_a, "share_b": self.share_b,
                      "share_delta": self.share_delta, "median_a_s": self.median_a_s,
                      "median_b_s": self.median_b_s, "median_delta_s": self.median_delta_s}


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two sides' KPIs and their deltas; edges and variants by share and by duration change."""

    a: str
    b: str
    cases_a: int
    cases_b: int
    kpis_a: dict[str, Any]
    kpis_b: dict[str, Any]
    edges_by_share: tuple[Difference, ...]
    edges_by_duration: tuple[Difference, ...]
    variants_by_share: tuple[Difference, ...]
    variants_by_duration: tuple[Difference, ...]

    @property
    def kpi_deltas(self) -> dict[str, float]:
        """B minus A for every numeric headline KPI both sides have."""
        out = {}
        for k, va in self.kpis_a.items():
            vb = self.kpis_b.get(k)
            if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and not isinstance(va, bool):
                out[k] = vb - va
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a, "b": self.b, "cases_a": self.cases_a, "cases_b": self.cases_b,
            "kpis": [{"kpi": k, "a": self.kpis_a.get(k), "b": self.kpis_b.get(k), "delta": d}
                     for k, d in self.kpi_deltas.items()],
            "edges_by_share": [d.to_dict("edge") for d in self.edges_by_share],
            "edges_by_duration": [d.to_dict("edge") for d in self.edges_by_duration],
            "variants_by_share": [d.to_dict("variant") for d in self.variants_by_share],
            "variants_by_duration": [d.to_dict("variant") for d in self.variants_by_duration],
        }


def _flat(report: kpis.KpiReport) -> dict[str, Any]:
    """The headline KPIs: the overall set's flat keys (nested details left out)."""
    return {k: v for k, v in report.overall.to_dict().items() if not isinstance(v, (dict, list))}


def _pairs(a: dict[tuple[str, ...], tuple[float, DurationStats]],
           b: dict[tuple[str, ...], tuple[float, DurationStats]], top: int,
           min_cases: int) -> tuple[tuple[Difference, ...], tuple[Difference, ...]]:
    """The differences ranked by share change, and (for those with enough cases on both
    sides) by median duration change."""
    rows = []
    for key in sorted(set(a) | set(b)):
        sa, da = a.get(key, (0.0, None))
        sb, db = b.get(key, (0.0, None))
        rows.append((Difference(key, sa, sb, da.median_s if da else None, db.median_s if db else None),
                     (da.count if da else 0) >= min_cases and (db.count if db else 0) >= min_cases))
    by_share = sorted((d for d, _ in rows), key=lambda d: (-abs(d.share_delta), d.key))
    timed = [d for d, ok in rows if ok and d.median_delta_s is not None]
    by_time = sorted(timed, key=lambda d: (-abs(d.median_delta_s or 0.0), d.key))
    return tuple(by_share[:top]), tuple(by_time[:top])


def compare(engine: Engine, a: Sequence[Filter], b: Sequence[Filter], *, a_text: str = "A",
            b_text: str = "B", top: int = 10, min_cases: int = 5,
            calendar: CalendarSet | None = None, now: datetime | None = None,
            progress: Progress = NO_PROGRESS) -> Comparison:
    """KPIs, edges and variants of the cases `a` keeps against those `b` keeps (B minus A);
    a duration change counts for edges and variants measured on `min_cases` on both sides."""
    sides = []
    for i, (flt, text) in enumerate(((tuple(a), a_text), (tuple(b), b_text))):
        progress("comparing", i, 2)
        report = kpis.report(engine, flt, calendar=calendar, now=now)
        pm = dfg.discover(engine, flt, calendar=calendar)
        vs = variants_mod.discover(engine, flt, calendar=calendar)
        total = report.overall.cases
        edges = {(e.source, e.target): (e.cases / total if total else 0.0, e.duration)
                 for e in pm.edges}
        variants = {v.activities: (v.share, v.duration) for v in vs.variants}
        sides.append((text, total, _flat(report), edges, variants))
    progress("comparing", 2, 2)
    (ta, na, ka, ea, va), (tb, nb, kb, eb, vb) = sides
    edges_share, edges_time = _pairs(ea, eb, top, min_cases)
    var_share, var_time = _pairs(va, vb, top, min_cases)
    return Comparison(ta, tb, na, nb, ka, kb, edges_share, edges_time, var_share, var_time)
