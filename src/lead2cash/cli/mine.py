"""The `mine` commands: process map, variants and performance (KPIs live in cli/kpis.py).

Every command shares the options defined here (--db, --filter, --json,
--engine), opens the engine through `open_engine`, and prints either rich
tables or the result's JSON through `emit`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from rich.table import Table

from . import kpis
from .console import console, progress_bars
from .options import DbOption, JsonOption, open_workspace

if TYPE_CHECKING:  # the mining layer (Ibis, pandas) loads when a command runs, not for --help
    from ..mining import Engine, Filter
    from ..mining.calendar import CalendarSet
    from ..mining.dfg import ProcessMap
    from ..mining.performance import PerformanceReport
    from ..mining.stats import DurationStats
    from ..mining.variants import Variants

__all__ = ["EngineName", "EngineOpt", "FilterOpt", "WorkingTimeOpt", "calendars",
           "emit", "human", "mine_app", "open_engine", "register"]

mine_app = typer.Typer(
    help="Mine the workspace's log: process map, variants, performance, KPIs, conformance, drivers.",
    no_args_is_help=True,
)


class EngineName(StrEnum):
    """The engines `--engine` accepts."""

    DUCKDB = "duckdb"
    SPARK = "spark"


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
WorkingTimeOpt = Annotated[
    str | None,
    typer.Option("--working-time", help="Measure durations in working time: a built-in calendar "
                 "(default, us, de, fr, uk) or a calendar TOML file."),
]


def calendars(working_time: str | None) -> CalendarSet | None:
    """The calendars `--working-time` names; None (calendar time) when it is not given."""
    from ..mining.calendar import load_calendars

    return load_calendars(working_time) if working_time else None


class Result(Protocol):
    """What every analysis returns: a typed result that can render itself as JSON data."""

    def to_dict(self) -> dict[str, Any]: ...


@contextmanager
def open_engine(
    db: Path | None, engine: EngineName, filters: list[str] | None,
    rules: Mapping[str, Filter] | None = None,
) -> Iterator[tuple[Engine, list[Filter]]]:
    """Parse the filters (`breaks 'id'` names one of `rules`, by default the built-in rules),
    open the workspace and the chosen engine, close them afterwards."""
    from ..mining import DuckDBEngine, SparkEngine, parse_filters
    from .conformance import BuiltinRules

    parsed = parse_filters(filters or [], BuiltinRules() if rules is None else rules)
    ws = open_workspace(db, read_only=True)
    try:
        if engine is EngineName.SPARK:
            with progress_bars() as progress:
                progress("starting Spark and loading the log", 0, 1)
                eng: Engine = SparkEngine.from_workspace(ws)
                progress("starting Spark and loading the log", 1, 1)
        else:
            eng = DuckDBEngine(ws)
        with eng:
            yield eng, parsed
    finally:
        ws.close()


def emit(result: Result, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print JSON (machine-readable, stdout only) or the rich rendering of a result."""
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        render(result)


def human(seconds: float | None) -> str:
    """A duration for people: '3d 4h', '12m 5s', '0.4s', or '-' when there is none."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.3g}s"
    parts, rest = [], int(round(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts[:2])


def _stats_cells(d: DurationStats) -> list[str]:
    """Mean, median, p90 and max of a duration, formatted for a table row."""
    return [human(d.mean_s), human(d.median_s), human(d.p90_s), human(d.max_s)]


def _table(title: str, *columns: str) -> Table:
    """A rich table with right-aligned numeric columns after the first."""
    table = Table(title=title, title_justify="left")
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 0 else "right")
    return table


_DURATION_COLUMNS = ("mean", "median", "p90", "max")


def _render_map(pm: ProcessMap) -> None:
    acts = _table("Activities", "activity", "events", "cases")
    for a in pm.activities:
        acts.add_row(a.activity, f"{a.events:,}", f"{a.cases:,}")
    edges = _table("Directly-follows edges", "source -> target", "frequency", "cases",
                   *_DURATION_COLUMNS)
    for e in pm.edges:
        edges.add_row(f"{e.source} -> {e.target}", f"{e.frequency:,}", f"{e.cases:,}",
                      *_stats_cells(e.duration))
    ends = _table("Start and end activities", "activity", "starts", "ends")
    for name in dict.fromkeys([*pm.start_activities, *pm.end_activities]):
        ends.add_row(name, f"{pm.start_activities.get(name, 0):,}", f"{pm.end_activities.get(name, 0):,}")
    for t in (acts, edges, ends):
        console.print(t)


def _render_variants(v: Variants) -> None:
    table = _table(
        f"{len(v.variants)} of {v.total_variants} variants, covering {v.coverage:.1%} of "
        f"{v.total_cases:,} cases", "#", "cases", "share", *_DURATION_COLUMNS, "activities",
    )
    for i, x in enumerate(v.variants, 1):
        table.add_row(str(i), f"{x.cases:,}", f"{x.share:.1%}", *_stats_cells(x.duration),
                      " > ".join(x.activities))
    console.print(table)


def _render_performance(r: PerformanceReport) -> None:
    d = r.case_durations.duration
    console.print(f"[bold]Case durations[/] ({d.count:,} cases): mean {human(d.mean_s)}, "
                  f"median {human(d.median_s)}, p90 {human(d.p90_s)}, max {human(d.max_s)}")
    pairs = [*r.throughput, *([r.between] if r.between else [])]
    tp = _table("Throughput between milestones", "from -> to", "cases", "reversed",
                *_DURATION_COLUMNS)
    for b in pairs:
        tp.add_row(f"{b.source} ({b.source_occurrence}) -> {b.target} ({b.target_occurrence})",
                   f"{b.duration.count:,}", f"{b.reversed_cases:,}", *_stats_cells(b.duration))
    st = _table("Time in stage (per case)", "stage", "cases", *_DURATION_COLUMNS)
    for s in r.time_in_stage:
        st.add_row(s.stage, f"{s.duration.count:,}", *_stats_cells(s.duration))
    rw = r.rework.to_dict()
    rep = _table(
        f"Rework: {rw['cases_with_repeats']:,} cases repeat an activity, "
        f"{rw['cases_with_regression']:,} regress (move back a stage), "
        f"{rw['reopened_cases']:,} reopened (of {rw['total_cases']:,})",
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
    activities: Annotated[float, typer.Option(min=0.01, max=1.0,
                          help="Share of activities to keep, most frequent first.")] = 1.0,
    paths: Annotated[float, typer.Option(min=0.01, max=1.0,
                     help="Share of paths to keep (the map stays connected start to end).")] = 1.0,
    working_time: WorkingTimeOpt = None,
) -> None:
    """Process map: activities, directly-follows edges with durations, start and end activities."""
    from ..mining import dfg

    calendar = calendars(working_time)
    with open_engine(db, engine, filter_) as (eng, filters):
        emit(dfg.discover(eng, filters, activities, paths, calendar), as_json, _render_map)


@mine_app.command("variants")
def variants_command(
    db: DbOption = None,
    filter_: FilterOpt = None,
    as_json: JsonOption = False,
    engine: EngineOpt = EngineName.DUCKDB,
    top: Annotated[int | None, typer.Option(min=1, help="List the k most frequent.")] = 20,
    coverage: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="List the fewest variants covering this share of cases.")] = None,
    working_time: WorkingTimeOpt = None,
) -> None:
    """Variants: ordered activity sequences with case counts, shares and durations."""
    from ..mining import variants

    calendar = calendars(working_time)
    with open_engine(db, engine, filter_) as (eng, filters):
        result = variants.discover(eng, filters, None if coverage is not None else top, coverage,
                                   calendar)
        emit(result, as_json, _render_variants)


@mine_app.command("performance")
def performance_command(
    db: DbOption = None,
    filter_: FilterOpt = None,
    as_json: JsonOption = False,
    engine: EngineOpt = EngineName.DUCKDB,
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
    with open_engine(db, engine, filter_) as (eng, filters):
        result = performance.report(eng, filters, milestones, stage, between, occurrences,  # type: ignore[arg-type]
                                    calendar)
        emit(result, as_json, _render_performance)


def register(app: typer.Typer) -> None:
    """Attach `mine` and its sub-commands (including `mine kpis`) to the app."""
    from . import conformance  # imports this module's options

    kpis.register(mine_app)
    conformance.register(mine_app)
    app.add_typer(mine_app, name="mine")
