"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..store import Workspace, default_db_path

__all__ = ["DbOption", "JsonOption", "open_workspace"]

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Workspace file (default: $LEAD2CASH_DB or ./lead2cash.duckdb).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def open_workspace(db: Path | None, read_only: bool = False) -> Workspace:
    """Open the workspace named by --db, or the default one."""
    return Workspace(db or default_db_path(), read_only=read_only)
