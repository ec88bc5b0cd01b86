"""Order-to-cash KPIs: hand-off, fulfilment, invoicing, DSO, late payments, data freshness.

Pure functions over `CaseFacts`; definitions and formulas are in docs/kpis.md.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from .kpis_facts import AMOUNT, REGION, TERMS, CaseFacts, Transition, ratio, transitions

__all__ = [
    "DueRule",
    "Freshness",
    "LatePayments",
    "freshness",
    "late_mask",
    "late_payments",
    "o2c_transitions",
    "parse_terms",
]

O2C_PAIRS = (
    ("handoff", "first_won", "first_order", "hours"),
    ("fulfilment", "first_order", "first_fulfilled", "days"),
    ("fulfilment_to_invoice", "first_fulfilled", "first_invoice", "days"),
    ("dso", "first_invoice", "last_payment", "days"),
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
class LatePayments:
    """Paid cases whose last payment came after the due date their PaymentTerms give."""

    paid_cases: int
    paid_with_terms: int
    late_cases: int
    late_payment_rate: float | None
    late_days_mean: float | None
    overdue_open_cases: int
    overdue_open_amount: float
    unparsed_terms: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Flat keys, including late_payment_rate."""
        return {**asdict(self), "unparsed_terms": list(self.unparsed_terms)}


def due_dates(f: CaseFacts) -> pd.Series:
    """Each case's due date from its PaymentTerms (NaT when unknown or not invoiced)."""
    terms = f.attr(TERMS)
    rules = {t: parse_terms(t) for t in terms.dropna().unique()}
    invoice = pd.to_datetime(f.cases["first_invoice"])
    delivery = pd.to_datetime(f.cases["first_fulfilled"])
    days = terms.map({t: r.days for t, r in rules.items() if r}).astype(float)
    on_delivery = terms.map({t: r.anchor == "delivery" for t, r in rules.items() if r})
    on_delivery = on_delivery.astype(object).where(on_delivery.notna(), False)
    base = invoice.where(~on_delivery.astype(bool), np.maximum(invoice, delivery.fillna(invoice)))
    return base + pd.to_timedelta(days, unit="D")


def late_mask(f: CaseFacts) -> tuple[pd.Series, pd.Series]:
    """Per case: whether it is judged (paid, with a due date) and whether it was paid late
    (its last Payment Received after the due date)."""
    due = due_dates(f)
    judged = f.cases["last_payment"].notna() & due.notna()
    return judged, judged & (pd.to_datetime(f.cases["last_payment"]) > due)


def late_payments(f: CaseFacts) -> LatePayments:
    """Late = last Payment Received after the due date; overdue = invoiced, unpaid, due before as-of."""
    due = due_dates(f)
    paid = f.cases["last_payment"].notna()
    late = late_mask(f)[1]
    late_s = f.seconds(due[late], f.cases["last_payment"][late], f.attr(REGION)[late])
    as_of = pd.Timestamp(f.as_of) if f.as_of else pd.NaT
    overdue = ~paid & due.notna() & (due < as_of)
    terms = f.attr(TERMS).dropna().unique()
    return LatePayments(
        int(paid.sum()),
        int((paid & due.notna()).sum()),
        int(late.sum()),
        ratio(int(late.sum()), int((paid & due.notna()).sum())),
        float(np.mean(late_s)) / f.day_seconds if len(late_s) else None,
        int(overdue.sum()),
        float(f.attr(AMOUNT)[overdue].fillna(0.0).sum()),
        tuple(sorted(str(t) for t in terms if parse_terms(t) is None)),
    )


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
    now = now or datetime.now(timezone.utc)
    naive = now.astimezone(timezone.utc).replace(tzinfo=None)
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
