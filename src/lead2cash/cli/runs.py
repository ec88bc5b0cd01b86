"""The `runs` and `rejected` commands: the record of every refresh and the rows set aside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from ..errors import Lead2CashError
from .console import console
from .options import DbOption, JsonOption, open_workspace

if TYPE_CHECKING:  # the workspace (DuckDB) loads inside the commands, not for --help
    from ..workspace.runs import FileAccount, Run

__all__ = ["print_accounts", "register"]

_OUTCOME = {"ok": "green", "failed": "red", "interrupted": "red", "running": "yellow"}


def _load_runs(db: Path | None) -> tuple[Path, list[Run]]:
    """The workspace's runs, and those only its journal knows (failed before any load)."""
    from ..store import default_db_path
    from ..workspace.runs import journal_path, read_runs

    path = db or default_db_path()
    if not path.exists():
        if journal_path(path).exists():
            return path, read_runs(None, path)
        raise Lead2CashError(f"{path}: no workspace here yet",
                             "import a log first (`lead2cash import FILE`), or point --db at one")
    with open_workspace(path, read_only=True) as ws:
        return path, read_runs(ws.con, path)


def print_accounts(files: list[FileAccount]) -> None:
    """Rows read = used + set aside, per input file, with the reasons."""
    table = Table(title="Rows per input file", box=box.SIMPLE_HEAD)
    for col in ("file", "read", "used", "set aside", "why set aside"):
        table.add_column(col, justify="right" if col in ("read", "used", "set aside") else "left",
                         overflow="fold")
    for f in files:
        why = "; ".join(f"{n:,} {reason}" for reason, n in sorted(f.reasons.items(),
                                                                   key=lambda kv: -kv[1]))
        colour = "yellow" if f.rows_set_aside else "green"
        table.add_row(f.file, f"{f.rows_read:,}", f"{f.rows_used:,}",
                      f"[{colour}]{f.rows_set_aside:,}[/]", why)
    console.print(table)


def runs_cmd(
    json_out: JsonOption = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Newest runs to show (0: all).")
                     ] = 20,
    db: DbOption = None,
) -> None:
    """Every import and extract: when, command, outcome, events, cases, and each input file."""
    path, runs = _load_runs(db)
    shown = runs[-limit:] if limit else runs
    if json_out:
        typer.echo(json.dumps([r.to_dict() for r in reversed(shown)], indent=2, default=str))
        return
    if not runs:
        console.print(f"no runs recorded in {path} yet")
        return
    table = Table(title=f"Runs of {path} (newest first, times UTC)", box=box.SIMPLE_HEAD)
    for col in ("#", "started", "kind", "outcome", "events", "cases", "seconds", "set aside"):
        table.add_column(col, justify="left" if col in ("started", "kind", "outcome") else "right",
                         no_wrap=col == "started")
    for i, r in enumerate(reversed(shown), 1):
        colour = _OUTCOME.get(r.outcome, "white")
        table.add_row(
            str(i), f"{r.started_at:%Y-%m-%d %H:%M}", r.kind, f"[{colour}]{r.outcome}[/]",
            "" if r.events is None else f"{r.events:,}", "" if r.cases is None else f"{r.cases:,}",
            "" if r.duration_s is None else f"{r.duration_s:.1f}",
            f"{sum(f.rows_set_aside for f in r.files):,}",
        )
    console.print(table)
    for i, r in enumerate(reversed(shown), 1):
        ldu = r.last_data_update
        fresh = f"; LastDataUpdate {ldu:%Y-%m-%d %H:%M}" if ldu else ""
        console.print(f"#{i} {r.command} (input files: {len(r.files)}{fresh})", highlight=False,
                      markup=False)
        if r.message:
            colour = _OUTCOME.get(r.outcome, "white")
            console.print(f"   [{colour}]{r.outcome}:[/] {r.message}", highlight=False)
    last = next((r for r in reversed(runs) if r.files), None)
    if last is not None:
        console.print(f"input files of the {last.kind} of {last.started_at:%Y-%m-%d %H:%M:%S}:")
        print_accounts(last.files)


def rejected_cmd(
    json_out: JsonOption = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Rows to list (0: all).")] = 50,
    db: DbOption = None,
) -> None:
    """The rows the last import or extract set aside, with the reason for each."""
    import duckdb

    from ..store import REJECTED

    with open_workspace(db, read_only=True) as ws:
        ws.require_log()
        try:
            by_reason = ws.con.execute(
                f"SELECT file, reason, count(DISTINCT row) AS n FROM {REJECTED} "
                "GROUP BY ALL ORDER BY file, n DESC, reason").fetchall()
            rows = ws.con.execute(
                f'SELECT file, row, "column", value, reason FROM {REJECTED} '
                + (f"LIMIT {int(limit)}" if limit else "")).fetchall()
            counted = ws.con.execute(f"SELECT count(*) FROM {REJECTED}").fetchone()
            total = int(counted[0]) if counted else 0
        except duckdb.CatalogException:  # a log loaded before rows were set aside into a table
            by_reason, rows, total = [], [], 0
    if json_out:
        keys = ("file", "row", "column", "value", "reason")
        typer.echo(json.dumps({
            "total": int(total),
            "by_reason": [{"file": f, "reason": r, "rows": int(n)} for f, r, n in by_reason],
            "rows": [dict(zip(keys, r, strict=True)) for r in rows],
        }, indent=2))
        return
    if not total:
        console.print("[green]no rows were set aside[/] by the last import or extract")
        return
    summary = Table(title="Rows set aside, by reason")
    for col in ("file", "reason", "rows"):
        summary.add_column(col, justify="right" if col == "rows" else "left", overflow="fold")
    for f, r, n in by_reason:
        summary.add_row(f, r, f"{n:,}")
    console.print(summary)
    listing = Table(title=f"Rows set aside ({len(rows):,} of {total:,})")
    for col in ("file", "row", "column", "value", "reason"):
        listing.add_column(col, overflow="fold")
    for r in rows:
        listing.add_row(*("" if v is None else str(v) for v in r))
    console.print(listing)


def register(app: typer.Typer) -> None:
    """Attach the runs and rejected commands to the app."""
    app.command("runs")(runs_cmd)
    app.command("rejected")(rejected_cmd)
