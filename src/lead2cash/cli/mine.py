"""The `mine` commands: process map, variants and performance (KPIs live in cli/kpis.py).

Every command shares the options defined here (--db, --filter, --json,
--engine), opens the engine through `open_engine`, and prints either rich
tables or the result's JSON through `emit`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

from ..mining import DuckDBEngine, Engine, Filter, SparkEngine, parse_filters
from ..store import Workspace, default_db_path
from . import kpis
from .console import console, progress_bars

__all__ = ["DbOpt", "EngineName", "EngineOpt", "FilterOpt", "JsonOpt", "emit", "mine_app",
           "open_engine", "register"]

mine_app = typer.Typer(
    help="Mine the workspace's log: process map, variants, performance, KPIs.",
    no_args_is_help=True,
)


class EngineName(StrEnum):
    """The engines `--engine` accepts."""

    DUCKDB = "duckdb"
    SPARK = "spark"


DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="Workspace file (default: $LEAD2CASH_DB or ./lead2cash.duckdb)."),
]
FilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filter", "-f",
        help="Keep only matching cases, e.g. \"SalesRegion = 'EMEA' and duration > 30d\" "
        "(repeatable; all must hold).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
EngineOpt = Annotated[
    EngineName, typer.Option("--engine", help="Run on DuckDB (default) or Apache Spark.")
]


class Result(Protocol):
    """What every analysis returns: a typed result that can render itself as JSON data."""

    def to_dict(self) -> dict[str, Any]: ...


@contextmanager
def open_engine(
    db: Path | None, engine: EngineName, filters: list[str] | None
) -> Iterator[tuple[Engine, list[Filter]]]:
    """Parse the filters, open the workspace and the chosen engine, close them afterwards."""
    parsed = parse_filters(filters or [])
    ws = Workspace(db or default_db_path(), read_only=True)
    try:
        if engine is EngineName.SPARK:
            with progress_bars() as progress:
                progress("starting Spark and loading the log", 0, 1)
                eng: Engine = SparkEngine.from_workspace(ws)
                progress("starting Spark and loading the log", 1, 1)
        else:
            eng = DuckDBEngine(ws)
        yield eng, parsed
    finally:
        ws.close()


def emit(result: Result, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print JSON (machine-readable, stdout only) or the rich rendering of a result."""
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        render(result)


def register(app: typer.Typer) -> None:
    """Attach `mine` and its sub-commands (including `mine kpis`) to the app."""
    kpis.register(mine_app)
    app.add_typer(mine_app, name="mine")
