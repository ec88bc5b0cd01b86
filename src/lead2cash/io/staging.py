"""Stage an input file (CSV, Parquet, XES) into a temporary DuckDB table in source order.

A stage keeps the raw values; its `row` column is the row's position in the source, and
`locator` is an SQL expression naming the row the way a user finds it (line, row,
or trace and event).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..errors import InputError, Location
from ..progress import NO_PROGRESS, Progress
from ..store import quote
from .convert import sql_literal
from .csvfile import detect_dialect

__all__ = ["FORMATS", "OBJECT_FORMATS", "Stage", "check_regular_file", "detect_format",
           "drop_stage", "stage_file"]

STAGE = "_l2c_stage"
OBJECT_FORMATS = ("ocel2", "sap-vbfa")  # object-centric logs: io/object_import.py reads them
FORMATS = ("csv", "parquet", "xes", *OBJECT_FORMATS)

# XES attribute types → the DuckDB type an extra column of that type is stored as.
XES_SQL_TYPES = {"int": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN", "date": "TIMESTAMP"}


@dataclass
class Stage:
    """A staged input: raw columns with their types, a row locator, and rows the reader refused."""

    file: Path
    format: str
    columns: dict[str, str]
    locator: str
    value_types: dict[str, str] = field(default_factory=dict)
    rejected: list[tuple[str, str | None, str | None, str]] = field(default_factory=list)
    row: str = "rowid"


def detect_format(path: Path, explicit: str | None = None) -> str:
    """The input format from `--format` or the file name's ending."""
    if explicit:
        if explicit not in FORMATS:
            raise InputError(Location(str(path)), f"unknown format '{explicit}'",
                             f"use one of: {', '.join(FORMATS)}")
        return explicit
    name = path.name.lower()
    for ending, fmt in ((".xes", "xes"), (".xes.gz", "xes"), (".parquet", "parquet"),
                        (".pq", "parquet"), (".csv", "csv"), (".csv.gz", "csv"),
                        (".tsv", "csv"), (".txt", "csv"), (".jsonocel", "ocel2"),
                        (".xmlocel", "ocel2"), (".sqlite", "ocel2"), (".json", "ocel2"),
                        (".json.gz", "ocel2"), (".xml", "ocel2"), (".xml.gz", "ocel2")):
        if name.endswith(ending):
            return fmt
    raise InputError(Location(str(path)), "cannot tell the file's format from its name",
                     "name it .csv, .parquet, .xes, .xes.gz or OCEL 2.0 .json / .xml / .sqlite, "
                     f"or pass --format {'|'.join(FORMATS)}")


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    *,
    delimiter: str | None,
    encoding: str | None,
    skip_bad_rows: bool,
    tmp_dir: Path,
    progress: Progress = NO_PROGRESS,
) -> Stage:
    """Read `path` into the temporary stage table and describe it."""
    check_regular_file(path)
    drop_stage(con)
    if fmt == "csv":
        return _stage_csv(con, path, delimiter, encoding, skip_bad_rows, tmp_dir)
    if fmt == "parquet":
        return _stage_parquet(con, path)
    return _stage_xes(con, path, progress)


def check_regular_file(path: Path) -> None:
    """Refuse, before opening it, a path that is not a readable regular file: missing, a folder,
    a FIFO or device (reading one could wait for ever), or one we may not read."""
    import os
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(Location(str(path)), "no such file",
                         "check the path and the file name") from None
    except OSError as exc:
        raise InputError(Location(str(path)), f"cannot look at the file ({exc.strerror})",
                         "check the path and your permissions on its folders") from None
    if stat.S_ISDIR(mode):
        raise InputError(Location(str(path)), "is a folder, not a file",
                         "give the path of one log file inside it (extract reads folders: "
                         "`lead2cash extract --source SYSTEM=FOLDER`)")
    if not stat.S_ISREG(mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device or socket"
        raise InputError(Location(str(path)), f"is {kind}, not a regular file",
                         "write the log to a regular file first, then import that file")
    if not os.access(path, os.R_OK):
        raise InputError(Location(str(path)), "no permission to read the file",
                         "give yourself read access (chmod u+r FILE) or run as its owner")


def drop_stage(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the stage, a temporary table or (for XES) a registered Arrow table."""
    con.unregister(STAGE)
    con.execute(f"DROP TABLE IF EXISTS {STAGE}")


def _describe(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Column name → DuckDB type of the stage table."""
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {STAGE}").fetchall()}


_CSV_LINE = re.compile(r"on Line: (\d+)")
MAX_LINE = 64 << 20
"""Longest CSV line read (DuckDB's default, 2 MB, refuses a long note or description field)."""


def _stage_csv(
    con: duckdb.DuckDBPyConnection, path: Path, delimiter: str | None, encoding: str | None,
    skip_bad_rows: bool, tmp_dir: Path,
) -> Stage:
    """Stage a CSV strictly: every value as text, malformed lines fail or are set aside."""
    dialect = detect_dialect(path, delimiter, encoding, tmp_dir)
    columns = "{" + ", ".join(f"{sql_literal(h)}: 'VARCHAR'" for h in dialect.header) + "}"
    opts = [
        "auto_detect = false", "header = true", f"delim = {sql_literal(dialect.delimiter)}",
        "quote = '\"'", "escape = '\"'", f"columns = {columns}", "strict_mode = true",
        f"max_line_size = {MAX_LINE}",
    ]
    if dialect.compression:
        opts.append("compression = 'gzip'")
    if skip_bad_rows:
        opts += ["ignore_errors = true", "store_rejects = true",
                 "rejects_table = '_l2c_rejects'", "rejects_scan = '_l2c_scans'"]
    sql = (f"CREATE TEMP TABLE {STAGE} AS SELECT * FROM "
           f"read_csv({sql_literal(str(dialect.path))}, {', '.join(opts)})")
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise _csv_error(path, str(exc)) from None
    finally:
        if dialect.path != path:  # a transcoded UTF-8 copy, no longer needed
            dialect.path.unlink(missing_ok=True)
    rejected: list[tuple[str, str | None, str | None, str]] = []
    locator = "'line ' || (rowid + 2)"
    if skip_bad_rows:
        rows = con.execute(
            "SELECT line, column_name, csv_line, error_message FROM _l2c_rejects ORDER BY line"
        ).fetchall()
        rejected = [(f"line {r[0]}", r[1], r[2], str(r[3]).splitlines()[0]) for r in rows]
        # Rows after a set-aside line sit one line further down: shift locators to match.
        kept_before = [int(r[0]) - 2 - i for i, r in enumerate(rows)]
        if kept_before:
            marks = ", ".join(str(k) for k in kept_before)
            locator = (f"'line ' || (rowid + 2 + len(list_filter([{marks}], "
                       f"lambda k: k <= rowid)))")
        con.execute("DROP TABLE IF EXISTS _l2c_rejects")
        con.execute("DROP TABLE IF EXISTS _l2c_scans")
    return Stage(path, "csv", _describe(con), locator, rejected=rejected)


def _csv_error(path: Path, message: str) -> InputError:
    """Turn DuckDB's CSV error into one naming the file and line, with the fix."""
    line = _CSV_LINE.search(message)
    first = message.splitlines()[0].removeprefix("Invalid Input Error: ")
    detail = next((m.strip() for m in message.splitlines()
                   if m.startswith("Expected Number of Columns")), first)
    original = next((m.removeprefix("Original Line: ") for m in message.splitlines()
                     if m.startswith("Original Line:")), None)
    return InputError(
        Location(str(path), f"line {line.group(1)}" if line else None),
        f"malformed CSV row: {detail}",
        "fix that line (quote fields that contain the delimiter), "
        "or pass --skip-bad-rows to set such rows aside in the rejected_rows table",
        value=original,
    )


_MICROS_PER = {"s": "* 1000000", "ms": "* 1000", "us": "", "ns": "// 1000"}


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> Stage:
    """Stage a Parquet file with its own column types; Arrow durations become intervals."""
    import pyarrow as pa  # Arrow loads for Parquet and XES only: a CSV import does without it
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        source = f"read_parquet({sql_literal(str(path))})"
        # DuckDB's names, which differ from the file's where two differ only in letter case
        # (`Event_ID`, `event_id` → `Event_ID`, `event_id_1`): select by those, matched by
        # position, so that each column keeps its own values.
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        cols = [
            f"to_microseconds({quote(n)} {_MICROS_PER[f.type.unit]}) AS {quote(n)}"
            if pa.types.is_duration(f.type) else quote(n)
            for n, f in zip(names, schema, strict=True)
        ]
        con.execute(f"CREATE TEMP TABLE {STAGE} AS SELECT {', '.join(cols)} FROM {source}")
    except (duckdb.Error, pa.ArrowException) as exc:
        raise InputError(Location(str(path)), f"cannot read as Parquet: {str(exc).splitlines()[0]}",
                         "check that the file is a complete Parquet file") from None
    return Stage(path, "parquet", _describe(con), "'row ' || (rowid + 1)")


def _stage_xes(con: duckdb.DuckDBPyConnection, path: Path, progress: Progress) -> Stage:
    """Stage an XES log: events in document order, trace attributes as `case:` columns."""
    import numpy as np

    from .arrow_numpy import from_numpy
    from .xes import read_xes

    xes = read_xes(path, progress)
    rows = from_numpy(np.arange(xes.table.num_rows, dtype=np.int64))
    con.register(STAGE, xes.table.append_column("_row", rows))  # scanned in place, no copy
    columns = {n: t for n, t in _describe(con).items() if n not in ("_trace", "_event", "_row")}
    lifecycle = "lifecycle:transition"
    if lifecycle in columns and not con.execute(  # only 'complete': says nothing, not kept
            f"SELECT 1 FROM {STAGE} WHERE coalesce(lower({quote(lifecycle)}), 'complete') "
            "<> 'complete' LIMIT 1").fetchall():
        del columns[lifecycle]
    case_col = "case:concept:name"
    case_part = (f" || ' (case ' || coalesce({quote(case_col)}, '?') || ')'"
                 if case_col in columns else "")
    locator = f"'trace ' || (_trace + 1){case_part} || ', event ' || (_event + 1)"
    return Stage(path, "xes", columns, locator, value_types=dict(xes.types), row="_row")
