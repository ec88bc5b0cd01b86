"""Declarative rules over activities (Declare templates), as Ibis predicates on any engine.

A `Rule` finds the cases that break it with one Ibis expression over the mining
tables (steps and cases), so DuckDB and Spark give identical answers. A rule is
also a case filter (`predicate` keeps the cases that break it): `Not(rule)` keeps
the conforming ones, and `breaks 'rule-id'` does the same in the filter language.

Templates (A = `a`, B = `b`; "within" = the optional time limit; events ordered
by EventTime, then event_id):

| template            | a case breaks it when ...                                             |
|---------------------|-----------------------------------------------------------------------|
| init                | its first event is not A                                              |
| end                 | its last event is not A                                               |
| existence           | it has fewer than n A (n = 1; within: counted from the case's start)  |
| absence             | it has n or more A (n = 1: any A at all)                              |
| exactly             | it does not have exactly n A                                          |
| response            | an A is not followed by a B (within the limit)                        |
| precedence          | a B is not preceded by an A (within the limit)                       |
| succession          | response and precedence                                               |
| chain-response      | an A is not directly followed by a B (within the limit)               |
| responded-existence | it has an A but no B (within: no B within the limit of each A)        |
| not-coexistence     | it has both an A and a B                                              |
| not-succession      | a B follows an A (with `unless` C: without a C between them)          |

`when` (filters, e.g. from `outcome = 'Lost'`) limits a rule to the cases they keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import ibis
import ibis.expr.types as ir

from ..mining.filters import CASE, Filter, LogTables, select_cases

__all__ = ["BINARY", "TEMPLATES", "TIMED", "Rule", "Template"]

Template = Literal[
    "init", "end", "existence", "absence", "exactly", "response", "precedence", "succession",
    "chain-response", "responded-existence", "not-coexistence", "not-succession",
]
TEMPLATES: tuple[str, ...] = get_args(Template)
BINARY = frozenset({"response", "precedence", "succession", "chain-response",
                    "responded-existence", "not-coexistence", "not-succession"})
"""Templates relating two activities (they need `b`)."""
TIMED = frozenset({"existence", "response", "precedence", "succession", "chain-response",
                   "responded-existence"})
"""Templates that take a time limit (`within`)."""
COUNTED = frozenset({"existence", "absence", "exactly"})
"""Templates that take a count (`n`)."""

ACT, TIME = "ActivityName", "EventTime"


@dataclass(frozen=True, slots=True)
class Rule:
    """One constraint: template, activities, optional count, time limit, exception, scope."""

    id: str
    template: Template
    a: str
    b: str | None = None
    n: int = 1
    within_s: float | None = None
    unless: str | None = None
    when: tuple[Filter, ...] = ()
    when_text: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.template not in TEMPLATES:
            raise ValueError(f"unknown template {self.template!r}")
        if (self.template in BINARY) != (self.b is not None):
            raise ValueError(f"rule {self.id!r}: template {self.template} "
                             f"{'needs' if self.template in BINARY else 'takes no'} activity b")
        if self.within_s is not None and self.template not in TIMED:
            raise ValueError(f"rule {self.id!r}: template {self.template} takes no time limit")
        if self.unless is not None and self.template != "not-succession":
            raise ValueError(f"rule {self.id!r}: only not-succession takes 'unless'")

    @property
    def activities(self) -> tuple[str, ...]:
        """The activities the rule names."""
        return tuple(x for x in (self.a, self.b, self.unless) if x is not None)

    def text(self) -> str:
        """The rule in words, e.g. 'precedence(Quote Issued, Quote Accepted) within 30d'."""
        args = ", ".join(self.activities)
        out = f"{self.template}({args})"
        if self.template in COUNTED and (self.n != 1 or self.template == "exactly"):
            out += f" n={self.n}"
        if self.within_s is not None:
            out += f" within {_duration(self.within_s)}"
        if self.when_text:
            out += f" when {self.when_text}"
        return out

    # --- evaluation --------------------------------------------------------------------------

    def predicate(self, t: LogTables) -> ir.BooleanValue:
        """True for the cases that break the rule (the Filter protocol)."""
        return t.cases[CASE].isin(self.violations(t))

    def applies(self, t: LogTables) -> ir.BooleanValue:
        """True for the cases the rule is checked on (all, or those `when` keeps)."""
        if not self.when:
            return ibis.literal(True)
        return t.cases[CASE].isin(select_cases(t, self.when))

    def violations(self, t: LogTables) -> ir.Column:
        """The ids of the cases that break the rule."""
        ids = self._broken(t)
        if self.when:
            ids = ids.as_table().filter(ids.isin(select_cases(t, self.when)))[CASE]
        return ids

    def _limit(self) -> ir.IntegerScalar | None:
        return None if self.within_s is None else ibis.literal(round(self.within_s * 1e6), type="int64")

    def _broken(self, t: LogTables) -> ir.Column:
        s, c = t.steps, t.cases
        a, b = ibis.literal(self.a), ibis.literal(self.b) if self.b is not None else None
        limit = self._limit()
        tpl = self.template
        if tpl == "init":
            return c.filter(c.first_activity.isnull() | (c.first_activity != a))[CASE]
        if tpl == "end":
            return c.filter(c.last_activity.isnull() | (c.last_activity != a))[CASE]
        if tpl in COUNTED:
            hits = s.filter(s[ACT] == a)
            if limit is not None:
                hits = hits.join(c.select(CASE, "start_time"), CASE)
                hits = hits.filter(hits[TIME].delta(hits.start_time, unit="microsecond") <= limit)
            counts = hits.group_by(CASE).aggregate(k=hits.count())
            joined = c.select(CASE).left_join(counts, CASE)
            k = joined.k.fill_null(0)
            bad = {"existence": k < self.n, "absence": k >= self.n, "exactly": k != self.n}[tpl]
            return joined.filter(bad)[CASE]
        if tpl == "not-coexistence":
            both = s.group_by(CASE).aggregate(ka=(s[ACT] == a).sum(), kb=(s[ACT] == b).sum())
            return both.filter((both.ka > 0) & (both.kb > 0))[CASE]
        if tpl == "chain-response":
            bad = s.target.isnull() | (s.target != b)
            if limit is not None:
                bad = bad | (s.duration_us > limit)
            return s.filter((s[ACT] == a) & bad)[CASE].as_table().distinct()[CASE]
        if tpl == "succession":
            r = self._with_template("response")._broken(t)
            p = self._with_template("precedence")._broken(t)
            return r.as_table().union(p.as_table(), distinct=True)[CASE]
        if limit is None and tpl in ("response", "precedence", "not-succession") \
                and self.unless is None:
            return self._by_positions(s, a, b)  # type: ignore[arg-type]
        return self._windowed(s, a, b, limit)  # type: ignore[arg-type]

    def _by_positions(self, s: ir.Table, a: ir.StringScalar, b: ir.StringScalar) -> ir.Column:
        """Response, precedence and not-succession without a time limit or exception, from
        each case's first and last position of A and of B (one aggregate instead of an ordered
        window over every event: the same cases, a fraction of the work on a large log).

        An A not followed by a B: the last A is after the last B (or there is no B); a B not
        preceded by an A: the first B is before the first A (or there is no A); a B after an
        A: the last B is after the first A. With A = B, "after" means a later position, as in
        the windows (`_windowed`), hence <= and >= where the positions may be the same event.
        """
        none = ibis.null("int64")
        at_a = ibis.ifelse(s[ACT] == a, s.pos, none)
        at_b = ibis.ifelse(s[ACT] == b, s.pos, none)
        g = s.group_by(CASE).aggregate(a_first=at_a.min(), a_last=at_a.max(),
                                       b_first=at_b.min(), b_last=at_b.max())
        if self.template == "response":
            bad = g.a_last.notnull() & (g.b_last.isnull() | (g.b_last <= g.a_last))
        elif self.template == "precedence":
            bad = g.b_first.notnull() & (g.a_first.isnull() | (g.a_first >= g.b_first))
        else:  # not-succession
            bad = g.a_first.notnull() & g.b_last.notnull() & (g.b_last > g.a_first)
        return g.filter(bad)[CASE]

    def _with_template(self, template: Template) -> Rule:
        return Rule(self.id, template, self.a, self.b, self.n, self.within_s)

    def _windowed(self, s: ir.Table, a: ir.StringScalar, b: ir.StringScalar,
                  limit: ir.IntegerScalar | None) -> ir.Column:
        """Templates that look before or after each event (ordered windows over the case)."""
        after = ibis.window(group_by=s[CASE], order_by=s.pos, rows=(1, None))
        before = ibis.window(group_by=s[CASE], order_by=s.pos, rows=(None, -1))
        no_time = ibis.null("timestamp")
        tpl = self.template
        if tpl == "not-succession":
            a_pos = ibis.ifelse(s[ACT] == a, s.pos, ibis.null("int64")).max().over(before)
            x = s.mutate(a_pos=a_pos)
            bad = (x[ACT] == b) & x.a_pos.notnull()
            if self.unless is not None:
                c_pos = ibis.ifelse(s[ACT] == ibis.literal(self.unless), s.pos,
                                    ibis.null("int64")).max().over(before)
                x = x.mutate(c_pos=c_pos)
                bad = (x[ACT] == b) & x.a_pos.notnull() & (x.c_pos.isnull() | (x.c_pos < x.a_pos))
            return x.filter(bad)[CASE].as_table().distinct()[CASE]
        if tpl == "response":
            nxt = ibis.ifelse(s[ACT] == b, s[TIME], no_time).min().over(after)
            x = s.mutate(other=nxt)
            gap = x.other.delta(x[TIME], unit="microsecond")
            me = x[ACT] == a
        elif tpl == "precedence":
            prv = ibis.ifelse(s[ACT] == a, s[TIME], no_time).max().over(before)
            x = s.mutate(other=prv)
            gap = x[TIME].delta(x.other, unit="microsecond")
            me = x[ACT] == b
        else:  # responded-existence: a B anywhere, or within the limit before or after each A
            if limit is None:
                both = s.group_by(CASE).aggregate(ka=(s[ACT] == a).sum(), kb=(s[ACT] == b).sum())
                return both.filter((both.ka > 0) & (both.kb == 0))[CASE]
            nxt = ibis.ifelse(s[ACT] == b, s[TIME], no_time).min().over(after)
            prv = ibis.ifelse(s[ACT] == b, s[TIME], no_time).max().over(before)
            x = s.mutate(n_=nxt, p_=prv)
            ahead = x.n_.notnull() & (x.n_.delta(x[TIME], unit="microsecond") <= limit)
            behind = x.p_.notnull() & (x[TIME].delta(x.p_, unit="microsecond") <= limit)
            return x.filter((x[ACT] == a) & ~ahead & ~behind)[CASE].as_table().distinct()[CASE]
        bad = x.other.isnull()
        if limit is not None:
            bad = bad | (gap > limit)
        return x.filter(me & bad)[CASE].as_table().distinct()[CASE]


def _duration(seconds: float) -> str:
    """A time limit for people: 30d, 12h, 90m, 45s."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
