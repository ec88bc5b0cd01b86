"""Options shared by several commands (their meaning lives in the application layer, app/session.py)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..app import session
from ..app.session import parse_time  # light: DuckDB loads on opening

if TYPE_CHECKING:
    from ..store import Workspace

__all__ = ["ARGV", "DbOption", "JsonOption", "open_workspace", "parse_time"]

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Workspace file (default: $LEAD2CASH_DB or ./lead2cash.duckdb).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

ARGV: list[str] | None = None
"""The command line's arguments, set by `main` (the runs table names each run's command)."""


def open_workspace(db: Path | None, read_only: bool = False) -> Workspace:
    """The workspace named by --db (or the default one), its refreshes recorded under this
    command line."""
    command = shlex.join(["lead2cash", *ARGV]) if ARGV is not None else None
    return session.open_workspace(db, read_only=read_only, command=command)
