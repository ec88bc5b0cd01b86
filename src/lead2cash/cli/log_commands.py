"""Commands on the event log itself: import, check, summary, export."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the log commands to the app."""
