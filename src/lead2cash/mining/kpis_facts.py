"""Per-case facts for the Lead-to-Cash KPIs: one engine query, then small pure functions.

The engine (DuckDB or Spark, through Ibis) reduces the events to one row per
case (outcome, milestone times, current stage, rework counts, case attributes)
and to the stage visits (each pipeline-stage event and when the next stage
event came). Every KPI is then a pure function of these frames, so both
engines give identical KPIs and any duration can be measured in calendar time
or in working time (`calendar.working_seconds` on the same pairs).

A workspace stores the whole log's facts and visits at load time (`derived.derive`, the one
write path, running `case_facts`' SQL compiled once per install, see compiled.py); KPIs
under a filter then read those rows (`CaseFacts.read`) instead of reducing the events again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property, partial
from typing import Any, TypeVar

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import Lead2CashError
from ..model import ACTIVITY_NAMES, ATTRIBUTE_NAMES, ATTRIBUTES, AttrType, Level
from .calendar import CalendarSet, working_seconds
from .derived import steps_expr
from .regression import FUNNEL, STAGE_ENTRIES, case_aggregates, regressed, with_ranks
from .stats import DurationStats, ratio

__all__ = [
    "CaseFacts",
    "DurationStats",
    "Transition",
    "band_labels",
    "band_names",
    "case_facts",
    "categories",
    "measured",
    "ratio",
    "segments",
    "stored_attributes",
    "text_groups",
    "transitions",
]

T = TypeVar("T")


def _act(name: str) -> str:
    """An activity name, checked against the model (a typo fails at import)."""
    assert name in ACTIVITY_NAMES, name
    return name


def _col(name: str) -> str:
    """An attribute name, checked against the model."""
    assert name in ATTRIBUTE_NAMES, name
    return name


CASE, ACT, TIME = _col("SalesOpportunityId"), _col("ActivityName"), _col("EventTime")
AMOUNT, DISCOUNT, OWNER = _col("OpportunityAmount"), _col("DiscountPercentage"), _col("OpportunityOwner")
REGION, TERMS, UPDATED = _col("SalesRegion"), _col("PaymentTerms"), _col("LastDataUpdate")
STAGE = _col("SalesStage")
EID = "event_id"
CREATED, WON, LOST = _act("Opportunity Created"), _act("Opportunity Won"), _act("Opportunity Lost")
REOPENED, STAGE_CHANGED = _act("Opportunity Reopened"), _act("Opportunity Stage Changed")

MILESTONES: dict[str, str] = {
    "quote": _act("Quote Issued"),
    "quote_accepted": _act("Quote Accepted"),
    "contract": _act("Contract Signed"),
    "won": WON,
    "order": _act("Sales Order Created"),
    "fulfilled": _act("Order Fulfilled"),
    "invoice": _act("Invoice Generated"),
}
"""Milestones whose first occurrence each case records, as `first_<key>`."""
PAYMENT = _act("Payment Received")
CASE_COLUMNS = (AMOUNT, DISCOUNT, OWNER, REGION, TERMS)
SEGMENT, ALL = "segment", "all"
NONE_LABEL = "(none)"


def case_facts(
    events: ir.Table, by: str | None = None, steps: ir.Table | None = None,
    attrs: Sequence[str] = (),
) -> tuple[ir.Table, ir.Table]:
    """The two Ibis expressions the KPIs need: per-case facts and stage visits.

    `steps` (the engine's precomputed per-event positions, see derived.py) spares the
    ordering window; without it the positions are computed here. Each case carries the last
    known value (`attr_<name>`) of the KPIs' own attributes, of `by` and of `attrs`.
    """
    if by is not None and by not in events.columns:
        raise Lead2CashError(
            f"cannot slice by '{by}': the log has no such column",
            f"use one of: {', '.join(c for c in events.columns if c in ATTRIBUTE_NAMES)}",
        )
    steps = steps_expr(events) if steps is None else steps
    e = events.join(steps.select(CASE, EID, "pos"), [CASE, EID])
    # One integer code per event: every condition below compares small integers, not names.
    code = ibis.cases(*((e[ACT] == a, i) for i, a in enumerate(ACTIVITY_NAMES)), else_=-1)
    e = e.mutate(code=code.cast("int8"))
    t = e[TIME]

    def is_(*names: str) -> ir.BooleanValue:
        """Whether the event's activity is one of these."""
        return e.code.isin([ACTIVITY_NAMES.index(n) for n in names])

    decided = ibis.ifelse(is_(WON, LOST), t, ibis.null("timestamp"))
    e = e.mutate(decided=decided.min().over(ibis.window(group_by=e[CASE])),
                 entered=ibis.ifelse(is_(*STAGE_ENTRIES), e[STAGE], ibis.null("string")))
    e = with_ranks(e, e.decided)
    t = e[TIME]
    closing, in_funnel = is_(WON, LOST, REOPENED), is_(*FUNNEL)
    attrs = dict.fromkeys([*CASE_COLUMNS, *([by] if by else []), *attrs])
    facts = e.group_by(CASE).aggregate(
        start=t.min(),
        end=t.max(),
        events=e.code.count(),
        first_created=t.min(where=is_(CREATED)),
        first_decision=t.min(where=is_(WON, LOST)),
        last_payment=t.max(where=is_(PAYMENT)),
        close_code=e.code.argmax(e.pos, where=closing),
        close_time=t.argmax(e.pos, where=closing),
        stage_code=e.code.argmax(e.pos, where=in_funnel),
        stage_activity_time=t.argmax(e.pos, where=in_funnel),
        stage_entered=e.entered.argmax(e.pos, where=e.entered.notnull()),
        stage_entered_time=t.argmax(e.pos, where=e.entered.notnull()),
        closes=e.code.count(where=is_(WON, LOST)),
        reopens=e.code.count(where=is_(REOPENED)),
        updated_max=e[UPDATED].max(),
        updated_min=e[UPDATED].min(),
        updated_missing=e.code.count(where=e[UPDATED].isnull()),
        **{f"first_{k}": t.min(where=is_(a)) for k, a in MILESTONES.items()},
        **{f"attr_{c}": e[c].argmax(e.pos, where=e[c].notnull()) for c in attrs},
        **case_aggregates(e),
    )
    boundary = events[ACT].isin([*FUNNEL, LOST, REOPENED, STAGE_CHANGED])
    s = events.filter(boundary)
    ws = ibis.window(group_by=s[CASE], order_by=[s[TIME], s[EID]])
    visits = s.select(CASE, ACT, entered=s[TIME], left=s[TIME].lead().over(ws))
    return facts, visits.filter(visits[ACT].isin(list(FUNNEL[:-1])))


def band_names(edges: Sequence[float], fmt: str = "{:,.0f}") -> list[str]:
    """The names of the bands [a, b) the edges make, lowest first, then '(none)'."""
    edges = sorted(edges)
    names = [f"< {fmt.format(edges[0])}"]
    names += [f"{fmt.format(a)} – {fmt.format(b)}" for a, b in zip(edges, edges[1:])]
    return [*names, f"≥ {fmt.format(edges[-1])}", NONE_LABEL]


def band_labels(values: pd.Series, edges: Sequence[float], fmt: str = "{:,.0f}") -> pd.Series:
    """Label each value with its band [a, b) from the edges, as an ordered category.

    Missing values get '(none)', the last category.
    """
    *names, _ = band_names(edges, fmt)
    edges = sorted(edges)
    v = values.astype(float).to_numpy()
    idx = np.searchsorted(np.asarray(edges, dtype=float), v, side="right")
    labels = np.where(np.isnan(v), NONE_LABEL, np.array(names, dtype=object)[idx])
    return pd.Series(pd.Categorical(labels, categories=[*names, NONE_LABEL]), index=values.index)


def text_groups(f: CaseFacts, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Each case's value of a column as text ('(none)' when missing), as codes into the
    sorted texts of the whole facts (computed once): groups by text without comparing text."""
    def factorize(w: CaseFacts) -> tuple[np.ndarray, np.ndarray]:
        values = w.cases[column]
        text = values.astype(object).where(values.notna(), NONE_LABEL).astype(str)
        codes, names = pd.factorize(text.to_numpy(dtype=object), sort=True)
        return codes, np.asarray(names, dtype=object)
    codes, names = f.shared(("text_groups", column), factorize)
    return (codes if f.whole is None else codes[f.cases["case_no"].to_numpy()]), names


def categories(values: pd.Series) -> pd.Series:
    """Values as text categories in sorted order (missing as '(none)')."""
    text = values.astype(object).where(values.notna(), NONE_LABEL).astype(str)
    return pd.Series(pd.Categorical(text, categories=sorted(text.unique())), index=values.index)


def segments(cases: pd.DataFrame, by: str | None, amount_bands: Sequence[float] | None) -> pd.Series:
    """Each case's segment: its `by` value, its amount band, both ('EMEA / < 10,000'), or 'all'."""
    parts = [categories(cases[f"attr_{by}"])] if by else []
    if amount_bands:
        parts.append(band_labels(cases[f"attr_{AMOUNT}"], amount_bands))
    if not parts:
        return pd.Series(pd.Categorical([ALL] * len(cases)), index=cases.index)
    if len(parts) == 1:
        return parts[0]
    a, b = parts
    names = [f"{x} / {y}" for x in a.cat.categories for y in b.cat.categories]
    return pd.Series(pd.Categorical(a.astype(str) + " / " + b.astype(str), categories=names),
                     index=cases.index)


def _us(series: pd.Series) -> np.ndarray:
    """Timestamps as numpy datetime64[us] (NaT kept)."""
    return pd.to_datetime(series).to_numpy().astype("datetime64[us]")


def _frame(expr: ir.Table) -> pd.DataFrame:
    """Run an expression and read it through Arrow; text as plain objects (fast row selection)."""
    frame = expr.to_pyarrow().to_pandas()
    text = [c for c, t in frame.dtypes.items() if isinstance(t, pd.StringDtype)]
    return frame.astype(dict.fromkeys(text, object))


def _decode(cases: pd.DataFrame) -> None:
    """Name the activity codes, and derive the furthest stage and the current stage (in place)."""
    names = pd.Series(ACTIVITY_NAMES, dtype=object)
    for col in ("close", "stage"):
        codes = cases.pop(f"{col}_code")
        cases[f"{col}_activity"] = names.reindex(codes.to_numpy()).to_numpy()
    first = cases[[f"rg_first_{i}" for i in range(len(FUNNEL))]].notna().to_numpy()  # see regression.py
    last_reached = len(FUNNEL) - 1 - np.argmax(first[:, ::-1], axis=1)
    cases["max_stage"] = np.where(first.any(axis=1), last_reached, np.nan)
    cases["stage"] = cases["stage_entered"].where(cases["stage_entered"].notna(),
                                                  cases["stage_activity"])
    cases["stage_time"] = cases["stage_entered_time"].where(cases["stage_entered"].notna(),
                                                            cases["stage_activity_time"])


def _visits(table: pa.Table, case_index: pd.Index) -> pd.DataFrame:
    """Stage visits with activity as a category and case ids as case numbers (small in memory)."""
    ids = table.column(CASE).combine_chunks().dictionary_encode()
    numbers = case_index.get_indexer(ids.dictionary.to_pandas())
    return pd.DataFrame({
        ACT: table.column(ACT).combine_chunks().dictionary_encode().to_pandas(),
        "case_no": numbers[ids.indices.to_numpy(zero_copy_only=False)],
        "entered": table.column("entered").to_pandas(),
        "left": table.column("left").to_pandas(),
    })


def _as_of(cases: pd.DataFrame) -> datetime | None:
    """The as-of time of a set of cases: their newest LastDataUpdate, else their newest event."""
    newest = cases["updated_max"].max() if len(cases) else None
    if newest is None or pd.isna(newest):
        newest = cases["end"].max() if len(cases) else None
    return None if newest is None or pd.isna(newest) else pd.Timestamp(newest).to_pydatetime()


@dataclass(frozen=True)
class CaseFacts:
    """The materialised facts (one row per case) and stage visits, with how to measure time.

    `cases` carries `case_no` (its row in the whole log); `all_visits` carries the `case_no`
    and the region of its case, so restricting them to a subset of cases is an integer lookup.
    A subset (a filter's cases, a segment) keeps the facts it was taken from as `whole`: what
    depends on each case alone is computed once over the whole and taken by case number
    (`per_case`), so the KPIs of a new filter compute only what depends on the set of cases.
    """

    cases: pd.DataFrame
    all_visits: pd.DataFrame
    as_of: datetime | None
    calendar: CalendarSet | None = None
    whole: CaseFacts | None = field(default=None, repr=False, compare=False)
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def load(
        cls,
        events: ir.Table,
        by: str | None = None,
        amount_bands: Sequence[float] | None = None,
        calendar: CalendarSet | None = None,
        steps: ir.Table | None = None,
    ) -> CaseFacts:
        """Run the facts query on the events' engine and label each case with its segment."""
        facts_expr, visits_expr = case_facts(events, by, steps)
        return cls.read(facts_expr, visits_expr, by, amount_bands, calendar)

    @classmethod
    def read(
        cls,
        facts: ir.Table,
        visits: ir.Table,
        by: str | None = None,
        amount_bands: Sequence[float] | None = None,
        calendar: CalendarSet | None = None,
    ) -> CaseFacts:
        """Read facts and visits (computed now, or stored at load time and restricted to the
        filtered cases) and label each case with its segment."""
        if by is not None and f"attr_{by}" not in facts.columns:
            raise Lead2CashError(f"cannot slice by '{by}': the case facts have no such attribute",
                                 "slice by a case attribute, e.g. SalesRegion or LeadSource")
        cases = _frame(facts.order_by(CASE))  # sorted by the engine: faster than on text here
        if not cases[CASE].is_monotonic_increasing:  # an engine's collation may differ
            cases = cases.sort_values(CASE, ignore_index=True)
        cases["case_no"] = np.arange(len(cases))
        cases[SEGMENT] = segments(cases, by, amount_bands)
        _decode(cases)
        cases["regressed"] = regressed(cases)
        # The regression aggregates served `regressed` and `max_stage`; dropping them keeps the
        # frame narrow, so taking subsets of cases (filters, segments) copies less.
        cases.drop(columns=[c for c in cases.columns if c.startswith("rg_")], inplace=True)
        close = cases["close_activity"]
        cases["outcome"] = close.map({WON: "Won", LOST: "Lost"}).astype(object).where(
            close.isin([WON, LOST]))
        visits = _visits(visits.to_pyarrow(), pd.Index(cases[CASE]))
        visits[f"attr_{REGION}"] = cases[f"attr_{REGION}"].to_numpy(dtype=object)[visits["case_no"]]
        # Text as plain objects in few blocks: taking a subset of cases copies little.
        text = [c for c, t in cases.dtypes.items() if isinstance(t, pd.StringDtype)]
        cases = cases.astype(dict.fromkeys(text, object)).copy()
        return cls(cases, visits, _as_of(cases), calendar)

    def shared(self, key: Hashable, compute: Callable[[CaseFacts], T]) -> T:
        """`compute(whole)` over the whole facts these were taken from, computed once."""
        return (self.whole or self).once(("shared", key), compute)

    def once(self, key: Hashable, compute: Callable[[CaseFacts], T]) -> T:
        """`compute(self)`, computed once for these facts (what several KPIs read)."""
        if key not in self._memo:
            self._memo.setdefault(key, compute(self))
        return self._memo[key]  # type: ignore[no-any-return]

    def per_case(self, key: Hashable, compute: Callable[[CaseFacts], Any]) -> np.ndarray:
        """One value per case that depends on the case's own facts only (not on the other
        cases of the set, nor on the as-of time): computed once over the whole facts
        (`compute(whole)`, aligned with its rows), taken by case number for these cases."""
        values: np.ndarray = self.shared(("per_case", key), lambda w: np.asarray(compute(w)))
        return values if self.whole is None else values[self.cases["case_no"].to_numpy()]

    @cached_property
    def visit_rows(self) -> np.ndarray | None:
        """Which of `all_visits` are of these cases (None: all, these are the whole facts)."""
        if self.whole is None:
            return None
        member = np.zeros(len(self.whole.cases), dtype=bool)
        member[self.cases["case_no"].to_numpy()] = True
        return member[self.all_visits["case_no"].to_numpy()]

    @cached_property
    def visits(self) -> pd.DataFrame:
        """The stage visits of this object's cases."""
        rows = self.visit_rows
        return self.all_visits if rows is None else self.all_visits[rows]

    def visit_seconds(self) -> np.ndarray:
        """Each of `visits`' time in stage (entered to left) in seconds, in the calendar of its
        case's region (computed once over the whole facts' visits)."""
        def measure(w: CaseFacts) -> np.ndarray:
            v = w.all_visits
            return w.seconds(v["entered"], v["left"], v[f"attr_{REGION}"])
        seconds: np.ndarray = self.shared("visit_seconds", measure)
        return seconds if self.visit_rows is None else seconds[self.visit_rows]

    def subset(self, mask: np.ndarray | pd.Series) -> CaseFacts:
        """The same facts restricted to the cases where mask is true."""
        return replace(self, cases=self.cases[np.asarray(mask, dtype=bool)].reset_index(drop=True),
                       whole=self.whole or self)

    def restrict(self, mask: np.ndarray | pd.Series) -> CaseFacts:
        """The facts of a subset of cases as if read for those cases alone: their own as-of
        time (a filtered log's newest LastDataUpdate), unlike `subset` (a segment of this log)."""
        part = self.subset(mask)
        return replace(part, as_of=_as_of(part.cases))

    def slices(self) -> dict[str, CaseFacts]:
        """One CaseFacts per segment, sorted by segment name."""
        seg = self.cases[SEGMENT]
        return {str(n): self.subset(seg == n) for n in seg.cat.categories if (seg == n).any()}

    @property
    def day_seconds(self) -> float:
        """Seconds in a 'day': 86,400, or one working day of the default calendar."""
        return float(self.calendar.default.day_seconds) if self.calendar else 86_400.0

    def seconds(self, start: pd.Series, end: pd.Series, region: pd.Series | None = None) -> np.ndarray:
        """Exact durations in seconds between two timestamp columns (working time if a calendar is set)."""
        s, e = _us(start), _us(end)
        if self.calendar is not None:
            if region is None:
                region = self.cases[f"attr_{REGION}"]
            return working_seconds(s, e, self.calendar, region.to_numpy(dtype=object))
        diff = (e - s).astype("timedelta64[us]")
        out = diff.astype(np.int64) / 1_000_000
        return np.where(np.isnat(diff), np.nan, out)

    def since(self, start: pd.Series, region: pd.Series | None = None) -> np.ndarray:
        """Seconds from each timestamp to the log's as-of time (its newest LastDataUpdate);
        `region` gives the calendar of each (default: every case's, when `start` has them all)."""
        as_of = np.datetime64("NaT", "us") if self.as_of is None else np.datetime64(self.as_of, "us")
        end = pd.Series(np.full(len(start), as_of), index=start.index)
        return self.seconds(start, end, region)

    def attr(self, name: str) -> pd.Series:
        """The case's last known value of a case attribute."""
        return self.cases[f"attr_{name}"]

    @property
    def outcome(self) -> pd.Series:
        """'Won', 'Lost' or None (open) from each case's last closing event."""
        return self.cases["outcome"]

    def is_outcome(self, value: str | None) -> np.ndarray:
        """Which cases' `outcome` is `value` ('Won' or 'Lost'; None: the open cases)."""
        def compare(w: CaseFacts) -> np.ndarray:
            return (w.outcome.isna() if value is None else w.outcome == value).to_numpy(dtype=bool)
        return self.per_case(("outcome", value), compare)


@dataclass(frozen=True, slots=True)
class Transition:
    """Time from one milestone to the next: first `start` to `end`, cases where end is not before."""

    name: str
    duration: DurationStats

    def to_dict(self) -> dict[str, Any]:
        """Flat keys such as `handoff_median_s` (seconds of calendar or working time)."""
        return self.duration.to_dict(f"{self.name}_")


def transitions(f: CaseFacts, pairs: Sequence[tuple[str, str, str]]) -> tuple[Transition, ...]:
    """Measure each (name, start column, end column) pair over the cases that have both."""
    def measure(w: CaseFacts, start: str, end: str) -> np.ndarray:
        seconds = w.seconds(w.cases[start], w.cases[end])
        seconds[~measured(w, start, end)] = np.nan
        return seconds
    return tuple(Transition(name, DurationStats.of(
        f.per_case(("transition", start, end), partial(measure, start=start, end=end))))
        for name, start, end in pairs)


def measured(f: CaseFacts, start: str, end: str) -> np.ndarray:
    """The cases a transition measures: both times known, the end not before the start."""
    s, e = f.cases[start], f.cases[end]
    return (s.notna() & e.notna() & (e >= s)).to_numpy()


def stored_attributes(events: ir.Table) -> list[str]:
    """The case attributes whose last value the stored facts keep: every case-level attribute
    of the model in the log (durations excepted), so any of them can slice stored KPIs."""
    return [a.name for a in ATTRIBUTES
            if a.level is Level.CASE and a.type is not AttrType.DURATION and a.name != CASE
            and a.name in events.columns]
