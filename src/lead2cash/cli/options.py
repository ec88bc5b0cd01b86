"""Options shared by several commands."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError, Location
from ..store import Workspace, default_db_path

__all__ = ["DbOption", "JsonOption", "open_workspace", "parse_time"]

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Workspace file (default: $LEAD2CASH_DB or ./lead2cash.duckdb).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


ARGV: list[str] | None = None
"""The command line's arguments, set by `main` (the runs table names each run's command)."""


def open_workspace(db: Path | None, read_only: bool = False) -> Workspace:
    """Open the workspace named by --db, or the default one."""
    command = shlex.join(["lead2cash", *ARGV]) if ARGV is not None else None
    return Workspace(db or default_db_path(), read_only=read_only, command=command)


def parse_time(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 time given on the command line, as an aware UTC datetime (naive means UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(Location(option), "not an ISO 8601 time", "write e.g. 2024-07-27T02:00:00Z",
                         value=value) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
