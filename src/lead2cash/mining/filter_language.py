"""The `--filter` language: readable conditions joined by `and`, parsed into typed filters.

    SalesRegion = 'EMEA' and has 'Quote Issued' and duration > 30d
    OpportunityAmount >= 50000 and not has 'Opportunity Reopened'
    follows 'Quote Issued' -> 'Opportunity Won' and outcome in ('Won', 'Lost')
    started from 2024-01-01 to 2024-07-01 and closed
    variant = ['Opportunity Created', 'Opportunity Lost']
    breaks 'payment-after-invoice'                  (a conformance rule, see docs/conformance.md)

Event filters change the events before the case filters choose cases (in the order given):

    drop activities ('Opportunity Stage Changed')   keep activities ('Quote Issued', ...)
    keep events SalesStage in ('Prospecting', 'Qualification')   drop events SourceSystem = 'X'
    rename 'Opportunity Qualified' -> 'Qualified'   merge ('A', 'B') -> 'A or B'
    lifecycle complete                              lifecycle pairs

Strings take single quotes ('' inside for a quote); attributes with unusual
names take double quotes. Durations: a number with us, ms, s, m, h, d or w.
Dates: YYYY-MM-DD[THH:MM[:SS]] in UTC; `from` is included, `to` excluded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, cast

from ..errors import Lead2CashError
from .event_filters import EventCondition, KeepEvents, Lifecycle, RenameActivities
from .filters import (
    Activity,
    Attribute,
    CaseDuration,
    Closed,
    Filter,
    Follows,
    Not,
    Op,
    Outcome,
    TimeWindow,
    Variant,
)

__all__ = ["SYNTAX", "parse_filter", "parse_filters"]

SYNTAX = (
    "write conditions joined by 'and', e.g. SalesRegion = 'EMEA' and has 'Quote Issued' and "
    "duration > 30d; also: not ..., Attr in ('a', 'b'), follows 'A' -> 'B', variant = ['A', 'B'], "
    "outcome = 'Won', open, closed, started|ended|active|contained from 2024-01-01 to 2024-07-01, "
    "breaks 'rule-id'; event filters: keep|drop activities ('A', 'B'), keep|drop events Attr = 'x', "
    "rename 'A' -> 'B', merge ('A', 'B') -> 'C', lifecycle complete|pairs (see docs/mining.md)"
)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<ident>"(?:[^"]|"")*")
    | (?P<date>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?)
    | (?P<dur>\d+(?:\.\d+)?(?:us|ms|s|m|h|d|w)\b)
    | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<op>->|<=|>=|!=|=|<|>|\(|\)|\[|\]|,)
    | (?P<word>[A-Za-z_][A-Za-z0-9_:.]*)
    )""",
    re.VERBOSE,
)
T = TypeVar("T")
_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_MODES = ("started", "ended", "active", "contained")
_COMPARE = ("=", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokens(text: str) -> list[_Tok]:
    """Split the expression into tokens, failing at the first character that fits none."""
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.lastgroup is None:
            start = len(text) - len(text[pos:].lstrip())
            raise _error(text, start, f"cannot read {text[start:start + 12]!r}")
        out.append(_Tok(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)))
        pos = m.end()
    return out


def _error(text: str, pos: int, problem: str) -> Lead2CashError:
    """A parse error pointing at the character where reading failed."""
    return Lead2CashError(f"--filter {text!r}, character {pos + 1}: {problem}", SYNTAX)


class _Parser:
    """Recursive descent over the token list (one instance per expression)."""

    def __init__(self, text: str, rules: Mapping[str, Filter] | None = None) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.rules = rules

    def fail(self, problem: str) -> Lead2CashError:
        pos = self.toks[self.i].pos if self.i < len(self.toks) else len(self.text)
        return _error(self.text, pos, problem)

    def peek(self, text: str | None = None, kind: str | None = None) -> bool:
        if self.i >= len(self.toks):
            return False
        t = self.toks[self.i]
        return (text is None or t.text.lower() == text) and (kind is None or t.kind == kind)

    def take(self, kind: str | None = None, text: str | None = None, what: str = "") -> _Tok:
        if not self.peek(text, kind):
            found = f"{self.toks[self.i].text!r}" if self.i < len(self.toks) else "the end"
            raise self.fail(f"expected {what or text or kind}, found {found}")
        self.i += 1
        return self.toks[self.i - 1]

    def parse(self) -> list[Filter]:
        if not self.toks:
            raise self.fail("the filter is empty")
        out = [self.term()]
        while self.peek("and", "word"):
            self.i += 1
            out.append(self.term())
        if self.i < len(self.toks):
            raise self.fail(f"expected 'and' or the end, found {self.toks[self.i].text!r}")
        return out

    def term(self) -> Filter:
        if self.peek("not", "word"):
            self.i += 1
            inner = self.term()
            if isinstance(inner, (KeepEvents, RenameActivities, Lifecycle)):
                self.i -= 1
                raise self.fail("'not' applies to case conditions, not to event filters")
            return Not(inner)
        word = self.take(what="a condition")
        key = word.text.lower() if word.kind == "word" else ""
        if key in ("keep", "drop"):
            return self.events(key == "keep")
        if key == "rename":
            old = self.string()
            self.take("op", "->", "'->'")
            return RenameActivities(((old, self.string()),))
        if key == "merge":
            olds = self.sequence("(", ")", self.string)
            self.take("op", "->", "'->'")
            new = self.string()
            return RenameActivities(tuple((o, new) for o in olds))
        if key == "lifecycle":
            mode = self.take("word", what="complete or pairs").text.lower()
            if mode not in ("complete", "pairs"):
                self.i -= 1
                raise self.fail(f"lifecycle takes complete or pairs, not {mode!r}")
            return Lifecycle(mode)  # type: ignore[arg-type]
        if key == "breaks":
            return self.rule()
        if key == "has":
            return Activity(self.string())
        if key == "follows":
            source = self.string()
            self.take("op", "->", "'->'")
            return Follows(source, self.string())
        if key == "variant":
            self.take("op", "=", "'='")
            return Variant(tuple(self.sequence("[", "]", self.string)))
        if key == "duration":
            return self.duration()
        if key == "outcome":
            return Outcome(tuple(self.values_after_in_or_eq(self.string)))
        if key in ("open", "closed"):
            return Not(Closed()) if key == "open" else Closed()
        if key in _MODES:
            return self.window(key)
        if word.kind in ("word", "ident"):
            return self.attribute(word)
        self.i -= 1
        raise self.fail(f"a condition cannot start with {word.text!r}")

    def events(self, keep: bool) -> Filter:
        """`keep|drop activities (...)` or `keep|drop events <attribute condition>`."""
        what = self.take("word", what="'activities' or 'events'").text.lower()
        if what == "activities":
            names = tuple(self.sequence("(", ")", self.string))
            return KeepEvents(EventCondition("ActivityName", "in", names), keep)
        if what != "events":
            self.i -= 1
            raise self.fail(f"expected 'activities' or 'events', found {what!r}")
        word = self.take(what="an attribute")
        if word.kind not in ("word", "ident"):
            self.i -= 1
            raise self.fail("expected an attribute name")
        cond = self.attribute(word)
        if isinstance(cond, Not):  # != and not in: events with another value (missing: neither)
            inner = cast(Attribute, cond.inner)
            op = "not in" if inner.op == "in" else "!="
            return KeepEvents(EventCondition(inner.name, op, inner.value), keep)
        flt = cast(Attribute, cond)
        return KeepEvents(EventCondition(flt.name, flt.op, flt.value), keep)

    def rule(self) -> Filter:
        """`breaks 'rule-id'`: the cases that break a conformance rule."""
        name = self.string()
        if self.rules is None:
            self.i -= 1
            raise self.fail("'breaks' needs a rule set (the mine commands give the built-in one)")
        found = self.rules.get(name)
        if found is None:
            self.i -= 1
            raise self.fail(f"no rule {name!r}; rules: {', '.join(self.rules)}")
        return found

    def string(self) -> str:
        return self.take("str", what="a quoted 'text'").text[1:-1].replace("''", "'")

    def literal(self) -> str | float | datetime:
        if self.peek(kind="str"):
            return self.string()
        if self.peek(kind="num"):
            return float(self.take().text)
        if self.peek(kind="date"):
            return self.date()
        raise self.fail("expected a value: 'text', a number or a date")

    def date(self) -> datetime:
        tok = self.take("date", what="a date YYYY-MM-DD")
        try:
            return datetime.fromisoformat(tok.text)
        except ValueError as exc:
            self.i -= 1
            raise self.fail(f"{tok.text!r} is not a valid date ({exc})") from exc

    def sequence(self, open_: str, close: str, item: Callable[[], T]) -> list[T]:
        self.take("op", open_, f"'{open_}'")
        items = [item()]
        while self.peek(",", "op"):
            self.i += 1
            items.append(item())
        self.take("op", close, f"',' or '{close}'")
        return items

    def values_after_in_or_eq(self, item: Callable[[], T]) -> list[T]:
        if self.peek("in", "word"):
            self.i += 1
            return self.sequence("(", ")", item)
        self.take("op", "=", "'=' or 'in'")
        return [item()]

    def attribute(self, word: _Tok) -> Filter:
        name = word.text[1:-1].replace('""', '"') if word.kind == "ident" else word.text
        negate = False
        if self.peek("not", "word"):
            self.i += 1
            negate = True
            if not self.peek("in", "word"):
                raise self.fail("expected 'in' after 'not'")
        if self.peek("in", "word"):
            self.i += 1
            flt: Filter = Attribute(name, "in", tuple(self.sequence("(", ")", self.literal)))
            return Not(flt) if negate else flt
        op = self.take("op", what="a comparison (=, !=, <, <=, >, >=, in)").text
        if op not in _COMPARE:
            self.i -= 1
            raise self.fail(f"{op!r} is not a comparison")
        if op == "!=":
            return Not(Attribute(name, "=", self.literal()))
        return Attribute(name, cast(Op, op), self.literal())

    def duration(self) -> Filter:
        op = self.take("op", what="a comparison").text
        tok = self.take("dur", what="a duration such as 30d, 12h or 90m")
        unit = re.sub(r"[\d.]", "", tok.text)
        seconds = float(tok.text[: -len(unit)]) * _UNITS_S[unit]
        if op in (">", ">="):
            return CaseDuration(min_s=seconds)
        if op in ("<", "<="):
            return CaseDuration(max_s=seconds)
        if op == "=":
            return CaseDuration(seconds, seconds)
        raise self.fail(f"duration takes <, <=, >, >= or =, not {op!r}")

    def window(self, mode: str) -> Filter:
        start = end = None
        if self.peek("from", "word"):
            self.i += 1
            start = self.date()
        if self.peek("to", "word"):
            self.i += 1
            end = self.date()
        if start is None and end is None:
            raise self.fail(f"expected 'from DATE' and/or 'to DATE' after {mode!r}")
        return TimeWindow(start, end, mode)  # type: ignore[arg-type]


def parse_filter(text: str, rules: Mapping[str, Filter] | None = None) -> list[Filter]:
    """Parse one `--filter` expression into the filters it joins with `and`; `rules` (by id)
    are what `breaks 'id'` may name."""
    return _Parser(text, rules).parse()


def parse_filters(texts: Iterable[str], rules: Mapping[str, Filter] | None = None) -> list[Filter]:
    """Parse several `--filter` options; all their conditions must hold."""
    return [f for text in texts for f in parse_filter(text, rules)]
