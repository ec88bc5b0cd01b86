"""Why a filter selected nothing: "matched 0 of N cases; did you mean 'Quote Issued'?".

A misspelt activity or attribute value is not an error of the filter language (it reads
fine), but it silently empties every table. After filtering, the CLI asks here whether the
selection is empty and, if so, which filter emptied it and which value of the log comes
closest to the one written.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from .engine import Engine
from .filters import Activity, Attribute, Filter, Follows, Not

__all__ = ["empty_selection"]


def empty_selection(eng: Engine, filters: Sequence[Filter]) -> str | None:
    """None when the filters keep at least one case; else a sentence naming the filter that
    keeps none (or saying that only their combination does), with the closest value."""
    if not filters:
        return None
    total = int(eng.execute(eng.cases().count()))
    if total == 0 or int(eng.execute(eng.cases(filters).count())):
        return None
    for flt in filters:
        if int(eng.execute(eng.cases([flt]).count())) == 0:
            hint = _closest(eng, flt)
            return (f"the filter {_show(flt)} matched 0 of {total:,} cases"
                    + (f"; did you mean {hint!r}?" if hint else ""))
    return f"each filter matches some cases, but together they matched 0 of {total:,} cases"


def _show(flt: Filter) -> str:
    """A filter as the user wrote it, near enough."""
    if isinstance(flt, Activity):
        return f"has {flt.name!r}"
    if isinstance(flt, Follows):
        return f"{flt.source!r} -> {flt.target!r}"
    if isinstance(flt, Attribute):
        return f"{flt.name} {flt.op} {flt.value!r}"
    return type(flt).__name__


def _closest(eng: Engine, flt: Filter) -> str | None:
    """The value of the log closest to the misspelt one (activities, text attributes)."""
    if isinstance(flt, Not):
        return None  # a negation that keeps nothing: every case has the value; nothing to suggest
    if isinstance(flt, Activity | Follows):
        names = _distinct(eng, "ActivityName")
        wanted = [flt.name] if isinstance(flt, Activity) else [flt.source, flt.target]
        for word in wanted:
            if word not in names:
                return _near(word, names)
        return None
    if isinstance(flt, Attribute) and isinstance(flt.value, str):
        return _near(flt.value, _distinct(eng, flt.name))
    return None


def _distinct(eng: Engine, column: str) -> list[str]:
    """The distinct text values of one events column (at most a few thousand are compared)."""
    events = eng.events()
    if column not in events.columns or not events[column].type().is_string():
        return []
    frame = eng.execute(events.select(column).distinct().limit(5000))
    return [str(v) for v in frame[column].dropna().tolist()]


def _near(word: str, names: list[str]) -> str | None:
    """The closest name by spelling, ignoring letter case."""
    lower = {n.lower(): n for n in names}
    hit = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.5)
    return lower[hit[0]] if hit else None
