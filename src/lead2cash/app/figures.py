"""The headline figures: which KPIs the faces show first, with their labels, units and formats.

A figure names a key of the KPI results (`KpiSet.to_dict()`, dotted for nested keys), so
the terminal table, the dashboard's cards and the report all show the same number with the
same label and unit; durations are shown in days or hours of the results' time basis
(calendar or working time, see `units`). `case_set` names the cases a count refers to
(see `casesets`), so a face can link the number to the list of those cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .units import TimeBasis

__all__ = ["HEADLINES", "OVERVIEW", "Figure", "Kind"]

Kind = Literal["count", "share", "days", "hours", "amount"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One headline number: where it is in the KPI results and how to show it."""

    key: str
    label: str
    kind: Kind
    case_set: str | None = None
    hint: str = ""

    def value(self, kpis: Mapping[str, Any]) -> Any:
        """The figure's value in a KPI dict (None when absent)."""
        node: Any = kpis
        for part in self.key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node

    def unit(self, basis: TimeBasis) -> str:
        """The unit shown with the figure ('' for counts, '%' for shares)."""
        return {"count": "", "share": "%", "amount": "", "days": basis.unit("d"),
                "hours": basis.unit("h")}[self.kind]

    def header(self, basis: TimeBasis) -> str:
        """The label with its compact unit, for a table header ('cycle median (d)', '(wd)')."""
        unit = basis.short(self.kind[0]) if self.kind in ("days", "hours") else ""
        return f"{self.label} ({unit})" if unit else self.label

    def format(self, value: Any, basis: TimeBasis) -> str:
        """The value as text ('-' when missing); durations in days or hours of `basis`."""
        if value is None:
            return "-"
        if self.kind == "count":
            return f"{int(value):,}"
        if self.kind == "share":
            return f"{value:.1%}"
        if self.kind == "amount":
            return f"{value:,.0f}"
        shown = basis.days(value) if self.kind == "days" else basis.hours(value)
        return f"{shown:,.1f}"


HEADLINES: tuple[Figure, ...] = (
    Figure("cases", "cases", "count", "all"),
    Figure("win_rate", "win rate", "share"),
    Figure("sales_cycle_median_s", "cycle median", "days"),
    Figure("sales_cycle_p90_s", "cycle p90", "days"),
    Figure("quote_to_decision_median_s", "quote→decision", "days"),
    Figure("handoff_median_s", "hand-off median", "hours"),
    Figure("fulfilment_median_s", "fulfilment", "days"),
    Figure("dso_mean_s", "DSO mean", "days"),
    Figure("late_payment_rate", "late payments", "share"),
    Figure("reopen_rate", "reopen rate", "share"),
    Figure("regression_rate", "regression rate", "share"),
)
"""The KPIs `mine kpis` shows per segment, in this order."""

OVERVIEW: tuple[Figure, ...] = (
    Figure("cases", "Cases", "count", "all", "opportunities in the filtered log"),
    Figure("events", "Events", "count", None, "events of those cases"),
    Figure("win_rate", "Win rate", "share", "won", "won / (won + lost)"),
    Figure("sales_cycle_median_s", "Median sales cycle", "days", "closed",
           "created → final won/lost, closed cases"),
    Figure("handoff_median_s", "Hand-off time", "hours", "handoff",
           "median, opportunity won → sales order"),
    Figure("dso_mean_s", "DSO", "days", "paid", "mean, invoice → last payment"),
    Figure("late_payment_rate", "Late payments", "share", "late",
           "paid after the due date of the payment terms"),
    Figure("value_at_stake.open_amount", "Open pipeline", "amount", "open",
           "amount of open opportunities"),
    Figure("value_at_stake.stalled_open_amount", "Value at stake", "amount", "stalled",
           "open amount stalled beyond the threshold"),
)
"""The dashboard's and the report's KPI cards."""
