"""The `mine conformance`, `mine drivers`, `mine compare` and `mine activity-times` commands.

Heavy modules (Ibis, pandas, the conformance package) load when a command runs,
so `lead2cash --help` stays quick.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..app.conformance_views import DRIVERS_DEFAULTS
from ..app.session import RuleBook, parse_bands
from ..app.units import CALENDAR_TIME
from ..errors import Lead2CashError
from .console import console, progress_bars
from .mine import CaseTypeOpt, EngineName, EngineOpt, FilterOpt, _stats_cells, _table, emit, open_engine
from .options import DbOption, JsonOption

if TYPE_CHECKING:
    from ..conformance.model_check import AlignmentReport, ReplayReport
    from ..conformance.rules_check import RulesReport
    from ..mining.compare import Comparison
    from ..mining.drivers import DriversReport

__all__ = ["register"]


class Method(StrEnum):
    """How `mine conformance` judges the log."""

    RULES = "rules"
    REPLAY = "replay"
    ALIGNMENTS = "alignments"


RulesOpt = Annotated[Path | None, typer.Option(
    "--rules", help="Rule file (TOML; default: the built-in Lead-to-Cash rules, see --print-rules).")]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _render_rules(r: RulesReport) -> None:
    d = r.to_dict()
    table = _table(
        f"Rules ({r.origin}): {d['violating_cases']:,} of {r.cases:,} cases break at least one, "
        f"amount at stake {_money(r.amount_at_stake)}",
        "rule", "breaking", "share", "amount", "example")
    for x in r.rules:
        table.add_row(x.rule.id, f"{x.violating_cases:,}", _pct(x.share), _money(x.amount_at_stake),
                      x.examples[0] if x.examples else "")
    console.print(table)
    if r.unknown_activities:
        console.print(f"[yellow]activities named by rules but absent from the log:[/] "
                      f"{', '.join(r.unknown_activities)}")
    worst = sorted(r.case_rules.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:10]
    if worst:
        cases = _table("Cases breaking the most rules", "case", "rules broken")
        for case, ids in worst:
            cases.add_row(case, ", ".join(ids))
        console.print(cases)


def _render_replay(r: ReplayReport) -> None:
    console.print(
        f"[bold]Token replay[/] on {r.model['name']} ({r.cases:,} cases, {r.total_variants:,} "
        f"variants): log fitness {r.log_fitness:.4f}, average trace fitness "
        f"{r.average_trace_fitness:.4f}, fitting cases {r.perc_fit_traces:.1f}%; tokens missing "
        f"{r.missing_tokens:,}, remaining {r.remaining_tokens:,}, consumed {r.consumed_tokens:,}, "
        f"produced {r.produced_tokens:,}")
    acts = _table("Where the log deviates", "activity", "in model", "events",
                  "deviating events", "cases")
    for a in r.activities:
        acts.add_row(a.activity, "yes" if a.in_model else "[yellow]no[/]", f"{a.events:,}",
                     f"{a.deviating_events:,}", f"{a.cases:,}")
    console.print(acts)
    vs = _table("Variants", "cases", "fitness", "missing", "remaining", "activities")
    for v in r.variants:
        vs.add_row(f"{v.cases:,}", f"{v.replay.fitness:.3f}", str(v.replay.missing),
                   str(v.replay.remaining), " > ".join(v.activities))
    console.print(vs)


def _render_alignments(r: AlignmentReport) -> None:
    fit = "-" if r.log_fitness is None else f"{r.log_fitness:.4f}"
    console.print(
        f"[bold]Alignments[/] on {r.model['name']} ({r.aligned_cases:,} of {r.cases:,} cases "
        f"aligned): log fitness {fit}, fitting cases {_pct((r.perc_fit_traces or 0) / 100)}")
    if r.variants_timed_out:
        console.print(f"[bold yellow]{r.variants_timed_out:,} variants ({r.cases_timed_out:,} cases) "
                      f"passed the time limit of {r.time_limit_s:g} s and are not aligned[/] "
                      "(raise --time-limit to align them)")
    acts = _table("Moves per activity", "activity", "in model", "events", "moves on log",
                  "moves on model", "cases")
    for a in r.activities:
        acts.add_row(a.activity, "yes" if a.in_model else "[yellow]no[/]", f"{a.events:,}",
                     f"{a.deviating_events:,}", f"{a.moves_on_model:,}", f"{a.cases:,}")
    console.print(acts)
    vs = _table("Variants", "cases", "cost", "fitness", "deviations")
    for v in r.variants:
        if v.alignment is None:
            vs.add_row(f"{v.cases:,}", "[yellow]time limit[/]", "-", " > ".join(v.activities))
            continue
        moves = [(m.log + " (log)") if m.kind == "log" else (m.model + " (model)")  # type: ignore[operator]
                 for m in v.alignment.moves if m.kind in ("log", "model")]
        vs.add_row(f"{v.cases:,}", str(v.alignment.cost), f"{v.alignment.fitness:.3f}",
                   ", ".join(moves) or "-")
    console.print(vs)


def _render_drivers(r: DriversReport) -> None:
    console.print(f"[bold]Drivers of {r.target}[/]: {r.definition}. {r.target_cases:,} of "
                  f"{r.population:,} cases ({_pct(r.rate)}), amount {_money(r.amount_at_stake)}; "
                  f"segments of at least {r.min_support_cases:,} cases, {r.segments_tested:,} tested")
    table = _table("Segments by lift (noise: not significant after Bonferroni)", "segment", "cases",
                   "rate", "rest", "lift", "amount at stake", "p-value", "")
    for d in r.drivers:
        table.add_row(f"{d.feature} = {d.value}", f"{d.cases:,}", _pct(d.rate), _pct(d.rest_rate),
                      "-" if d.lift is None else f"{d.lift:.2f}", _money(d.amount_at_stake),
                      f"{d.p_value:.2g}", "" if d.significant else "[dim]noise[/]")
    console.print(table)


def _render_compare(c: Comparison) -> None:
    kp = _table(f"KPIs: A = {c.a} ({c.cases_a:,} cases), B = {c.b} ({c.cases_b:,} cases)",
                "KPI", "A", "B", "B - A")
    for k, d in c.kpi_deltas.items():
        kp.add_row(k, f"{c.kpis_a[k]:.4g}", f"{c.kpis_b[k]:.4g}", f"{d:+.4g}")
    console.print(kp)
    for title, rows, edge in (("Edges whose share differs most", c.edges_by_share, True),
                              ("Edges whose duration differs most", c.edges_by_duration, True),
                              ("Variants whose share differs most", c.variants_by_share, False),
                              ("Variants whose duration differs most", c.variants_by_duration, False)):
        t = _table(title, "edge" if edge else "variant", "share A", "share B", "median A",
                   "median B")
        for x in rows:
            t.add_row(" -> ".join(x.key) if edge else " > ".join(x.key), _pct(x.share_a),
                      _pct(x.share_b), CALENDAR_TIME.human(x.median_a_s), CALENDAR_TIME.human(x.median_b_s))
        console.print(t)


def register(app: typer.Typer) -> None:
    """Attach the conformance and drivers commands to the `mine` app."""
    @app.command("conformance")
    def conformance_command(
        db: DbOption = None,
        filter_: FilterOpt = None,
        as_json: JsonOption = False,
        engine: EngineOpt = EngineName.DUCKDB,
        case_type: CaseTypeOpt = None,
        rules: RulesOpt = None,
        model: Annotated[Path | None, typer.Option(
            "--model", help="Petri net (.pnml) or BPMN model (.bpmn) for token replay or "
            "alignments (default: the built-in reference model, see --print-model).")] = None,
        method: Annotated[Method | None, typer.Option(
            "--method", help="rules (default; --rules), replay (token replay; default with "
            "--model) or alignments.")] = None,
        time_limit: Annotated[float, typer.Option(
            "--time-limit", min=0.001, help="Alignments: seconds per variant; variants that "
            "pass it are reported as not aligned.")] = 10.0,
        top: Annotated[int, typer.Option(min=0, help="Variants listed (replay, alignments).")] = 20,
        per_case: Annotated[bool, typer.Option(
            "--per-case", help="Also give every case's fitness (replay, alignments; JSON).")] = False,
        examples: Annotated[int, typer.Option(min=0, help="Example cases per rule.")] = 5,
        print_rules: Annotated[bool, typer.Option(
            "--print-rules", help="Print the built-in rule file (to copy and edit) and stop.")] = False,
        print_model: Annotated[bool, typer.Option(
            "--print-model", help="Print the built-in reference model as PNML and stop.")] = False,
    ) -> None:
        """Conformance to the reference process: rules (default) or a model (token replay, alignments)."""
        if print_rules:
            from ..conformance.rule_file import default_rules_text

            typer.echo(default_rules_text(), nl=False)
            return
        if print_model:
            from ..conformance.pnml import to_pnml
            from ..conformance.reference import reference_model

            typer.echo(to_pnml(reference_model()), nl=False)
            return
        chosen = method or (Method.REPLAY if model is not None else Method.RULES)
        if chosen is Method.RULES and model is not None:
            raise Lead2CashError("--model goes with --method replay or alignments",
                                 "drop --model, or pass --method replay")
        if chosen is not Method.RULES and rules is not None:
            raise Lead2CashError("--rules goes with --method rules",
                                 "drop --rules, or drop --method")
        from ..app.conformance_views import align_report, replay_report, rules_report
        from ..conformance.model_check import load_model

        net = load_model(model) if chosen is not Method.RULES else None
        with open_engine(db, engine, filter_, case_type, RuleBook(rules)) as (eng, filters), \
                progress_bars() as progress:
            if chosen is Method.RULES:
                result: Any = rules_report(eng, filters, rules, examples, progress)
                render: Any = _render_rules
            elif chosen is Method.REPLAY:
                result = replay_report(eng, filters, net, per_case, top, progress)
                render = _render_replay
            else:
                result = align_report(eng, filters, net, time_limit, per_case, top, progress)
                render = _render_alignments
        emit(result, as_json, render)

    @app.command("drivers")
    def drivers_command(
        target: Annotated[str, typer.Option(
            "--target", help="lost, late-payment, slow, or the id of a rule (see --rules).")],
        db: DbOption = None,
        filter_: FilterOpt = None,
        as_json: JsonOption = False,
        engine: EngineOpt = EngineName.DUCKDB,
        case_type: CaseTypeOpt = None,
        rules: RulesOpt = None,
        min_support: Annotated[float, typer.Option(
            min=0.0, max=1.0, help="Smallest segment, as a share of the population.")
        ] = DRIVERS_DEFAULTS.min_support,
        min_cases: Annotated[int, typer.Option(
            min=1, help="Smallest segment, in cases.")] = DRIVERS_DEFAULTS.min_cases,
        amount_bands: Annotated[str | None, typer.Option(
            help="Amount band edges, e.g. 10000,50000 (default: the amounts' quartiles).")] = None,
        slow_quantile: Annotated[float, typer.Option(
            min=0.01, max=0.99, help="slow: sales cycle above this quantile of closed cases.")
        ] = DRIVERS_DEFAULTS.slow_quantile,
        top: Annotated[int | None, typer.Option(min=1, help="Segments listed.")] = DRIVERS_DEFAULTS.top,
    ) -> None:
        """What drives a target: segments ranked by how much more often it happens in them."""
        from ..app.conformance_views import DriversOptions, drivers_report, drivers_target

        ruleset = RuleBook(rules)
        drivers_target(target, ruleset)  # an unknown target fails before the engine opens
        options = DriversOptions(min_support, min_cases,
                                 parse_bands(amount_bands, "--amount-bands") or None,
                                 slow_quantile, top)
        with open_engine(db, engine, filter_, case_type, ruleset) as (eng, filters), \
                progress_bars() as progress:
            result = drivers_report(eng, target, filters, ruleset, options, progress)
        emit(result, as_json, _render_drivers)

    @app.command("compare")
    def compare_command(
        a: Annotated[str, typer.Option("--a", help="Filter choosing the A cases.")],
        b: Annotated[str, typer.Option("--b", help="Filter choosing the B cases.")],
        db: DbOption = None,
        filter_: FilterOpt = None,
        as_json: JsonOption = False,
        engine: EngineOpt = EngineName.DUCKDB,
        case_type: CaseTypeOpt = None,
        top: Annotated[int, typer.Option(min=1, help="Edges and variants listed.")] = 10,
    ) -> None:
        """Compare two sets of cases: KPI deltas, edges and variants whose share or duration differ most."""
        from ..mining import parse_filter
        from ..mining.compare import compare

        rules = RuleBook()
        with open_engine(db, engine, filter_, case_type, rules) as (eng, filters), progress_bars() as progress:
            fa = [*filters, *parse_filter(a, rules)]
            fb = [*filters, *parse_filter(b, rules)]
            result = compare(eng, fa, fb, a_text=a, b_text=b, top=top, progress=progress)
        emit(result, as_json, _render_compare)

    @app.command("activity-times")
    def activity_times_command(
        db: DbOption = None,
        filter_: FilterOpt = None,
        as_json: JsonOption = False,
        engine: EngineOpt = EngineName.DUCKDB,
        case_type: CaseTypeOpt = None,
    ) -> None:
        """Processing and waiting time per activity (XES start/complete: --filter 'lifecycle pairs')."""
        from ..mining.activity_times import activity_times
        with open_engine(db, engine, filter_, case_type) as (eng, filters):
            rows = activity_times(eng, filters)
        if as_json:
            typer.echo(json.dumps({"activities": [r.to_dict() for r in rows]}, indent=2))
            return
        table = _table("Activity times", "activity", "instances", "processing mean", "median",
                       "p90", "max", "waiting mean", "median", "p90", "max")
        for r in rows:
            table.add_row(r.activity, f"{r.instances:,}", *_stats_cells(r.processing, CALENDAR_TIME),
                          *_stats_cells(r.waiting, CALENDAR_TIME))
        console.print(table)
