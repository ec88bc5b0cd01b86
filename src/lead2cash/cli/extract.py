"""The `extract` command: CRM and ERP export folders to one event log in the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import Lead2CashError
from .console import console, progress_bars
from .options import DbOption, open_workspace, parse_time
from .runs import print_accounts


def _parse_sources(values: list[str]) -> dict[str, Path]:
    """`SYSTEM=DIR` pairs, each system at most once."""
    sources: dict[str, Path] = {}
    for value in values:
        key, sep, folder = value.partition("=")
        if not sep or not key or not folder:
            raise Lead2CashError(
                f"--source {value!r}: expected SYSTEM=DIR",
                "for example --source salesforce=exports/salesforce",
            )
        if key in sources:
            raise Lead2CashError(f"--source {key} given twice", "give each system once")
        sources[key] = Path(folder)
    return sources


def extract_command(
    source: Annotated[
        list[str],
        typer.Option(
            "--source",
            metavar="SYSTEM=DIR",
            help="SYSTEM=DIR: salesforce, sap-s4hana, dynamics365 or oracle-cx and the folder "
            "of its export files (repeat for several systems; CRM first)",
        ),
    ] = [],  # noqa: B006
    config: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE", help="TOML file overriding the defaults"),
    ] = None,
    extracted_at: Annotated[
        str | None,
        typer.Option(
            "--extracted-at",
            metavar="TIME",
            help="LastDataUpdate (ISO time); default: _manifest.json, else the newest "
            "timestamp in the export",
        ),
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental",
            help="the folders hold delta exports (records changed since the last run): merge "
            "them into the records kept by earlier --incremental runs and derive the log again "
            "(the first run takes full exports)",
        ),
    ] = False,
    db: DbOption = None,
    print_default_config: Annotated[
        str | None,
        typer.Option(
            "--print-default-config",
            metavar="SYSTEM",
            help="print a system's default configuration",
        ),
    ] = None,
) -> None:
    """Build the event log from Salesforce, SAP S/4HANA, Dynamics 365 and Oracle CX exports."""
    from ..sources.config import default_toml
    from ..sources.registry import extract

    if print_default_config:
        typer.echo(default_toml(print_default_config), nl=False)
        return
    sources = _parse_sources(source)
    if not sources:
        raise Lead2CashError(
            "no --source given", "add --source SYSTEM=DIR, e.g. salesforce=exports/sf"
        )
    when = parse_time(extracted_at, "--extracted-at")
    with open_workspace(db) as ws, progress_bars() as progress:
        meta = extract(ws, sources, config, when, progress, incremental=incremental)
    missing = "; ".join(
        f"{k.split(':', 1)[1]}: {v}" for k, v in meta.items() if k.startswith("missing:")
    )
    how = "merged the deltas and derived" if incremental else "extracted"
    console.print(
        f"{how} {int(meta['events']):,} events from {', '.join(sources)} into {ws.path}"
    )
    if missing:
        console.print(f"[yellow]absent optional files[/] ({missing}): their activities are missing")
    _print_notes(meta)
    if ws.last_run is not None:
        print_accounts(ws.last_run.files)


_NOTES = {  # log metadata written by the connectors -> how extract shows it
    "data_age": "LastDataUpdate",
    "derived": "derived",
    "dropped": "rows left out",
    "encoding": "encoding",
    "header_only": "header-only files (read as absent)",
}


def _print_notes(meta: dict[str, str]) -> None:
    """What reading the exports derived or normalised, per system (check reports it too)."""
    import json

    for key, value in meta.items():
        kind, _, system = key.partition(":")
        if kind in _NOTES:
            console.print(f"  {system}: {_NOTES[kind]}: {value}")
        elif kind == "date_only":
            counts = json.loads(value)
            console.print(
                f"  {system}: [yellow]{sum(counts.values()):,} events have a date but no time[/] "
                f"(placed at midnight: {', '.join(f'{k} {n}' for k, n in counts.items())})"
            )


def register(app: typer.Typer) -> None:
    """Attach the extract command to the app."""
    app.command("extract")(extract_command)
