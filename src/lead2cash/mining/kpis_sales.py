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
    Stats,
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
    "stalls",
    "value_at_stake",
    "win_rate",
]

DEFAULT_DISCOUNT_BANDS: tuple[float, ...] = (0.05, 0.10, 0.20, 0.30)
SALES_PAIRS = (
    ("quote_to_decision", "first_quote", "first_decision", "days"),
    ("quote_accepted_to_contract", "first_quote_accepted", "first_contract", "days"),
)


def _days(value: float | None, day_seconds: float) -> float | None:
    """Seconds as days (None stays None)."""
    return None if value is None else value / day_seconds


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

    closed: Stats
    won: Stats
    lost: Stats

    def to_dict(self, day_seconds: float) -> dict[str, Any]:
        """Keys sales_cycle_days_*, sales_cycle_won_days_*, sales_cycle_lost_days_*."""
        return {
            **self.closed.to_dict("sales_cycle", "days", day_seconds),
            **self.won.to_dict("sales_cycle_won", "days", day_seconds),
            **self.lost.to_dict("sales_cycle_lost", "days", day_seconds),
        }


def cycle_seconds(f: CaseFacts) -> np.ndarray:
    """Each case's sales cycle in seconds: Opportunity Created (else the first event) to the
    final Won or Lost event; NaN for open cases."""
    start = f.cases["first_created"].fillna(f.cases["start"])
    seconds = f.seconds(start, f.cases["close_time"])
    return np.where(pd.notna(f.outcome.to_numpy()), seconds, np.nan)


def sales_cycle(f: CaseFacts) -> SalesCycle:
    """From Opportunity Created (else the first event) to the final Won or Lost event."""
    closed = cycle_seconds(f)
    outcome = f.outcome.to_numpy()
    return SalesCycle(
        Stats.of(closed),
        Stats.of(np.where(outcome == "Won", closed, np.nan)),
        Stats.of(np.where(outcome == "Lost", closed, np.nan)),
    )


@dataclass(frozen=True, slots=True)
class FunnelStage:
    """One pipeline stage: cases that reached it or a later stage, conversion, time spent in it."""

    stage: str
    cases_reached: int
    conversion_to_next: float | None
    time_in_stage: Stats

    def to_dict(self, day_seconds: float) -> dict[str, Any]:
        """stage, cases_reached, conversion_to_next, days_in_stage_* ."""
        stats = self.time_in_stage.to_dict("stage", "days", day_seconds)
        return {
            "stage": self.stage,
            "cases_reached": self.cases_reached,
            "conversion_to_next": self.conversion_to_next,
            "visits": stats["stage_cases"],
            **{k.replace("stage_days", "days_in_stage"): v for k, v in stats.items()
               if k != "stage_cases"},
        }


@dataclass(frozen=True, slots=True)
class Funnel:
    """The stage-to-stage funnel from Opportunity Created to Opportunity Won."""

    stages: tuple[FunnelStage, ...]

    def to_dict(self, day_seconds: float) -> list[dict[str, Any]]:
        """One dict per stage, in pipeline order."""
        return [s.to_dict(day_seconds) for s in self.stages]


def funnel(f: CaseFacts) -> Funnel:
    """Cases reaching each stage (or beyond), conversion to the next, time until the next stage event."""
    reached_idx = f.cases["max_stage"].to_numpy(dtype=float)
    reached = [int(np.sum(reached_idx >= i)) for i in range(len(FUNNEL))]
    visits = f.visits
    seconds = f.seconds(visits["entered"], visits["left"], visits[f"attr_{REGION}"])
    stages = []
    for i, name in enumerate(FUNNEL):
        nxt = ratio(reached[i + 1], reached[i]) if i + 1 < len(FUNNEL) else None
        spent = Stats.of(seconds[(visits["ActivityName"] == name).to_numpy()])
        stages.append(FunnelStage(name, reached[i], nxt, spent))
    return Funnel(tuple(stages))


@dataclass(frozen=True, slots=True)
class StageStall:
    """Open deals sitting in one stage, how long, and how many beyond the stall threshold."""

    stage: str
    open_cases: int
    open_amount: float
    age_days_median: float | None
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


def _open_ages(f: CaseFacts) -> tuple[pd.DataFrame, np.ndarray]:
    """Open cases and each one's age in days in its current stage."""
    sub = f.subset(f.outcome.isna())
    open_ = sub.cases
    return open_, sub.since(open_["stage_time"].fillna(open_["start"])) / f.day_seconds


def stalls(f: CaseFacts, threshold_days: float = 30.0) -> Stalls:
    """Open cases grouped by current stage (last pipeline-stage event), with age and stalled share."""
    open_, age = _open_ages(f)
    stage = open_["stage"].fillna(NONE_LABEL).to_numpy(dtype=object)
    amount = open_[f"attr_{AMOUNT}"].fillna(0.0).to_numpy(dtype=float)
    rows = []
    for name in sorted(set(stage), key=lambda s: (-int(np.sum(stage == s)), s)):
        m = stage == name
        stuck = m & (age > threshold_days)
        rows.append(StageStall(str(name), int(m.sum()), float(amount[m].sum()),
                               Stats.of(age[m]).median, int(stuck.sum()), float(amount[stuck].sum())))
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
    sales_cycle_days_median: float | None
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


def _groups(f: CaseFacts, keys: pd.Series) -> tuple[DiscountGroup, ...]:
    """Discount, win rate, median cycle and mean amount per key value."""
    out = []
    for key in (k for k in keys.cat.categories if (keys == k).any()):
        m = (keys == key).to_numpy()
        sub = f.subset(m)
        disc, amt = sub.attr(DISCOUNT), sub.attr(AMOUNT)
        out.append(DiscountGroup(
            str(key), int(m.sum()),
            None if disc.isna().all() else float(disc.mean()),
            win_rate(sub).win_rate,
            _days(sales_cycle(sub).closed.median, f.day_seconds),
            None if amt.isna().all() else float(amt.mean()),
        ))
    return tuple(out)


def discounts(
    f: CaseFacts,
    bands: tuple[float, ...] = DEFAULT_DISCOUNT_BANDS,
    policy_threshold: float = 0.20,
) -> Discounts:
    """Discount bands vs win rate, cycle and deal size; per owner; share above the policy."""
    disc = f.attr(DISCOUNT)
    known = disc.notna()
    sub = f.subset(known)
    above = int((disc[known] > policy_threshold).sum())
    return Discounts(
        policy_threshold,
        int(known.sum()),
        ratio(above, int(known.sum())),
        _groups(sub, band_labels(sub.attr(DISCOUNT), bands, "{:.0%}")),
        _groups(sub, categories(sub.attr(OWNER))),
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
    amount = open_[f"attr_{AMOUNT}"].fillna(0.0).to_numpy(dtype=float)
    lost = f.cases[(f.outcome == "Lost").to_numpy()]
    lost_amount = lost[f"attr_{AMOUNT}"].fillna(0.0)
    by_stage = lost_amount.groupby(lost["stage"].fillna(NONE_LABEL)).sum()
    stuck = age > threshold_days
    return ValueAtStake(
        threshold_days,
        float(amount.sum()),
        int(stuck.sum()),
        float(amount[stuck].sum()),
        float(lost_amount.sum()),
        {str(k): float(v) for k, v in sorted(by_stage.items())},
    )
