"""Options shared by several commands (their meaning lives in the application layer, app/session.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..app.session import open_workspace, parse_time  # light: DuckDB loads on opening

__all__ = ["DbOption", "JsonOption", "open_workspace", "parse_time"]

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Workspace file (default: $LEAD2CASH_DB or ./lead2cash.duckdb).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
