"""Sales-side KPIs: win rate, sales cycle, funnel, stalls, rework, discounts, value at stake.

Each function is pure over `CaseFacts` (see kpis_facts) and returns a frozen
dataclass with `to_dict()`; definitions and formulas are in docs/kpis.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .kpis_facts import (
    AMOUNT,
    DISCOUNT,
    FUNNEL,
    OWNER,
    REGION,
    CaseFacts,
    DurationStats,
    Transition,
    band_labels,
    band_names,
    ratio,
    text_groups,
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
    won, lost = int(f.is_outcome("Won").sum()), int(f.is_outcome("Lost").sum())
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
    def measure(w: CaseFacts) -> np.ndarray:
        start = w.cases["first_created"].fillna(w.cases["start"])
        seconds = w.seconds(start, w.cases["close_time"])
        return np.where(w.outcome.notna().to_numpy(), seconds, np.nan)
    return f.per_case("cycle", measure)


def sales_cycle(f: CaseFacts) -> SalesCycle:
    """From Opportunity Created (else the first event) to the final Won or Lost event."""
    closed = cycle_seconds(f)
    return SalesCycle(
        DurationStats.of(closed),
        DurationStats.of(closed[f.is_outcome("Won")]),
        DurationStats.of(closed[f.is_outcome("Lost")]),
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
    acts = f.all_visits["ActivityName"].cat  # the visits' stages as codes, taken for these cases
    codes = acts.codes.to_numpy() if f.visit_rows is None else acts.codes.to_numpy()[f.visit_rows]
    code = {name: i for i, name in enumerate(acts.categories)}
    seconds = f.visit_seconds()
    stages = []
    for i, name in enumerate(FUNNEL):
        nxt = ratio(reached[i + 1], reached[i]) if i + 1 < len(FUNNEL) else None
        spent = DurationStats.of(seconds[codes == code.get(name, -2)])
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
    def ages(f: CaseFacts) -> tuple[np.ndarray, np.ndarray]:
        c = f.cases
        open_ = f.is_outcome(None)
        entered = c["stage_time"].where(c["stage_time"].notna(), c["start"])[open_]
        return open_, f.since(entered, f.attr(REGION)[open_])
    return f.once("open_ages", ages)


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
    codes, names = text_groups(f, "stage")  # the current stage, '(none)' when there is none
    stage = codes[open_]
    amount = f.attr(AMOUNT).fillna(0.0).to_numpy(dtype=float)[open_]
    counts = np.bincount(stage, minlength=len(names))
    rows = []
    for k in sorted(np.flatnonzero(counts), key=lambda k: (-counts[k], names[k])):
        m = stage == k
        stuck = m & _stalled(f, age, threshold_days)
        rows.append(StageStall(str(names[k]), int(counts[k]), float(amount[m].sum()),
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


def _groups(f: CaseFacts, keys: tuple[np.ndarray, np.ndarray], within: np.ndarray,
            cycle: np.ndarray) -> tuple[DiscountGroup, ...]:
    """Discount, win rate, median cycle and mean amount per group, over the cases `within`
    (one pass: integer group codes, counts and sums by `bincount`, each group's median as
    DurationStats); `keys` are each case's group code and the groups' names in order (groups
    without a case are left out); `cycle` is `cycle_seconds(f)`."""
    codes, names = keys
    codes = np.where(within, codes, -1)
    k = len(names)

    def mean(values: np.ndarray) -> np.ndarray:
        ok = (codes >= 0) & ~np.isnan(values)
        n = np.bincount(codes[ok], minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, np.bincount(codes[ok], weights=values[ok], minlength=k) / n, np.nan)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[(codes >= 0) & mask], minlength=k)

    cases = count(np.ones(len(codes), bool))
    won, lost = count(f.is_outcome("Won")), count(f.is_outcome("Lost"))
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
        for i, name in enumerate(names) if cases[i] > 0
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
    band_codes = f.per_case(("discount band", bands),
                            lambda w: band_labels(w.attr(DISCOUNT), bands, "{:.0%}").cat.codes)
    return Discounts(
        policy_threshold,
        int(known.sum()),
        ratio(above, int(known.sum())),
        _groups(f, (band_codes, np.array(band_names(bands, "{:.0%}"), dtype=object)), within, cycle),
        _groups(f, text_groups(f, f"attr_{OWNER}"), within, cycle),  # the known discounts' owners
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
    lost = f.is_outcome("Lost")
    lost_amount = f.attr(AMOUNT)[lost].fillna(0.0)
    codes, names = text_groups(f, "stage")  # the last stage, '(none)' when there is none
    by_stage = lost_amount.groupby(codes[lost]).sum().rename(lambda k: names[k])
    stuck = _stalled(f, age, threshold_days)
    return ValueAtStake(
        threshold_days,
        float(amount.sum()),
        int(stuck.sum()),
        float(amount[stuck].sum()),
        float(lost_amount.sum()),
        {str(k): float(v) for k, v in sorted(by_stage.items())},
    )
