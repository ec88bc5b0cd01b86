"""Sales-side KPIs: win rate, sales cycle, funnel, stalls, rework, discounts, value at stake.

Each function is pure over `CaseFacts` (see kpis_facts) and returns a frozen
dataclass with `to_dict()`; definitions and formulas are in docs/kpis.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .kpis_facts import (
    AMOUNT,
    DISCOUNT,
    FUNNEL,
    NONE_LABEL,
    OWNER,
    REGION,
    CaseFacts,
    DurationStats,
    Transition,
    band_labels,
    categories,
    ratio,
    transitions,
)

__all__ = [
    "DEFAULT_DISCOUNT_BANDS",
    "Discounts",
    "Funnel",
    "Rework",
    "SalesCycle",
    "Stalls",
    "ValueAtStake",
    "WinRate",
    "cycle_seconds",
    "discounts",
    "funnel",
    "rework",
    "sales_cycle",
    "sales_transitions",
    "stalled_cases",
    "stalls",
    "value_at_stake",
    "win_rate",
]

DEFAULT_DISCOUNT_BANDS: tuple[float, ...] = (0.05, 0.10, 0.20, 0.30)
SALES_PAIRS = (
    ("quote_to_decision", "first_quote", "first_decision"),
    ("quote_accepted_to_contract", "first_quote_accepted", "first_contract"),
)


@dataclass(frozen=True, slots=True)
class WinRate:
    """Won / (Won + Lost) over the cases' final outcomes."""

    won: int
    lost: int
    open: int
    win_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        """Flat keys: won, lost, open, win_rate."""
        return asdict(self)


def win_rate(f: CaseFacts) -> WinRate:
    """Share of closed cases whose last closing event is Opportunity Won."""
    counts = f.outcome.value_counts()
    won, lost = int(counts.get("Won", 0)), int(counts.get("Lost", 0))
    return WinRate(won, lost, len(f.cases) - won - lost, ratio(won, won + lost))


@dataclass(frozen=True, slots=True)
class SalesCycle:
    """Created → final close, for all closed cases, won ones and lost ones."""

    closed: DurationStats
    won: DurationStats
    lost: DurationStats

    def to_dict(self) -> dict[str, Any]:
        """Keys sales_cycle_*, sales_cycle_won_*, sales_cycle_lost_* (count, mean_s, median_s, ...)."""
        return {
            **self.closed.to_dict("sales_cycle_"),
            **self.won.to_dict("sales_cycle_won_"),
            **self.lost.to_dict("sales_cycle_lost_"),
        }


def cycle_seconds(f: CaseFacts) -> np.ndarray:
    """Each case's sales cycle in seconds: Opportunity Created (else the first event) to the
    final Won or Lost event; NaN for open cases."""
    start = f.cases["first_created"].fillna(f.cases["start"])
    seconds = f.seconds(start, f.cases["close_time"])
    return np.where(f.outcome.notna().to_numpy(), seconds, np.nan)


def sales_cycle(f: CaseFacts) -> SalesCycle:
    """From Opportunity Created (else the first event) to the final Won or Lost event."""
    closed = cycle_seconds(f)
    outcome = f.outcome.to_numpy()
    return SalesCycle(
        DurationStats.of(closed),
        DurationStats.of(np.where(outcome == "Won", closed, np.nan)),
        DurationStats.of(np.where(outcome == "Lost", closed, np.nan)),
    )


@dataclass(frozen=True, slots=True)
class FunnelStage:
    """One pipeline stage: cases that reached it or a later stage, conversion, time spent in it."""

    stage: str
    cases_reached: int
    conversion_to_next: float | None
    time_in_stage: DurationStats

    def to_dict(self) -> dict[str, Any]:
        """stage, cases_reached, conversion_to_next, time_in_stage_* (count = visits measured)."""
        return {
            "stage": self.stage,
            "cases_reached": self.cases_reached,
            "conversion_to_next": self.conversion_to_next,
            **self.time_in_stage.to_dict("time_in_stage_"),
        }


@dataclass(frozen=True, slots=True)
class Funnel:
    """The stage-to-stage funnel from Opportunity Created to Opportunity Won."""

    stages: tuple[FunnelStage, ...]

    def to_dict(self) -> list[dict[str, Any]]:
        """One dict per stage, in pipeline order."""
        return [s.to_dict() for s in self.stages]


def funnel(f: CaseFacts) -> Funnel:
    """Cases reaching each stage (or beyond), conversion to the next, time until the next stage event."""
    reached_idx = f.cases["max_stage"].to_numpy(dtype=float)
    reached = [int(np.sum(reached_idx >= i)) for i in range(len(FUNNEL))]
    visits = f.visits
    seconds = f.seconds(visits["entered"], visits["left"], visits[f"attr_{REGION}"])
    stages = []
    for i, name in enumerate(FUNNEL):
        nxt = ratio(reached[i + 1], reached[i]) if i + 1 < len(FUNNEL) else None
        spent = DurationStats.of(seconds[(visits["ActivityName"] == name).to_numpy()])
        stages.append(FunnelStage(name, reached[i], nxt, spent))
    return Funnel(tuple(stages))


@dataclass(frozen=True, slots=True)
class StageStall:
    """Open deals sitting in one stage, how long, and how many beyond the stall threshold."""

    stage: str
    open_cases: int
    open_amount: float
    age_median_s: float | None
    stalled_cases: int
    stalled_amount: float


@dataclass(frozen=True, slots=True)
class Stalls:
    """Where open deals stall: per current stage, ages measured up to the log's as-of time."""

    threshold_days: float
    stages: tuple[StageStall, ...]

    def to_dict(self) -> list[dict[str, Any]]:
        """One dict per current stage, most open cases first."""
        return [asdict(s) for s in self.stages]


def _open_ages(f: CaseFacts) -> tuple[np.ndarray, np.ndarray]:
    """Which cases are open, and each open case's age in its current stage, in seconds
    (working time under a calendar); no copy of the facts."""
    c = f.cases
    open_ = f.outcome.isna().to_numpy()
    entered = c["stage_time"].where(c["stage_time"].notna(), c["start"])[open_]
    return open_, f.since(entered, f.attr(REGION)[open_])


def _stalled(f: CaseFacts, age_s: np.ndarray, threshold_days: float) -> np.ndarray:
    """Ages beyond the threshold; a day is a working day of the default calendar under one."""
    return age_s > threshold_days * f.day_seconds


def stalled_cases(f: CaseFacts, threshold_days: float = 30.0) -> np.ndarray:
    """Which cases are open and in their current stage for longer than the threshold."""
    open_, age = _open_ages(f)
    out = np.zeros(len(f.cases), dtype=bool)
    out[open_] = _stalled(f, age, threshold_days)
    return out


def stalls(f: CaseFacts, threshold_days: float = 30.0) -> Stalls:
    """Open cases grouped by current stage (last pipeline-stage event), with age and stalled share."""
    open_, age = _open_ages(f)
    stage = f.cases["stage"].fillna(NONE_LABEL).to_numpy(dtype=object)[open_]
    amount = f.attr(AMOUNT).fillna(0.0).to_numpy(dtype=float)[open_]
    rows = []
    for name in sorted(set(stage), key=lambda s: (-int(np.sum(stage == s)), s)):
        m = stage == name
        stuck = m & _stalled(f, age, threshold_days)
        rows.append(StageStall(str(name), int(m.sum()), float(amount[m].sum()),
                               DurationStats.of(age[m]).median_s, int(stuck.sum()), float(amount[stuck].sum())))
    return Stalls(threshold_days, tuple(rows))


@dataclass(frozen=True, slots=True)
class Rework:
    """Reopened deals and stage regressions."""

    reopened_cases: int
    ever_closed_cases: int
    reopen_rate: float | None
    regressed_cases: int
    regression_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        """Flat keys, including reopen_rate and regression_rate."""
        return asdict(self)


def rework(f: CaseFacts) -> Rework:
    """Reopen rate over ever-closed cases; regression rate (moved back to an earlier stage) over all."""
    reopened = int((f.cases["reopens"] > 0).sum())
    closed = int((f.cases["closes"] > 0).sum())
    regressed = int(f.cases["regressed"].sum())
    return Rework(reopened, closed, ratio(reopened, closed), regressed, ratio(regressed, len(f.cases)))


def sales_transitions(f: CaseFacts) -> tuple[Transition, ...]:
    """Quote → decision (first Won/Lost) and quote accepted → contract signed."""
    return transitions(f, SALES_PAIRS)


@dataclass(frozen=True, slots=True)
class DiscountGroup:
    """Cases in one discount band or of one owner: win rate, cycle time, deal size."""

    group: str
    cases: int
    discount_mean: float | None
    win_rate: float | None
    sales_cycle_median_s: float | None
    amount_mean: float | None


@dataclass(frozen=True, slots=True)
class Discounts:
    """Discount effectiveness: by band, by owner, and share above the policy threshold."""

    policy_threshold: float
    discounted_cases: int
    share_above_policy: float | None
    bands: tuple[DiscountGroup, ...]
    owners: tuple[DiscountGroup, ...]

    def to_dict(self) -> dict[str, Any]:
        """Nested: threshold, share above it, bands and owners as lists."""
        return asdict(self)


def _groups(f: CaseFacts, keys: pd.Series, within: np.ndarray, cycle: np.ndarray) -> tuple[DiscountGroup, ...]:
    """Discount, win rate, median cycle and mean amount per key value, over the cases `within`
    (one pass: integer group codes, counts and sums by `bincount`, each group's median as
    DurationStats); `cycle` is `cycle_seconds(f)`."""
    codes = np.where(within, keys.cat.codes.to_numpy(), -1)
    k = len(keys.cat.categories)
    outcome = f.outcome.to_numpy()

    def mean(values: np.ndarray) -> np.ndarray:
        ok = (codes >= 0) & ~np.isnan(values)
        n = np.bincount(codes[ok], minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, np.bincount(codes[ok], weights=values[ok], minlength=k) / n, np.nan)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[(codes >= 0) & mask], minlength=k)

    cases, won, lost = count(np.ones(len(codes), bool)), count(outcome == "Won"), count(outcome == "Lost")
    discount = mean(f.attr(DISCOUNT).to_numpy(dtype=float, na_value=np.nan))
    amount = mean(f.attr(AMOUNT).to_numpy(dtype=float, na_value=np.nan))
    closed = (codes >= 0) & ~np.isnan(cycle)
    order = np.lexsort((cycle[closed], codes[closed]))
    sorted_codes, sorted_cycle = codes[closed][order], cycle[closed][order]
    bounds = np.searchsorted(sorted_codes, np.arange(k + 1))
    none = lambda v: None if np.isnan(v) else float(v)
    return tuple(
        DiscountGroup(str(name), int(cases[i]), none(discount[i]), ratio(int(won[i]), int(won[i] + lost[i])),
                      DurationStats.of(sorted_cycle[bounds[i]:bounds[i + 1]]).median_s, none(amount[i]))
        for i, name in enumerate(keys.cat.categories) if cases[i] > 0
    )


def discounts(
    f: CaseFacts,
    bands: tuple[float, ...] = DEFAULT_DISCOUNT_BANDS,
    policy_threshold: float = 0.20,
) -> Discounts:
    """Discount bands vs win rate, cycle and deal size; per owner; share above the policy."""
    disc = f.attr(DISCOUNT)
    known = disc.notna()
    above = int((disc[known] > policy_threshold).sum())
    cycle = cycle_seconds(f)
    within = known.to_numpy()
    return Discounts(
        policy_threshold,
        int(known.sum()),
        ratio(above, int(known.sum())),
        _groups(f, band_labels(disc, bands, "{:.0%}"), within, cycle),
        _groups(f, categories(f.attr(OWNER)[known]).reindex(f.cases.index), within, cycle),
    )


@dataclass(frozen=True, slots=True)
class ValueAtStake:
    """Money tied up in open deals stalled beyond the threshold, and lost per last stage."""

    stall_threshold_days: float
    open_amount: float
    stalled_open_cases: int
    stalled_open_amount: float
    lost_amount: float
    lost_amount_by_stage: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Nested dict of amounts."""
        return asdict(self)


def value_at_stake(f: CaseFacts, threshold_days: float = 30.0) -> ValueAtStake:
    """Open amount stalled longer than the threshold in its stage; lost amount by the last stage reached."""
    open_, age = _open_ages(f)
    amount = f.attr(AMOUNT).fillna(0.0).to_numpy(dtype=float)[open_]
    lost = f.cases.loc[(f.outcome == "Lost").to_numpy(), [f"attr_{AMOUNT}", "stage"]]
    lost_amount = lost[f"attr_{AMOUNT}"].fillna(0.0)
    by_stage = lost_amount.groupby(lost["stage"].fillna(NONE_LABEL)).sum()
    stuck = _stalled(f, age, threshold_days)
    return ValueAtStake(
        threshold_days,
        float(amount.sum()),
        int(stuck.sum()),
        float(amount[stuck].sum()),
        float(lost_amount.sum()),
        {str(k): float(v) for k, v in sorted(by_stage.items())},
    )
