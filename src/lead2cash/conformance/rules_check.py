"""Rule-based conformance of an engine's log: which cases break which rule, and what is at stake.

One engine query marks, for every case that breaks at least one rule, the rules it
breaks and its amount (last known OpportunityAmount); another counts the cases each
rule applies to. Everything else is arithmetic on those rows, so DuckDB and Spark
give identical reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np

from ..errors import Lead2CashError
from ..mining.attributes import last_values
from ..mining.engine import Engine
from ..mining.filters import CASE, Filter
from ..progress import NO_PROGRESS, Progress
from .rule_file import RuleSet, default_rules
from .rules import Rule

__all__ = ["RuleResult", "RulesReport", "check_rules"]

AMOUNT = "OpportunityAmount"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's outcome: the cases it applies to, those that break it, their amount."""

    rule: Rule
    applicable_cases: int
    violating_cases: int
    amount_at_stake: float
    examples: tuple[str, ...]

    @property
    def share(self) -> float | None:
        """Violating cases over the cases the rule applies to."""
        return self.violating_cases / self.applicable_cases if self.applicable_cases else None

    def to_dict(self) -> dict[str, Any]:
        r = self.rule
        return {"id": r.id, "template": r.template, "rule": r.text(), "description": r.description,
                "applicable_cases": self.applicable_cases, "violating_cases": self.violating_cases,
                "share": self.share, "amount_at_stake": self.amount_at_stake,
                "example_cases": list(self.examples)}


@dataclass(frozen=True, slots=True)
class RulesReport:
    """Every rule's result, the cases that conform to all, and per case the rules it breaks."""

    origin: str
    cases: int
    conforming_cases: int
    amount_at_stake: float
    rules: tuple[RuleResult, ...]
    case_rules: dict[str, tuple[str, ...]]
    unknown_activities: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules_from": self.origin, "cases": self.cases,
            "conforming_cases": self.conforming_cases,
            "violating_cases": self.cases - self.conforming_cases,
            "conformance_rate": self.conforming_cases / self.cases if self.cases else None,
            "amount_at_stake": self.amount_at_stake,
            "unknown_activities": list(self.unknown_activities),
            "rules": [r.to_dict() for r in self.rules],
            "case_violations": {c: list(ids) for c, ids in self.case_rules.items()},
        }


def check_rules(engine: Engine, *, filters: Iterable[Filter] = (), rules: RuleSet | None = None,
                examples: int = 5, progress: Progress = NO_PROGRESS) -> RulesReport:
    """Evaluate a rule set (default: the built-in Lead-to-Cash rules) on the filtered log."""
    chosen = tuple(filters)
    ruleset = rules or default_rules()
    if not ruleset.rules:
        raise Lead2CashError(f"{ruleset.origin}: no rules", "add [[rule]] tables")
    t = engine.tables(chosen)
    progress("checking rules", 0, 1)
    c = t.cases
    names = [f"r{i}" for i in range(len(ruleset.rules))]
    marks = {n: c[CASE].isin(r.violations(t)) for n, r in zip(names, ruleset.rules)}
    flagged = c.select(CASE, **marks)
    any_bad = ibis.literal(False)
    for n in names:
        any_bad = any_bad | flagged[n]
    amounts = last_values(t, [AMOUNT])
    bad = flagged.filter(any_bad)
    if AMOUNT in amounts.columns:
        bad = bad.left_join(amounts, CASE).select(CASE, *names, amount=amounts[AMOUNT])
    frame = engine.execute(bad).sort_values(CASE, ignore_index=True)
    counts = engine.execute(c.aggregate(
        total=c.count(), **{f"a{i}": r.applies(t).sum() if r.when else c.count()
                            for i, r in enumerate(ruleset.rules)}))
    seen = engine.execute(t.steps.select("ActivityName").distinct()).ActivityName.tolist()
    progress("checking rules", 1, 1)
    row = counts.iloc[0]
    amount = (frame["amount"].fillna(0.0).to_numpy(dtype="float64") if "amount" in frame
              else np.zeros(len(frame)))
    ids = frame[CASE].tolist()
    results = []
    for i, (n, r) in enumerate(zip(names, ruleset.rules)):
        hit = frame[n].to_numpy(dtype=bool)
        mine = [x for x, h in zip(ids, hit) if h]
        results.append(RuleResult(r, int(row[f"a{i}"]), int(hit.sum()),
                                  float(np.sort(amount[hit]).sum()), tuple(mine[:examples])))
    flags = frame[names].to_numpy(dtype=bool)
    case_rules = {case: tuple(r.id for r, f in zip(ruleset.rules, row_flags) if f)
                  for case, row_flags in zip(ids, flags)}
    known = set(seen)
    unknown = sorted({a for r in ruleset.rules for a in r.activities if a not in known})
    total = int(row["total"])
    return RulesReport(ruleset.origin, total, total - len(ids), float(np.sort(amount).sum()),
                       tuple(results), case_rules, tuple(unknown))
