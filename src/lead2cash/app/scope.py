"""The dashboard's global filter bar: URL parameters in, typed filters out.

Every view of the dashboard (and the report) applies the same scope: a time window, the
case attributes an analyst slices by most (region, owner, lead source, product category,
opportunity type), the outcome, an amount band, and a free filter in the `--filter`
language. The scope lives in the URL, so any view can be bookmarked and shared. Values
become typed filters (`mining.filters`) or go through the filter parser; they never reach
the engine as SQL text. A value the parser cannot read raises a `Lead2CashError` whose
message the page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..errors import Lead2CashError

if TYPE_CHECKING:
    from ..mining import Filter

__all__ = ["AMOUNT_BANDS", "ATTRIBUTE_FIELDS", "OUTCOMES", "WINDOW_MODES", "Scope"]

ATTRIBUTE_FIELDS: dict[str, str] = {
    "region": "SalesRegion",
    "owner": "OpportunityOwner",
    "source": "LeadSource",
    "product": "ProductCategory",
    "type": "OpportunityType",
}
"""URL parameter → the model attribute it filters on (cases with that value)."""

OUTCOMES: dict[str, str] = {"won": "Won", "lost": "Lost", "open": "open", "closed": "closed"}
WINDOW_MODES = ("started", "active", "ended")
AMOUNT_BANDS: dict[str, tuple[float | None, float | None]] = {
    "lt10k": (None, 10_000.0),
    "10k-50k": (10_000.0, 50_000.0),
    "50k-100k": (50_000.0, 100_000.0),
    "100k-250k": (100_000.0, 250_000.0),
    "ge250k": (250_000.0, None),
}
AMOUNT_LABELS: dict[str, str] = {
    "lt10k": "< 10,000", "10k-50k": "10,000 – 50,000", "50k-100k": "50,000 – 100,000",
    "100k-250k": "100,000 – 250,000", "ge250k": "≥ 250,000",
}
_MAX_TEXT = 2000


def _date(name: str, value: str) -> date | None:
    """A YYYY-MM-DD parameter (empty: none)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Lead2CashError(f"{name} {value!r} is not a date", "write it as YYYY-MM-DD") from None


@dataclass(frozen=True, slots=True)
class Scope:
    """The global filter of every view, as read from (and written back to) the URL."""

    start: str = ""
    end: str = ""
    window: str = "started"
    region: str = ""
    owner: str = ""
    source: str = ""
    product: str = ""
    type: str = ""
    outcome: str = ""
    amount: str = ""
    q: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Scope:
        """Read the scope's parameters (others are ignored), checking every value."""
        names = {f.name for f in fields(cls)}
        values = {k: str(params[k]).strip() for k in names if params.get(k)}
        for k, v in values.items():
            if len(v) > _MAX_TEXT:
                raise Lead2CashError(f"{k}: {len(v):,} characters is too long",
                                     f"keep it under {_MAX_TEXT:,} characters")
        scope = cls(**values)
        scope.filters()  # validate now: a bad value fails here, with a readable message
        return scope

    def filters(self) -> tuple[Filter, ...]:
        """The typed filters this scope applies (all must hold): its conditions written in the
        `--filter` language and read by the filter parser, so the dashboard and
        `lead2cash mine --filter` mean the same."""
        from ..mining.filter_language import parse_filters
        from .session import RuleBook

        self._check()  # `breaks 'id'` names a built-in conformance rule, as on the command line
        return tuple(parse_filters(self.filter_texts(), RuleBook()))

    def _check(self) -> None:
        """Fail with a readable message on a value the filter bar does not offer."""
        start, end = _date("start", self.start), _date("end", self.end)
        if self.window not in WINDOW_MODES:
            raise Lead2CashError(f"window {self.window!r} is not a time-window mode",
                                 f"use one of: {', '.join(WINDOW_MODES)}")
        if start and end and end <= start:
            raise Lead2CashError(f"the time window ends ({end}) before it starts ({start})",
                                 "choose an end date after the start date")
        if self.outcome and self.outcome not in OUTCOMES:
            raise Lead2CashError(f"outcome {self.outcome!r} is not known",
                                 f"use one of: {', '.join(OUTCOMES)}")
        if self.amount and self.amount not in AMOUNT_BANDS:
            raise Lead2CashError(f"amount band {self.amount!r} is not known",
                                 f"use one of: {', '.join(AMOUNT_BANDS)}")

    def filter_texts(self) -> list[str]:
        """The scope in the `--filter` language, one text per condition group (what to pass to
        `lead2cash mine ... --filter` to get the same numbers)."""
        texts: list[str] = []
        if self.start or self.end:
            parts = [self.window] + ([f"from {self.start}"] if self.start else []) + (
                [f"to {self.end}"] if self.end else [])
            texts.append(" ".join(parts))
        for key, column in ATTRIBUTE_FIELDS.items():
            value = getattr(self, key)
            if value:
                texts.append(f"{column} = {_quote(value)}")
        if self.outcome:
            kind = OUTCOMES.get(self.outcome, "")
            texts.append(kind if kind in ("open", "closed") else f"outcome = {_quote(kind)}")
        if self.amount in AMOUNT_BANDS:
            lo, hi = AMOUNT_BANDS[self.amount]
            texts += ([f"OpportunityAmount >= {lo:g}"] if lo is not None else []) + (
                [f"OpportunityAmount < {hi:g}"] if hi is not None else [])
        if self.q:
            texts.append(self.q)
        return texts

    def params(self) -> dict[str, str]:
        """The non-default parameters, for a URL."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != f.default}

    def query(self, **extra: Any) -> str:
        """A URL query string of this scope plus extra parameters (None or '' are left out)."""
        items = self.params() | {k: str(v) for k, v in extra.items() if v not in (None, "")}
        return urlencode(items)

    def with_condition(self, text: str) -> Scope:
        """This scope with one more condition in the free filter (e.g. a variant or an edge)."""
        return replace(self, q=f"{self.q} and {text}" if self.q else text)

    def without(self, name: str) -> Scope:
        """This scope without one parameter (for the filter bar's remove chips)."""
        return replace(self, **{name: next(f.default for f in fields(self) if f.name == name)})

    @property
    def empty(self) -> bool:
        """Whether the scope keeps every case."""
        return not self.params() or self.params() == {}

    def chips(self) -> list[tuple[str, str]]:
        """(parameter, label) of each active condition, for the filter bar."""
        labels = {"start": "from", "end": "to"}
        out = []
        for name, value in self.params().items():
            if name == "window":
                continue
            if name == "amount":
                value = AMOUNT_LABELS.get(value, value)
            out.append((name, f"{labels.get(name, name)}: {value}"))
        return out


def _quote(text: str) -> str:
    """Text as a quoted string of the filter language."""
    return "'" + text.replace("'", "''") + "'"
