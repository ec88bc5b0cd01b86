"""Conformance and drivers for both faces: what `mine conformance` / `mine drivers` run, and
the dashboard's Conformance and Drivers views built on exactly those calls.

One meaning per figure: the CLI commands and the dashboard both call `rules_report`,
`replay_report` and `drivers_report` with the same defaults (`DRIVERS_DEFAULTS`), so a
rule's breaking cases, the log fitness or a driver's lift on a page are the numbers
`lead2cash mine conformance --json` and `mine drivers --json` print for the scope's
`--filter` texts. The views add only presentation: the process map of the scope with each
activity's share of deviating events (from the same token replay), and for each rule the
link to its breaking cases (the `breaks 'id'` filter added to the scope).

Nothing here imports the conformance package, Ibis or pandas at module level: the CLI
imports this module when a command runs, the web app when the server starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Lead2CashError
from ..progress import NO_PROGRESS, Progress
from .session import RuleBook

if TYPE_CHECKING:
    from ..conformance.model_check import AlignmentReport, ReplayReport
    from ..conformance.petri import PetriNet
    from ..conformance.rules_check import RulesReport
    from ..mining import Engine, Filter
    from ..mining.drivers import DriversReport
    from .scope import Scope
    from .views import Dashboard

__all__ = ["DRIVERS_DEFAULTS", "DRIVER_TARGETS", "DriversOptions", "conformance_view",
           "drivers_report", "drivers_target", "drivers_view", "replay_report", "rules_report"]

DRIVER_TARGETS = ("lost", "late-payment", "slow")
"""The built-in targets of `mine drivers --target` (a rule id is a target too)."""


@dataclass(frozen=True, slots=True)
class DriversOptions:
    """How drivers are searched: the smallest segment (share of the population and cases),
    amount band edges (None: the amounts' quartiles), the `slow` quantile, how many listed."""

    min_support: float = 0.01
    min_cases: int = 20
    amount_bands: tuple[float, ...] | None = None
    slow_quantile: float = 0.75
    top: int | None = 25


DRIVERS_DEFAULTS = DriversOptions()
"""The defaults of `mine drivers` and of the dashboard's Drivers view."""


def rules_report(engine: Engine, filters: Iterable[Filter] = (), rules: Path | None = None,
                 examples: int = 5, progress: Progress = NO_PROGRESS) -> RulesReport:
    """The rule-based conformance of the filtered log (rules from `rules`, else built-in)."""
    from ..conformance.rule_file import load_rules
    from ..conformance.rules_check import check_rules

    return check_rules(engine, filters=filters, rules=load_rules(rules), examples=examples,
                       progress=progress)


def replay_report(engine: Engine, filters: Iterable[Filter] = (), model: PetriNet | None = None,
                  per_case: bool = False, top: int | None = 20,
                  progress: Progress = NO_PROGRESS) -> ReplayReport:
    """Token replay of the filtered log on `model` (default: the built-in reference model)."""
    from ..conformance.model_check import replay_log

    return replay_log(engine, filters=filters, model=model, per_case=per_case, top=top,
                      progress=progress)


def align_report(engine: Engine, filters: Iterable[Filter] = (), model: PetriNet | None = None,
                 time_limit: float = 10.0, per_case: bool = False, top: int | None = 20,
                 progress: Progress = NO_PROGRESS) -> AlignmentReport:
    """Alignments of the filtered log with `model`, `time_limit` seconds per variant."""
    from ..conformance.model_check import align_log

    return align_log(engine, filters=filters, model=model, time_limit=time_limit,
                     per_case=per_case, top=top, progress=progress)


def drivers_target(target: str, rules: Mapping[str, Any]) -> Any:
    """A `--target` value: one of `DRIVER_TARGETS`, else the rule of that id, else an error
    naming what there is."""
    if target in DRIVER_TARGETS:
        return target
    if target not in rules:
        raise Lead2CashError(f"--target {target!r}: not lost, late-payment, slow or a rule id",
                             f"use one of: {', '.join(DRIVER_TARGETS)}, {', '.join(rules)}")
    return rules[target]


def drivers_report(engine: Engine, target: str, filters: Iterable[Filter] = (),
                   rules: Mapping[str, Any] | None = None,
                   options: DriversOptions = DRIVERS_DEFAULTS,
                   progress: Progress = NO_PROGRESS) -> DriversReport:
    """The drivers of `target` (lost, late-payment, slow or a rule id of `rules`, by default
    the built-in rules) in the filtered log."""
    from ..mining.drivers import drivers

    goal = drivers_target(target, RuleBook() if rules is None else rules)
    return drivers(engine, target=goal, filters=filters, min_support=options.min_support,
                   min_cases=options.min_cases, amount_bands=options.amount_bands,
                   slow_quantile=options.slow_quantile, top=options.top, progress=progress)


# -- the dashboard's views ------------------------------------------------------------------


def conformance_view(board: Dashboard, scope: Scope, paths: float = 0.4) -> dict[str, Any]:
    """The Conformance view of a scope: `rules` (the JSON of `mine conformance --json`),
    `replay` (of `mine conformance --method replay --json`), `deviations` (the activities
    where the replay deviates, from `replay.activities`: deviating events, their share of
    the activity's events, cases; largest share first) and the scope's process map whose
    `deviations` give each such activity's share, for the map to mark."""
    def compute() -> dict[str, Any]:
        with board._engine(scope) as engine:  # on the scope's selected cases, as every view
            filters = scope.filters()
            rules = rules_report(engine, filters).to_dict()
            replay = replay_report(engine, filters).to_dict()
        deviations = sorted(
            ({"activity": a["activity"], "events": a["deviating_events"], "cases": a["cases"],
              "share": a["deviating_events"] / a["events"] if a["events"] else 0.0,
              "in_model": a["in_model"]}
             for a in replay["activities"] if a["deviating_events"]),
            key=lambda d: (-d["share"], -d["events"], d["activity"]))
        shown = board.process_map(scope, 1.0, paths)
        return {"rules": rules, "replay": replay,
                "map": shown | {"deviations": {d["activity"]: d["share"] for d in deviations}},
                "deviations": deviations, "paths": paths}
    return board._cached(("conformance", scope, round(paths, 4)), compute)


def drivers_view(board: Dashboard, scope: Scope, target: str = "lost",
                 options: DriversOptions = DRIVERS_DEFAULTS) -> dict[str, Any]:
    """The Drivers view of a scope: the JSON of `mine drivers --target T --json`, with the
    targets one may choose (the built-in ones and every rule id)."""
    rules = RuleBook()
    drivers_target(target, rules)  # an unknown target fails before anything is computed

    def compute() -> dict[str, Any]:
        with board._engine(scope) as engine:
            return drivers_report(engine, target, scope.filters(), rules, options).to_dict()
    report = board._cached(("drivers", scope, target, options), compute)
    return {"report": report, "targets": [*DRIVER_TARGETS, *rules]}
