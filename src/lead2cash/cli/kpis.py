"""The `mine kpis` command (being written; see the module owner)."""

from __future__ import annotations

import typer


def register(mine_app: typer.Typer) -> None:
    """Attach `mine kpis` to the `mine` sub-app."""
