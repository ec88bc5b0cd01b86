"""The `mine` commands: process map, variants and performance (KPIs live in cli/kpis.py).

Every command shares the options defined here (--db, --filter, --json, --engine,
--case-type, --working-time; their meaning lives in app/session.py), opens the engine
through `open_engine`, and prints either rich tables or the result's JSON through `emit`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from rich.table import Table

from ..app.session import EngineName, calendars
from ..app.units import CALENDAR_TIME, TimeBasis
from . import kpis
from .console import console, err_console, progress_bars
from .options import DbOption, JsonOption, open_workspace

if TYPE_CHECKING:  # the mining layer (Ibis, pandas) loads when a command runs, not for --help
    from ..mining import Engine, Filter
    from ..mining.dfg import ProcessMap
    from ..mining.object_centric import ObjectReport
    from ..mining.performance import PerformanceReport
    from ..mining.stats import DurationStats
    from ..mining.variants import Variants

__all__ = ["CaseTypeOpt", "EngineName", "EngineOpt", "FilterOpt", "WorkingTimeOpt", "calendars",
           "emit", "mine_app", "open_engine", "register"]

mine_app = typer.Typer(
    help="Mine the workspace's log: process map, variants, performance, KPIs, conformance, drivers.",
    no_args_is_help=True,
)


FilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filter", "-f",
        help="Keep only matching cases, e.g. \"SalesRegion = 'EMEA' and duration > 30d\" "
        "(repeatable; all must hold).",
    ),
]
EngineOpt = Annotated[
    EngineName, typer.Option("--engine", help="Run on DuckDB (default) or Apache Spark.")
]
CaseTypeOpt = Annotated[
    str | None,
    typer.Option("--case-type", help="Object type whose objects are the cases: the log flattened "
                 "on it, e.g. SalesOrder or Invoice (default: the workspace's, Opportunity).",
                 show_default=False),
]
WorkingTimeOpt = Annotated[
    str | None,
    typer.Option("--working-time", help="Measure durations in working time: a built-in calendar "
                 "(default, us, de, fr, uk) or a calendar TOML file."),
]


class Result(Protocol):
    """What every analysis returns: a typed result that can render itself as JSON data."""

    def to_dict(self) -> dict[str, Any]: ...


@contextmanager
def open_engine(
    db: Path | None, engine: EngineName, filters: list[str] | None, case_type: str | None = None,
    rules: Mapping[str, Filter] | None = None,
) -> Iterator[tuple[Engine, list[Filter]]]:
    """The application layer's `open_engine` (on the log flattened on `case_type`; `breaks`
    filters name one of `rules`, by default the built-in set), saying on stderr when Spark
    starts."""
    from ..app.session import open_engine as open_app_engine

    def note(step: str, done: int, total: int | None = None) -> None:
        if done == 0:
            err_console.print(f"[dim]{step}...[/]")

    with open_app_engine(db, engine, filters, note, case_type=case_type, rules=rules) as opened:
        if filters:
            from ..mining.filter_hints import empty_selection

            empty = empty_selection(*opened)
            if empty:  # the tables below will be empty: say why on stderr (--json stays clean)
                from rich.markup import escape

                err_console.print(f"[yellow]warning:[/] {escape(empty)}", highlight=False)
        yield opened


def emit(result: Result, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print JSON (machine-readable, stdout only) or the rich rendering of a result."""
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        render(result)


def _stats_cells(d: DurationStats, b: TimeBasis) -> list[str]:
    """Mean, median, p90 and max of a duration, formatted for a table row."""
    return [b.human(d.mean_s), b.human(d.median_s), b.human(d.p90_s), b.human(d.max_s)]


def _renderer(render: Callable[[Any, TimeBasis], None], calendar: Any) -> Callable[[Any], None]:
    """A renderer showing durations in the time the command measured (working days under a
    calendar, named in a note above the tables)."""
    from ..app.units import time_basis

    basis = time_basis(calendar)

    def run(result: Any) -> None:
        if basis.working:
            console.print(f"[dim]durations in {basis.note()}[/]")
        render(result, basis)

    return run


def _table(title: str, *columns: str) -> Table:
    """A rich table with right-aligned numeric columns after the first."""
    table = Table(title=title, title_justify="left")
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 0 else "right")
    return table


_DURATION_COLUMNS = ("mean", "median", "p90", "max")


def _render_map(pm: ProcessMap, b: TimeBasis) -> None:
    acts = _table("Activities", "activity", "events", "cases")
    for a in pm.activities:
        acts.add_row(a.activity, f"{a.events:,}", f"{a.cases:,}")
    edges = _table("Directly-follows edges", "source -> target", "frequency", "cases",
                   *_DURATION_COLUMNS)
    for e in pm.edges:
        edges.add_row(f"{e.source} -> {e.target}", f"{e.frequency:,}", f"{e.cases:,}",
                      *_stats_cells(e.duration, b))
    ends = _table("Start and end activities", "activity", "starts", "ends")
    for name in dict.fromkeys([*pm.start_activities, *pm.end_activities]):
        ends.add_row(name, f"{pm.start_activities.get(name, 0):,}", f"{pm.end_activities.get(name, 0):,}")
    for t in (acts, edges, ends):
        console.print(t)


def _render_variants(v: Variants, b: TimeBasis) -> None:
    table = _table(
        f"{len(v.variants)} of {v.total_variants} variants, covering {v.coverage:.1%} of "
        f"{v.total_cases:,} cases", "#", "cases", "share", *_DURATION_COLUMNS, "activities",
    )
    for i, x in enumerate(v.variants, 1):
        table.add_row(str(i), f"{x.cases:,}", f"{x.share:.1%}", *_stats_cells(x.duration, b),
                      " > ".join(x.activities))
    console.print(table)


def _render_performance(r: PerformanceReport, b: TimeBasis) -> None:
    d = r.case_durations.duration
    console.print(f"[bold]Case durations[/] ({d.count:,} cases): mean {b.human(d.mean_s)}, "
                  f"median {b.human(d.median_s)}, p90 {b.human(d.p90_s)}, max {b.human(d.max_s)}")
    pairs = [*r.throughput, *([r.between] if r.between else [])]
    tp = _table("Throughput between milestones", "from -> to", "cases", "reversed",
                *_DURATION_COLUMNS)
    for pair in pairs:
        tp.add_row(f"{pair.source} ({pair.source_occurrence}) -> {pair.target} ({pair.target_occurrence})",
                   f"{pair.duration.count:,}", f"{pair.reversed_cases:,}", *_stats_cells(pair.duration, b))
    st = _table("Time in stage (per case)", "stage", "cases", *_DURATION_COLUMNS)
    for s in r.time_in_stage:
        st.add_row(s.stage, f"{s.duration.count:,}", *_stats_cells(s.duration, b))
    rw = r.rework.to_dict()
    rep = _table(
        f"Rework: {rw['cases_with_repeats']:,} cases repeat an activity, "
        f"{rw['cases_with_regression']:,} regress (move back a stage), "
        f"{rw['reopened_cases']:,} reopened (of {rw['total_cases']:,}; "
        f"{rw['ever_closed_cases']:,} ever closed)",
        "repeated activity", "cases", "extra events",
    )
    for a in r.rework.repeated:
        rep.add_row(a.activity, f"{a.cases:,}", f"{a.extra_events:,}")
    for t in (tp, st, rep):
        console.print(t)


@mine_app.command("dfg")
def dfg_command(
    db: DbOption = None,
    filter_: FilterOpt = None,
    as_json: JsonOption = False,
    engine: EngineOpt = EngineName.DUCKDB,
    case_type: CaseTypeOpt = None,
    activities: Annotated[float, typer.Option(min=0.01, max=1.0,
                          help="Share of activities to keep, most frequent first.")] = 1.0,
    paths: Annotated[float, typer.Option(min=0.01, max=1.0,
                     help="Share of paths to keep (the map stays connected start to end).")] = 1.0,
    working_time: WorkingTimeOpt = None,
) -> None:
    """Process map: activities, directly-follows edges with durations, start and end activities."""
    from ..mining import dfg

    calendar = calendars(working_time)
    with open_engine(db, engine, filter_, case_type) as (eng, filters):
        emit(dfg.discover(eng, filters, activities, paths, calendar), as_json, _renderer(_render_map, calendar))


@mine_app.command("variants")
def variants_command(
    db: DbOption = None,
    filter_: FilterOpt = None,
    as_json: JsonOption = False,
    engine: EngineOpt = EngineName.DUCKDB,
    case_type: CaseTypeOpt = None,
    top: Annotated[int | None, typer.Option(min=1, help="List the k most frequent.")] = 20,
    coverage: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="List the fewest variants covering this share of cases.")] = None,
    working_time: WorkingTimeOpt = None,
) -> None:
    """Variants: ordered activity sequences with case counts, shares and durations."""
    from ..mining import variants

    calendar = calendars(working_time)
    with open_engine(db, engine, filter_, case_type) as (eng, filters):
        result = variants.discover(eng, filters, None if coverage is not None else top, coverage,
                                   calendar)
        emit(result, as_json, _renderer(_render_variants, calendar))


@mine_app.command("performance")
def performance_command(
    db: DbOption = None,
    filter_: FilterOpt = None,
    as_json: JsonOption = False,
    engine: EngineOpt = EngineName.DUCKDB,
    case_type: CaseTypeOpt = None,
    milestones: Annotated[list[str] | None, typer.Option(
        "--milestone", help="Throughput milestones in order (repeat; default: key happy path).")] = None,
    stage: Annotated[str, typer.Option(help="Attribute whose values are the stages.")] = "SalesStage",
    between: Annotated[tuple[str, str] | None, typer.Option(
        help="Also time from one activity to another, e.g. --between 'Quote Issued' 'Opportunity Won'.")] = None,
    source_last: Annotated[bool, typer.Option(help="Measure --between from the last source occurrence.")] = False,
    target_last: Annotated[bool, typer.Option(help="Measure --between to the last target occurrence.")] = False,
    working_time: WorkingTimeOpt = None,
) -> None:
    """Case durations, throughput between milestones, time in stage, rework, time between two activities."""
    from ..mining import performance

    occurrences = ("last" if source_last else "first", "last" if target_last else "first")
    calendar = calendars(working_time)
    with open_engine(db, engine, filter_, case_type) as (eng, filters):
        result = performance.report(eng, filters, milestones, stage, between, occurrences,  # type: ignore[arg-type]
                                    calendar)
        emit(result, as_json, _renderer(_render_performance, calendar))


def _render_objects(r: ObjectReport) -> None:
    types = _table("Object types", "type", "objects", "with events", "events", "events/object",
                   "lifecycle median", "p90", "most frequent lifecycle")
    for t in r.types:
        top = " > ".join(t.lifecycles[0][0]) + f" ({t.lifecycles[0][1]:,})" if t.lifecycles else "-"
        types.add_row(t.object_type, f"{t.objects:,}", f"{t.objects_with_events:,}", f"{t.events:,}",
                      f"{t.events_per_object.mean:.2f}" if t.events_per_object.mean is not None else "-",
                      CALENDAR_TIME.human(t.duration.median_s),
                      CALENDAR_TIME.human(t.duration.p90_s), top)
    fan = _table("Fan-out (object-to-object)", "per source object", "relations", "sources",
                 "with none", "mean", "median", "p90", "max")
    for f in r.fan_out:
        c = f.per_source
        fan.add_row(f"{f.target_type} per {f.source_type}", f"{f.relations:,}", f"{c.objects:,}",
                    f"{c.none:,}", f"{c.mean:.2f}" if c.mean is not None else "-",
                    f"{c.median:g}" if c.median is not None else "-",
                    f"{c.p90:g}" if c.p90 is not None else "-", f"{c.max:,}" if c.max is not None else "-")
    fl = r.flattening
    div = _table(f"Flattening on {fl.case_type}: {fl.events_kept:,} of {fl.events:,} events kept, "
                 f"{fl.events_left_out:,} left out; {fl.convergent_events:,} touch several "
                 f"{fl.case_type} objects and are repeated ({fl.duplicated_rows:,} extra rows, up to "
                 f"{fl.max_case_objects_per_event:,} copies)", "other type",
                 "cases with several", "pairs between its objects", "misordered pairs", "cases")
    for d in fl.divergence:
        div.add_row(d.object_type, f"{d.cases_with_several:,}", f"{d.pairs_between_objects:,}",
                    f"{d.misordered_pairs:,}", f"{d.cases_misordered:,}")
    acts = _table("Object-centric process map: activities", "activity", "events", "object types")
    for a, (n, ts) in r.activities.items():
        acts.add_row(a, f"{n:,}", ", ".join(ts))
    edges = _table("Directly-follows edges per object type", "type", "source -> target",
                   "frequency", "objects", "median")
    for t, pm in r.maps.items():
        for e in pm.edges[:10]:
            edges.add_row(t, f"{e.source} -> {e.target}", f"{e.frequency:,}", f"{e.cases:,}",
                          CALENDAR_TIME.human(e.duration.median_s))
    for table in (types, fan, div, acts, edges):
        console.print(table)


@mine_app.command("objects")
def objects_command(
    db: DbOption = None,
    as_json: JsonOption = False,
    case_type: CaseTypeOpt = None,
    top: Annotated[int, typer.Option(min=1, help="Lifecycles listed per object type.")] = 5,
) -> None:
    """Objects: per type count and lifecycle, fan-out between types, what flattening on the
    case type repeats or misorders, and one process map per object type (DuckDB)."""
    from ..mining.object_centric import report

    ws = open_workspace(db, read_only=True)
    try:
        with progress_bars() as progress:
            progress("object-centric statistics", 0, 1)
            result = report(ws, case_type, top)
            progress("object-centric statistics", 1, 1)
    finally:
        ws.close()
    emit(result, as_json, _render_objects)


def register(app: typer.Typer) -> None:
    """Attach `mine` and its sub-commands (including `mine kpis`) to the app."""
    from . import conformance  # imports this module's options

    kpis.register(mine_app)
    conformance.register(mine_app)
    app.add_typer(mine_app, name="mine")
