"""Reading a request's parameters into the application layer's types, checked.

The scope (global filter bar) comes from `Scope.from_params`; the case list's extra
condition (an activity, an edge or a variant clicked in a view) is written in the filter
language and read by its parser like any other condition, never pasted into SQL.
"""

from __future__ import annotations

import json

from starlette.requests import Request

from ..app.scope import Scope
from ..errors import Lead2CashError

__all__ = ["extra_condition", "quote", "scope_of", "variant_condition"]


def quote(text: str) -> str:
    """Text as a quoted string of the filter language."""
    return "'" + text.replace("'", "''") + "'"


def extra_condition(request: Request) -> str | None:
    """The condition a click adds: `has=A`, `follows=A&to=B`, `variant=["A", "B"]`, or
    `breaks=RULE-ID` (the cases that break a conformance rule)."""
    q = request.query_params
    if q.get("breaks"):
        return f"breaks {quote(q['breaks'])}"
    if q.get("has"):
        return f"has {quote(q['has'])}"
    if q.get("follows") and q.get("to"):
        return f"follows {quote(q['follows'])} -> {quote(q['to'])}"
    if q.get("variant"):
        try:
            acts = json.loads(q["variant"])
        except ValueError:
            acts = None
        if not isinstance(acts, list) or not acts or not all(isinstance(a, str) for a in acts):
            raise Lead2CashError("variant must be a JSON list of activity names",
                                 'write e.g. variant=["Opportunity Created", "Opportunity Lost"]')
        return variant_condition(acts)
    return None


def variant_condition(activities: list[str]) -> str:
    """The filter-language condition keeping the cases of exactly this variant."""
    return "variant = [" + ", ".join(quote(a) for a in activities) + "]"


def scope_of(request: Request, with_extra: bool = True) -> Scope:
    """The request's scope, plus the clicked condition when there is one."""
    scope = Scope.from_params(request.query_params)
    extra = extra_condition(request) if with_extra else None
    if extra:
        scope = scope.with_condition(extra)
        scope.filters()  # validate the combined condition now
    return scope
