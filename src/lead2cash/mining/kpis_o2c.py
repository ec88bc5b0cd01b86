"""Order-to-cash KPIs: hand-off, fulfilment, invoicing, DSO, late payments, data freshness.

Pure functions over `CaseFacts`; definitions and formulas are in docs/kpis.md.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from .kpis_facts import (
    AMOUNT,
    REGION,
    TERMS,
    CaseFacts,
    Transition,
    ratio,
    text_groups,
    transitions,
)

__all__ = [
    "DueRule",
    "Freshness",
    "LateFigures",
    "LateGroup",
    "LatePayments",
    "PaymentStatus",
    "freshness",
    "group_keys",
    "late_frame",
    "late_payments",
    "late_payments_by",
    "o2c_transitions",
    "parse_terms",
    "payment_status",
]

O2C_PAIRS = (
    ("handoff", "first_won", "first_order"),
    ("fulfilment", "first_order", "first_fulfilled"),
    ("fulfilment_to_invoice", "first_fulfilled", "first_invoice"),
    ("dso", "first_invoice", "last_payment"),
)


def o2c_transitions(f: CaseFacts) -> tuple[Transition, ...]:
    """Won → order (hand-off), order → fulfilled, fulfilled → invoice, invoice → last payment (DSO)."""
    return transitions(f, O2C_PAIRS)


@dataclass(frozen=True, slots=True)
class DueRule:
    """When payment is due: `days` after the first invoice, or on delivery (Order Fulfilled)."""

    anchor: str  # "invoice" or "delivery"
    days: int


_RULES: tuple[tuple[re.Pattern[str], str, int | None], ...] = (
    (re.compile(r"\b(on|upon|at|after)\s+delivery\b|\bcod\b|cash on delivery"), "delivery", 0),
    (re.compile(r"\bnet\s*(\d+)"), "invoice", None),
    (re.compile(r"\b(\d+)\s*days?\b"), "invoice", None),
    (re.compile(r"due on receipt|upon receipt|on receipt|immediate|prepaid|in advance|upfront"),
     "invoice", 0),
)


def parse_terms(text: str | None) -> DueRule | None:
    """Read payment terms such as 'Net 30', 'Due on Receipt', '50% upfront / 50% on delivery'.

    Split terms are due when their last instalment is: 'on delivery' wins over 'upfront'.
    '2% 10, Net 30' is Net 30 (the discount window is not a due date). Unknown text gives None.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    low = str(text).strip().lower()
    for pattern, anchor, days in _RULES:
        m = pattern.search(low)
        if m:
            return DueRule(anchor, days if days is not None else int(m.group(1)))
    return None


@dataclass(frozen=True, slots=True)
class LateFigures:
    """Late payments of a set of cases: paid with a due date, paid late (after it), their
    share and mean lateness; open cases overdue and their amount (`_late_figures`)."""

    paid_with_terms: int
    late_cases: int
    late_payment_rate: float | None
    late_mean_s: float | None
    overdue_open_cases: int
    overdue_open_amount: float


@dataclass(frozen=True, slots=True)
class LatePayments(LateFigures):
    """Paid cases whose last payment came after the due date their PaymentTerms give."""

    paid_cases: int = 0
    unparsed_terms: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Flat keys, including late_payment_rate."""
        return {**asdict(self), "unparsed_terms": list(self.unparsed_terms)}


def due_dates(f: CaseFacts) -> pd.Series:
    """Each case's due date from its PaymentTerms (NaT when unknown or not invoiced)."""
    def due(w: CaseFacts) -> pd.Series:
        terms = w.attr(TERMS)
        rules = {t: parse_terms(t) for t in terms.dropna().unique()}
        invoice = pd.to_datetime(w.cases["first_invoice"])
        delivery = pd.to_datetime(w.cases["first_fulfilled"])
        days = terms.map({t: r.days for t, r in rules.items() if r}).astype(float)
        on_delivery = terms.map({t: r.anchor == "delivery" for t, r in rules.items() if r})
        on_delivery = on_delivery.astype(object).where(on_delivery.notna(), False)
        base = invoice.where(~on_delivery.astype(bool), np.maximum(invoice, delivery.fillna(invoice)))
        return base + pd.to_timedelta(days, unit="D")
    return pd.Series(f.per_case("due", due), index=f.cases.index)


@dataclass(frozen=True)
class PaymentStatus:
    """Per case: paid, its due date, paid late, and overdue (invoiced, unpaid, due before as-of)."""

    paid: pd.Series
    due: pd.Series
    late: pd.Series
    overdue: pd.Series


def payment_status(f: CaseFacts) -> PaymentStatus:
    """Which cases are paid, paid late, overdue: the one definition behind the late-payment KPIs."""
    def status(f: CaseFacts) -> PaymentStatus:
        due = due_dates(f)
        paid = f.cases["last_payment"].notna()
        late = paid & due.notna() & (pd.to_datetime(f.cases["last_payment"]) > due)
        as_of = pd.Timestamp(f.as_of) if f.as_of else pd.NaT
        overdue = ~paid & due.notna() & (due < as_of)
        return PaymentStatus(paid, due, late, overdue)
    return f.once("payment_status", status)


def _lateness(f: CaseFacts) -> np.ndarray:
    """Each case's time from its due date to its last payment when paid late (NaN otherwise),
    in seconds (working time under a calendar)."""
    def measure(w: CaseFacts) -> np.ndarray:
        st = payment_status(w)
        out = np.full(len(w.cases), np.nan)
        late = st.late.to_numpy()
        out[late] = w.seconds(st.due[st.late], w.cases["last_payment"][st.late], w.attr(REGION)[st.late])
        return out
    return f.per_case("late_s", measure)


def late_payments(f: CaseFacts) -> LatePayments:
    """Late = last Payment Received after the due date; overdue = invoiced, unpaid, due before as-of."""
    totals = _late_totals(late_frame(f), np.zeros(len(f.cases), dtype=np.int64), 1)
    terms = f.attr(TERMS).dropna().unique()
    return LatePayments(**_late_figures(totals, 0), paid_cases=int(payment_status(f).paid.sum()),
                        unparsed_terms=tuple(sorted(str(t) for t in terms if parse_terms(t) is None)))


@dataclass(frozen=True, slots=True)
class Freshness:
    """How current the data is: newest and oldest LastDataUpdate, and its age now."""

    newest_update: str | None
    oldest_update: str | None
    newest_event: str | None
    checked_at: str
    age_hours: float | None
    events_without_update: int

    def to_dict(self) -> dict[str, Any]:
        """Flat keys; timestamps as ISO 8601 UTC."""
        return asdict(self)


def _iso(value: Any) -> str | None:
    """A timestamp as ISO text with a Z, or None."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat() + "Z"


def freshness(f: CaseFacts, now: datetime | None = None) -> Freshness:
    """Newest LastDataUpdate vs now (UTC); events lacking a LastDataUpdate are counted."""
    now = now or datetime.now(UTC)
    naive = now.astimezone(UTC).replace(tzinfo=None)
    newest = f.cases["updated_max"].max() if len(f.cases) else None
    age = None if newest is None or pd.isna(newest) else (
        (pd.Timestamp(naive) - pd.Timestamp(newest)) / pd.Timedelta(hours=1))
    return Freshness(
        _iso(newest),
        _iso(f.cases["updated_min"].min() if len(f.cases) else None),
        _iso(f.cases["end"].max() if len(f.cases) else None),
        _iso(naive) or "",
        None if age is None else float(age),
        int(f.cases["updated_missing"].sum()),
    )


@dataclass(frozen=True, slots=True)
class LateGroup(LateFigures):
    """Late payments of the cases sharing one value of an attribute (terms, region, customer)."""

    group: str = ""


def group_keys(f: CaseFacts, attribute: str) -> pd.Series:
    """Each case's last known value of an attribute as text ('(none)' when missing): the groups
    of `late_payments_by`."""
    codes, names = text_groups(f, f"attr_{attribute}")
    return pd.Series(names[codes], index=f.cases.index, dtype=object)


def late_frame(f: CaseFacts) -> pd.DataFrame:
    """Per case, what the late-payment KPIs count (`payment_status`, one pass): paid with a
    due date, late, the lateness in seconds, overdue and its amount."""
    st = payment_status(f)
    overdue = st.overdue.to_numpy()
    return pd.DataFrame({
        "with_terms": (st.paid & st.due.notna()).to_numpy(), "late": st.late.to_numpy(),
        "late_s": _lateness(f),
        "overdue": overdue,
        "overdue_amount": np.where(overdue, f.attr(AMOUNT).fillna(0.0).to_numpy(float), 0.0),
    })


def _late_totals(frame: pd.DataFrame, codes: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Per group of cases (codes 0 to k-1), from their `late_frame`: paid with a due date, late,
    lateness summed over the late, overdue and the overdue amount (the one aggregation behind
    `late_payments` and `late_payments_by`)."""
    def total(column: str, rows: np.ndarray | None = None) -> np.ndarray:
        values = frame[column].to_numpy(dtype=float)
        return np.bincount(codes if rows is None else codes[rows], minlength=k,
                           weights=values if rows is None else values[rows])
    late = frame["late"].to_numpy(dtype=bool)
    return (total("with_terms"), total("late"), total("late_s", late), total("overdue"),
            total("overdue_amount"))


def _late_figures(totals: tuple[np.ndarray, ...], i: int) -> dict[str, Any]:
    """The `LateFigures` fields of group `i` of `_late_totals` (built only for groups shown)."""
    with_terms, late_n, overdue = (int(totals[j][i]) for j in (0, 1, 3))
    late_sum, amount = float(totals[2][i]), float(totals[4][i])
    return {"paid_with_terms": with_terms, "late_cases": late_n,
            "late_payment_rate": ratio(late_n, with_terms),
            "late_mean_s": late_sum / late_n if late_n else None,
            "overdue_open_cases": overdue, "overdue_open_amount": amount}


def late_payments_by(f: CaseFacts, attribute: str, top: int | None = None,
                     frame: pd.DataFrame | None = None) -> list[LateGroup]:
    """Late payments per value of a case attribute, same definitions as `late_payments`; with
    `top`, the groups with the most late cases (then most overdue) first, at most `top`.
    `frame` is `late_frame(f)` when several attributes group the same facts."""
    codes, names = text_groups(f, f"attr_{attribute}")  # codes in the order of the names
    totals = _late_totals(late_frame(f) if frame is None else frame, codes, len(names))
    with_terms, late_n, _, overdue, _ = totals
    shown = np.flatnonzero((with_terms > 0) | (overdue > 0))
    if top is not None:  # most late, then most overdue, then most paid with terms; ties in name order
        shown = shown[np.lexsort((-with_terms[shown], -overdue[shown], -late_n[shown]))[:top]]
    return [LateGroup(**_late_figures(totals, i), group=str(names[i])) for i in shown]
