"""What drives losses and delays: case segments ranked by how much more often a target happens.

A target marks each case of a population: `lost` (closed cases; lost), `late-payment`
(paid cases with known terms; paid after the due date, as the KPI), `slow` (closed
cases; sales cycle above a quantile of theirs), or any rule (the cases it applies to;
breaking it). Segments are every value of every case attribute (the amount and the
discount in bands), and activity occurrences ("has Opportunity Reopened", "Quote
Issued 3 or more times"). For each segment with enough support: the target's rate in
it and in the rest, the lift over the population's rate, the amount at stake, and a
p-value (two-proportion z-test; Fisher's exact test for small counts), marked as noise
unless it passes Bonferroni's correction for the number of segments tested.

The engine (DuckDB or Spark) reduces the log to per-case facts (the KPIs' facts, the
last value of each attribute, activity counts); the rest is arithmetic on them, so
both engines give identical rankings. Definitions: docs/conformance.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import ibis
import numpy as np
import pandas as pd

from ..errors import Lead2CashError
from ..model import ATTRIBUTES, AttrType, Level
from ..progress import NO_PROGRESS, Progress
from .attributes import last_values
from .engine import Engine
from .filters import CASE, Filter, LogTables
from .kpis import facts_of
from .kpis_facts import AMOUNT, DISCOUNT, CaseFacts, band_labels, categories
from .kpis_o2c import payment_status
from .kpis_sales import DEFAULT_DISCOUNT_BANDS, cycle_seconds

__all__ = ["Driver", "DriversReport", "TARGETS", "drivers"]

TARGETS = ("lost", "late-payment", "slow")
ACT = "ActivityName"
O2C = ("Sales Order Created", "Order Fulfilled", "Invoice Generated", "Payment Received")
DECISION = ("Opportunity Won", "Opportunity Lost")
# Features known only once the target is decided would "explain" it trivially.
_LEAKS: dict[str, tuple[set[str], set[str]]] = {  # target: (attributes, activities) left out
    "lost": ({"OpportunityOutcome", "PaymentTerms"}, set(DECISION) | set(O2C)),
    "slow": ({"PaymentTerms"}, set(DECISION) | set(O2C)),
    "late-payment": ({"OpportunityOutcome"}, set()),
}
CASE_TEXT = tuple(a.name for a in ATTRIBUTES
                  if a.level is Level.CASE and a.type is AttrType.STRING and a.name != CASE)
"""Case attributes whose values are segments as they are."""


class RuleLike(Protocol):
    """A rule as drivers need it (conformance.rules.Rule): id, scope and violations."""

    id: str

    def applies(self, t: LogTables) -> Any: ...

    def violations(self, t: LogTables) -> Any: ...


@dataclass(frozen=True, slots=True)
class Driver:
    """One segment: how often the target happens in it and in the rest, and how sure that is."""

    feature: str
    value: str
    cases: int
    support: float
    target_cases: int
    rate: float
    rest_rate: float | None
    lift: float | None
    amount_at_stake: float
    p_value: float
    significant: bool

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "value": self.value, "segment": f"{self.feature} = {self.value}",
                "cases": self.cases, "support": self.support, "target_cases": self.target_cases,
                "rate": self.rate, "rest_rate": self.rest_rate, "lift": self.lift,
                "difference": None if self.rest_rate is None else self.rate - self.rest_rate,
                "amount_at_stake": self.amount_at_stake, "p_value": self.p_value,
                "significant": self.significant, "noise": not self.significant}


@dataclass(frozen=True, slots=True)
class DriversReport:
    """Segments ranked by lift (significant ones first) for one target."""

    target: str
    definition: str
    population: int
    target_cases: int
    rate: float | None
    amount_at_stake: float
    min_support_cases: int
    segments_tested: int
    alpha: float
    drivers: tuple[Driver, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "definition": self.definition,
                "population": self.population, "target_cases": self.target_cases,
                "rate": self.rate, "amount_at_stake": self.amount_at_stake,
                "min_support_cases": self.min_support_cases,
                "segments_tested": self.segments_tested, "alpha": self.alpha,
                "significance": "Bonferroni: p_value < alpha / segments_tested",
                "drivers": [d.to_dict() for d in self.drivers]}


def _population(engine: Engine, t: LogTables, f: CaseFacts, target: str | RuleLike,
                slow_quantile: float) -> tuple[np.ndarray, np.ndarray, str, str]:
    """Per case (in f's order): in the population, target reached; the target's name and
    definition in words."""
    if not isinstance(target, str):
        cases = f.cases[CASE]
        applies = engine.execute(t.cases.filter(target.applies(t)).select(CASE))[CASE]
        broken = engine.execute(target.violations(t).name(CASE).as_table())[CASE]
        return (cases.isin(applies).to_numpy(), cases.isin(broken).to_numpy(), target.id,
                f"breaks rule {target.id} (population: the cases it applies to)")
    outcome = f.outcome
    if target == "lost":
        closed = outcome.notna().to_numpy()
        return closed, (outcome == "Lost").to_numpy(), target, \
            "closed cases whose final outcome is Lost (population: closed cases)"
    if target == "late-payment":
        status = payment_status(f)  # the late-payment KPI's own definition
        judged = status.paid & status.due.notna()
        return judged.to_numpy(), status.late.to_numpy(), target, \
            "last Payment Received after the due date of the PaymentTerms (population: paid " \
            "cases with known terms)"
    if target == "slow":
        seconds = cycle_seconds(f)
        closed = ~np.isnan(seconds)
        if not closed.any():
            return closed, closed, target, "no closed case: no sales cycle to compare"
        limit = float(np.quantile(seconds[closed], slow_quantile))
        return closed, closed & (seconds > limit), target, (
            f"sales cycle longer than {limit / 86400:.1f} days, the {slow_quantile:.0%} quantile "
            "of closed cases (population: closed cases)")
    raise Lead2CashError(f"unknown drivers target {target!r}",
                         f"use one of: {', '.join(TARGETS)}, or the id of a rule")


def _amount_bands(amounts: pd.Series) -> list[float]:
    """Quartile edges of the amounts, rounded to two significant digits (distinct, sorted)."""
    known = amounts.dropna().to_numpy(dtype=float)
    if len(known) < 4:
        return []
    edges = []
    for q in (0.25, 0.5, 0.75):
        v = float(np.quantile(known, q))
        if v > 0:
            digits = -int(math.floor(math.log10(v))) + 1
            edges.append(round(v, digits))
    return sorted(set(edges))


def _segments(name: str, labels: pd.Series, inside: np.ndarray, floor: int,
              out: dict[tuple[str, str], np.ndarray]) -> None:
    """Add a mask per category of `labels` that holds at least `floor` population cases
    (smaller ones are never tested, so their masks are not built: customers are many)."""
    codes = labels.cat.codes.to_numpy()
    counts = np.bincount(codes[inside & (codes >= 0)], minlength=len(labels.cat.categories))
    for i, value in enumerate(labels.cat.categories):
        if counts[i] >= floor:
            out[(name, str(value))] = codes == i


def _features(engine: Engine, t: LogTables, f: CaseFacts, target: str,
              amount_bands: Sequence[float] | None, discount_bands: Sequence[float],
              max_repeat: int, inside: np.ndarray, floor: int) -> dict[tuple[str, str], np.ndarray]:
    """Each segment with at least `floor` population cases as a boolean mask over f's cases:
    attribute values, bands, activity occurrences."""
    leak_attrs, leak_acts = _LEAKS.get(target, (set(), set()))
    order = f.cases[CASE]
    names = [n for n in CASE_TEXT if n not in leak_attrs]
    names += [c for c in t.events.columns if c.startswith("case:") and c not in leak_attrs]
    values = engine.execute(last_values(t, names))
    values = values.set_index(CASE).reindex(order)
    out: dict[tuple[str, str], np.ndarray] = {}
    for name in values.columns:
        col = values[name]
        if col.dtype.kind in "fiu" and name.startswith("case:"):
            continue  # numeric extra attributes: no natural segments
        _segments(name, categories(col), inside, floor, out)
    amounts = f.attr(AMOUNT)
    bands = list(amount_bands) if amount_bands is not None else _amount_bands(amounts)
    if bands:
        _segments(AMOUNT, band_labels(amounts, bands), inside, floor, out)
    if discount_bands:
        _segments(DISCOUNT, band_labels(f.attr(DISCOUNT), discount_bands, "{:.0%}"), inside, floor,
                  out)
    s = t.steps
    acts = sorted(a for a in engine.execute(s.select(ACT).distinct())[ACT].tolist()
                  if a is not None and a not in leak_acts)
    if not acts:
        return out
    counts = engine.execute(s.group_by(CASE).aggregate(
        **{f"k{i}": s[ACT].count(where=s[ACT] == ibis.literal(a)) for i, a in enumerate(acts)}))
    counts = counts.set_index(CASE).reindex(order, fill_value=0)
    for i, act in enumerate(acts):
        k = counts[f"k{i}"].to_numpy()
        out[("activity", f"has {act}")] = k > 0
        for n in range(2, max_repeat + 1):
            out[("activity", f"{act} {n} or more times")] = k >= n
    return out


def _p_value(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value that the rates k1/n1 and k2/n2 are equal: a pooled z-test, or Fisher's
    exact test when an expected cell count is below 5."""
    n, k = n1 + n2, k1 + k2
    if n1 == 0 or n2 == 0 or k == 0 or k == n:
        return 1.0
    expected = min(n1 * k / n, n1 * (n - k) / n, n2 * k / n, n2 * (n - k) / n)
    if expected < 5:
        return _fisher(k1, n1, k, n)
    p = k / n
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    z = (k1 / n1 - k2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def _fisher(k1: int, n1: int, k: int, n: int) -> float:
    """Fisher's exact test, two-sided: the probability of tables no likelier than the one seen."""
    def logp(x: int) -> float:
        return (_lchoose(k, x) + _lchoose(n - k, n1 - x)) - _lchoose(n, n1)

    lo, hi = max(0, n1 + k - n), min(n1, k)
    seen = logp(k1)
    total = sum(math.exp(logp(x)) for x in range(lo, hi + 1) if logp(x) <= seen + 1e-9)
    return min(1.0, total)


def _lchoose(n: int, r: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(r + 1) - math.lgamma(n - r + 1)


def drivers(engine: Engine, *, target: str | RuleLike, filters: Iterable[Filter] = (),
            min_support: float = 0.01, min_cases: int = 20,
            amount_bands: Sequence[float] | None = None,
            discount_bands: Sequence[float] = DEFAULT_DISCOUNT_BANDS,
            slow_quantile: float = 0.75, max_repeat: int = 3, alpha: float = 0.05,
            top: int | None = None, progress: Progress = NO_PROGRESS) -> DriversReport:
    """Segments of the filtered log ranked by the target's lift in them (see module docstring).

    A segment needs at least `min_cases` cases and `min_support` of the population, and
    someone outside it; `amount_bands` default to the amounts' quartiles.
    """
    if not 0.0 < slow_quantile < 1.0:
        raise Lead2CashError(f"the slow quantile must be between 0 and 1 (got {slow_quantile})",
                             "pass e.g. --slow-quantile 0.75")
    t = engine.tables(filters)
    progress("reducing events to case facts", 0, 1)
    f = facts_of(t)  # the facts stored at load time for the kept cases, where the log has them
    inside, hit, name, definition = _population(engine, t, f, target, slow_quantile)
    n_all, k_all = int(inside.sum()), int((inside & hit).sum())
    floor = max(min_cases, math.ceil(min_support * n_all))
    feats = _features(engine, t, f, target if isinstance(target, str) else "rule", amount_bands,
                      discount_bands, max_repeat, inside, floor)
    progress("reducing events to case facts", 1, 1)
    amount = f.attr(AMOUNT).fillna(0.0).to_numpy(dtype=float)
    rows = []
    for (feature, value), mask in feats.items():
        seg = mask & inside
        n1 = int(seg.sum())
        if n1 < floor or n1 == n_all:
            continue
        k1 = int((seg & hit).sum())
        n2, k2 = n_all - n1, k_all - k1
        rate, rest = k1 / n1, k2 / n2
        overall = k_all / n_all
        rows.append((feature, value, n1, k1, rate, rest, rate / overall if overall else None,
                     float(np.sort(amount[seg & hit]).sum()), _p_value(k1, n1, k2, n2)))
    tested = len(rows)
    found = [Driver(fe, v, n1, n1 / n_all, k1, rate, rest, lift, stake, p,
                    p < alpha / tested if tested else False)
             for fe, v, n1, k1, rate, rest, lift, stake, p in rows]
    found.sort(key=lambda d: (not d.significant, -(d.lift or 0.0), -d.cases, d.feature, d.value))
    return DriversReport(
        name, definition, n_all, k_all, k_all / n_all if n_all else None,
        float(np.sort(amount[inside & hit]).sum()), floor, tested, alpha,
        tuple(found if top is None else found[:top]),
    )

