"""Commands on the event log itself: import, check, summary, export."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Annotated

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from ..errors import InputError, Location
from .console import console, progress_bars
from .options import DbOption, JsonOption, open_workspace, parse_time
from .runs import print_accounts

if TYPE_CHECKING:  # the core (DuckDB, Arrow) loads inside the commands, not for --help
    from ..checks import CheckReport
    from ..io.importer import ImportResult
    from ..summary import LogSummary

__all__ = ["register", "print_summary", "print_check"]


def _read_map(path: Path | None) -> dict[str, str]:
    """A column mapping file: TOML or JSON, `ModelField = "source column"` (TOML may nest it under [mapping])."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except FileNotFoundError:
        raise InputError(Location(str(path)), "no such mapping file", "check the --map path") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InputError(Location(str(path)), f"cannot parse the mapping: {exc}",
                         'write lines such as  EventTime = "Created Date"') from None
    data = data.get("mapping", data)
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise InputError(Location(str(path), None, bad[0]), "mapping values must be column names",
                         'write lines such as  EventTime = "Created Date"')
    return dict(data)


def import_cmd(
    path: Annotated[Path, typer.Argument(help="CSV, Parquet, XES or XES.GZ event log.")],
    case: Annotated[str | None, typer.Option("--case", help="Column holding the case id.")] = None,
    activity: Annotated[str | None, typer.Option("--activity", help="Column holding the activity.")] = None,
    time: Annotated[str | None, typer.Option("--time", help="Column holding the event time.")] = None,
    map_file: Annotated[Path | None, typer.Option("--map", help="TOML/JSON file: ModelField = \"column\".")] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of times written without an offset.")] = "UTC",
    time_format: Annotated[str | None, typer.Option(help="strptime pattern for unusual times, e.g. '%m/%d/%Y %H:%M'.")] = None,
    source_system: Annotated[str | None, typer.Option(help="SourceSystem for events that carry none.")] = None,
    extracted_at: Annotated[str | None, typer.Option(help="LastDataUpdate when the file has none (default: the file's modification time).")] = None,
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Set unreadable rows aside in the rejected_rows table instead of failing.")] = False,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default: detected).")] = None,
    encoding: Annotated[str | None, typer.Option(help="CSV encoding (default: UTF-8, else cp1252).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, parquet, xes, ocel2 or sap-vbfa (default: from the name).")] = None,
    case_type: Annotated[str | None, typer.Option("--case-type", help="Object-centric logs (OCEL 2.0, sap-vbfa): the object type whose objects are the cases (default: the type most events touch).")] = None,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Let a file without events replace the log (refused otherwise: usually a failed export).")] = False,
    db: DbOption = None,
) -> None:
    """Import an event log into the workspace (replaces its log; all or nothing).

    OCEL 2.0 logs (.json / .jsonocel, .xml / .xmlocel, .sqlite) keep their objects and
    relations; the log is flattened on --case-type.
    """
    from ..io.importer import ImportOptions, import_log

    options = ImportOptions(
        case=case, activity=activity, time=time, mapping=_read_map(map_file), timezone=timezone,
        time_format=time_format, source_system=source_system,
        extracted_at=parse_time(extracted_at, "--extracted-at"), skip_bad_rows=skip_bad_rows,
        delimiter=delimiter, encoding=encoding, format=fmt, case_type=case_type,
        allow_empty=allow_empty,
    )
    with open_workspace(db) as ws, progress_bars() as progress:
        result = import_log(ws, path, options, progress)
    _print_import(result, ws.path)
    if ws.last_run is not None:
        print_accounts(ws.last_run.files)


def _print_import(result: ImportResult, db: Path) -> None:
    """Report what was imported and where."""
    console.print(f"[green]imported[/] {result.events:,} events in {result.cases:,} cases "
                  f"from {result.file} into {db}")
    # Only an object-centric import loads its module: a flat import's result is never one of its.
    object_import = sys.modules.get("lead2cash.io.object_import")
    if object_import is not None and isinstance(result, object_import.ObjectImportResult):
        types = ", ".join(f"{t} ({n:,})" for t, n in result.object_types.items())
        console.print(f"  {result.unique_events:,} events, {sum(result.object_types.values()):,} "
                      f"objects: {types}; {result.e2o:,} event-object and {result.o2o:,} "
                      "object-object relations", highlight=False)
        console.print(f"  case type: {result.case_type}, {result.case_type_reason}", highlight=False)
    else:
        mapped = ", ".join(f"{k} ← {v}" for k, v in result.mapping.items())
        console.print(f"  columns: {mapped}", highlight=False)
    if result.extras:
        source = {v: k for k, v in result.renamed.items()}
        kept = ", ".join(f"{n} (column '{source[n]}': the store has that name)" if n in source
                         else n for n in result.extras)
        console.print(f"  kept as extra attributes: {kept}", highlight=False)
    if result.rejected:
        console.print(f"  [yellow]{result.rejected:,} rows set aside[/] (`lead2cash rejected` lists them)")
    from rich.markup import escape

    for warning in getattr(result, "warnings", ()):
        console.print(f"  [yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


def print_check(report: CheckReport) -> None:
    """Coverage by tier and the findings, as rich tables."""
    from ..checks import Severity

    cov = Table(title=f"Coverage ({report.events:,} events, {report.cases:,} cases)")
    for col in ("tier", "attribute", "events", "cases"):
        cov.add_column(col, justify="right" if col in ("events", "cases") else "left")
    for c in report.coverage:
        colour = "green" if c.events_share == 1 else "yellow" if c.events_share > 0 else "red"
        cov.add_row(c.tier, c.attribute, f"[{colour}]{c.events_share:.1%}[/]", f"{c.cases_share:.1%}")
    console.print(cov)
    if not report.findings:
        console.print("[green]no findings: the log fits the model[/]")
        return
    colours = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
    table = Table(title="Findings", show_lines=True)
    for col in ("severity", "rule", "what", "count", "examples", "how to fix"):
        table.add_column(col, overflow="fold")
    for f in report.findings:
        table.add_row(f"[{colours[f.severity]}]{f.severity}[/]", f.rule, f.message, f"{f.count:,}",
                      ", ".join(f.examples), f.hint)
    console.print(table)


def check_cmd(json_out: JsonOption = False, db: DbOption = None) -> None:
    """Check the log against the data model; exit 0 clean, 1 warnings, 2 errors."""
    from ..checks import check_log

    with open_workspace(db, read_only=True) as ws:
        report = check_log(ws)
    if json_out:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        print_check(report)
    raise typer.Exit(report.exit_code)


def print_summary(s: LogSummary) -> None:
    """The summary as a rich table."""
    table = Table(title="Event log", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("cases", f"{s.cases:,}")
    table.add_row("events", f"{s.events:,}")
    table.add_row("activities", f"{len(s.activities):,}")
    table.add_row("variants", f"{s.variants:,}")
    table.add_row("first event", f"{s.first_event} UTC")
    table.add_row("last event", f"{s.last_event} UTC")
    table.add_row("LastDataUpdate", f"{s.last_data_update} UTC")
    table.add_row("source systems", ", ".join(f"{k} ({v:,})" for k, v in s.source_systems.items()))
    console.print(table)
    acts = Table(title="Activities")
    acts.add_column("activity")
    acts.add_column("events", justify="right")
    for name, n in s.activities.items():
        acts.add_row(name, f"{n:,}")
    console.print(acts)


def summary_cmd(json_out: JsonOption = False, db: DbOption = None) -> None:
    """Cases, events, activities, first and last event, LastDataUpdate."""
    from ..summary import summarize

    with open_workspace(db, read_only=True) as ws:
        s = summarize(ws)
    if json_out:
        typer.echo(json.dumps(s.to_dict(), indent=2, default=str))
    else:
        print_summary(s)


def export_cmd(
    path: Annotated[Path, typer.Argument(
        help="Output file: .csv, .parquet, .xes, .xes.gz; OCEL 2.0 .json, .xml or .sqlite.")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, parquet, xes or ocel2.")] = None,
    db: DbOption = None,
) -> None:
    """Export the log (model column names; XES with concept/time/lifecycle/org extensions;
    OCEL 2.0 with the objects and their relations)."""
    from ..io.export import export_format, export_log

    with open_workspace(db, read_only=True) as ws, progress_bars() as progress:
        if export_format(path, fmt) == "ocel2":
            from ..io.ocel_write import write_ocel

            c = write_ocel(ws, path, progress)
            console.print(f"[green]wrote[/] OCEL 2.0: {c.events:,} events, {c.objects:,} objects of "
                          f"{c.object_types:,} types, {c.e2o:,} event-object and {c.o2o:,} "
                          f"object-object relations to {path}")
            return
        n = export_log(ws, path, fmt, progress)
    console.print(f"[green]wrote[/] {n:,} events to {path}")


def model_cmd(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the model as Markdown.")] = False,
) -> None:
    """Show the data model: 17 attributes by tier and 15 activities."""
    from ..model import ACTIVITIES, ATTRIBUTES
    from ..model_doc import model_markdown

    if markdown:
        typer.echo(model_markdown(), nl=False)
        return
    attrs = Table(title="Attributes")
    for col in ("tier", "field", "level", "type", "meaning"):
        attrs.add_column(col)
    for a in ATTRIBUTES:
        attrs.add_row(a.tier, a.name, a.level, a.type, a.meaning)
    console.print(attrs)
    acts = Table(title="Activities")
    for col in ("activity", "group", "event type", "happens when"):
        acts.add_column(col)
    for act in ACTIVITIES:
        acts.add_row(act.name, act.group, act.kind, act.happens_when)
    console.print(acts)


def register(app: typer.Typer) -> None:
    """Attach the log commands to the app."""
    app.command("model")(model_cmd)
    app.command("import")(import_cmd)
    app.command("check")(check_cmd)
    app.command("summary")(summary_cmd)
    app.command("export")(export_cmd)
