"""The `serve` and `report` commands: the dashboard in a browser, or as one HTML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from .console import console
from .options import DbOption

__all__ = ["register"]

TokenOpt = Annotated[str | None, typer.Option(
    "--token", help="Require this token on every request (default: $LEAD2CASH_TOKEN); needed for "
    "any --host other than loopback.", show_default=False)]


def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    token: TokenOpt = None,
    working_time: Annotated[str | None, typer.Option(
        "--working-time", help="Show durations in working time: a built-in calendar or a TOML file.")] = None,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open a browser.")] = False,
) -> None:
    """Serve the dashboard: overview, process map, variants, funnel, discounts, order to cash, ..."""
    from ..app.session import calendars, open_workspace
    from ..app.views import Settings
    from ..store import default_db_path
    from ..web.server import serve

    path = db or default_db_path()
    open_workspace(path, read_only=True).close()  # a missing workspace fails here, clearly
    settings = Settings(calendar=calendars(working_time), working_time=working_time)
    serve(path, host, port, token or os.environ.get("LEAD2CASH_TOKEN") or None, settings,
          open_browser, lambda url: console.print(f"[bold green]lead2cash dashboard[/] on {url}  "
                                                  "(Ctrl+C stops it)"))


def report_command(
    out: Annotated[Path, typer.Argument(help="The HTML file to write.")],
    db: DbOption = None,
    filter_: Annotated[list[str] | None, typer.Option(
        "--filter", "-f", help="Keep only matching cases (the --filter language; repeatable).")] = None,
    working_time: Annotated[str | None, typer.Option(
        "--working-time", help="Durations in working time: a built-in calendar or a TOML file.")] = None,
) -> None:
    """Write one self-contained HTML report (overview, map, variants, funnel, discounts, order to
    cash) that opens offline, to send by e-mail."""
    from ..app.session import calendars
    from ..app.views import Settings
    from ..store import default_db_path
    from ..web.report import write_report

    settings = Settings(calendar=calendars(working_time), working_time=working_time)
    size = write_report(out, db or default_db_path(), filter_ or [], settings)
    console.print(f"wrote {out} ({size / 1e6:.1f} MB, opens offline)")


def register(app: typer.Typer) -> None:
    """Attach serve and report to the app."""
    app.command("serve")(serve_command)
    app.command("report")(report_command)
