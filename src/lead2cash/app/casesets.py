"""Named sets of cases behind the numbers the faces show, so each count links to its cases.

A case set is a name (`won`, `stalled`, `reached:Quote Issued`, ...) whose cases are chosen
from the KPIs' case facts with the same functions the KPIs count them with; the case list
of a KPI card therefore has exactly as many rows as the card says. Counts that a filter
expresses exactly (an activity, an edge, a variant) link through the filter language
instead (`has`, `follows`, `variant =`).
"""

from __future__ import annotations

import numpy as np

from ..errors import Lead2CashError
from ..mining.kpis import KpiOptions
from ..mining.kpis_facts import (
    DISCOUNT,
    FUNNEL,
    NONE_LABEL,
    OWNER,
    CaseFacts,
    band_labels,
    measured,
)
from ..mining.kpis_o2c import O2C_PAIRS, group_keys, payment_status
from ..mining.kpis_sales import SALES_PAIRS, stalled_cases

__all__ = ["CASE_SETS", "case_mask", "describe"]

CASE_SETS: dict[str, str] = {
    "all": "every case",
    "won": "cases whose final outcome is Won",
    "lost": "cases whose final outcome is Lost",
    "open": "cases not (or no longer) decided",
    "closed": "cases whose final outcome is Won or Lost",
    "ever_closed": "cases with at least one Won or Lost event",
    "reopened": "cases with an Opportunity Reopened event",
    "regressed": "cases with a stage regression",
    "stalled": "open cases in their stage for longer than the stall threshold",
    "paid": "cases with a Payment Received",
    "late": "paid cases whose last payment came after the due date",
    "overdue": "invoiced, unpaid cases past their due date",
    "reached:<stage>": "cases whose furthest pipeline stage is this stage or a later one",
    "stage:<stage>": "open cases whose current stage is this one",
    "stalled:<stage>": "stalled open cases in this stage",
    "measured:<transition>": "cases a milestone transition measures (e.g. measured:handoff)",
    "discounted": "cases with a known discount",
    "band:<discount band>": "discounted cases in a discount band",
    "owner:<owner>": "discounted cases of an owner",
    "paid_with_terms": "paid cases whose payment terms give a due date",
    "<set>@<attribute>=<value>": "a set's cases whose last known attribute value is this one",
}
"""Every case-set name and what it holds."""

_PAIRS = {name: (start, end) for name, start, end in (*SALES_PAIRS, *O2C_PAIRS)}
_PAIRS["closed"] = ("first_created", "close_time")  # the sales cycle, see below


_ARGUMENTS = {"reached": "stage", "stage": "stage", "stalled": "stage", "measured": "transition",
              "band": "discount band", "owner": "owner"}


def describe(name: str) -> str:
    """A reader's description of a case set ('cases a milestone transition measures: handoff')."""
    name, at, qualifier = name.partition("@")
    if at:
        return f"{describe(name)}, with {qualifier.replace('=', ' = ', 1)}"
    kind, _, arg = name.partition(":")
    key = f"{kind}:<{_ARGUMENTS[kind]}>" if arg and kind in _ARGUMENTS else kind
    text = CASE_SETS.get(key, name)
    return f"{text}: {arg}" if arg else text


def case_mask(f: CaseFacts, name: str, options: KpiOptions | None = None) -> np.ndarray:
    """Which of the facts' cases belong to the named set (a boolean array over `f.cases`)."""
    options = options or KpiOptions()
    base, at, qualifier = name.partition("@")
    if at:
        attribute, eq, value = qualifier.partition("=")
        if not eq or f"attr_{attribute}" not in f.cases.columns:
            raise Lead2CashError(f"case set {name!r}: no case attribute {attribute!r}",
                                 "write SET@Attribute=value, e.g. late@PaymentTerms=Net 30")
        return case_mask(f, base, options) & (group_keys(f, attribute).to_numpy() == value)
    n = len(f.cases)
    outcome = f.outcome.to_numpy()
    kind, _, arg = name.partition(":")
    if name == "all":
        return np.ones(n, dtype=bool)
    if name in ("won", "lost"):
        return outcome == name.capitalize()
    if name == "open":
        return f.outcome.isna().to_numpy()
    if name == "closed":
        return f.outcome.notna().to_numpy()
    if name == "ever_closed":
        return (f.cases["closes"] > 0).to_numpy()
    if name == "reopened":
        return (f.cases["reopens"] > 0).to_numpy()
    if name == "regressed":
        return f.cases["regressed"].to_numpy(dtype=bool)
    if name == "stalled":
        return stalled_cases(f, options.stall_days)
    if name in ("paid", "late", "overdue"):
        return getattr(payment_status(f), name).to_numpy(dtype=bool)
    if name == "paid_with_terms":
        status = payment_status(f)
        return (status.paid & status.due.notna()).to_numpy(dtype=bool)
    if kind == "reached" and arg in FUNNEL:
        return f.cases["max_stage"].to_numpy(dtype=float) >= FUNNEL.index(arg)
    if kind in ("stage", "stalled") and arg:
        stage = f.cases["stage"].fillna(NONE_LABEL).to_numpy(dtype=object) == arg
        base = stalled_cases(f, options.stall_days) if kind == "stalled" else f.outcome.isna().to_numpy()
        return base & stage
    if kind == "measured" and arg in _PAIRS:
        if arg == "closed":
            return f.outcome.notna().to_numpy()
        return measured(f, *_PAIRS[arg])
    if name == "discounted":
        return f.attr(DISCOUNT).notna().to_numpy()
    if kind in ("band", "owner") and arg:
        disc = f.attr(DISCOUNT)
        known = disc.notna().to_numpy()
        if kind == "band":
            labels = band_labels(disc, options.discount_bands, "{:.0%}").astype(str).to_numpy()
        else:
            labels = f.attr(OWNER).astype(object).where(f.attr(OWNER).notna(), NONE_LABEL).astype(str).to_numpy()
        return known & (labels == arg)
    raise Lead2CashError(f"unknown case set {name!r}",
                         f"use one of: {', '.join(CASE_SETS)}")

