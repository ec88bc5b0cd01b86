"""Import any event log (CSV, Parquet, XES) into the workspace, all or nothing.

Pipeline: stage the raw file → map its columns onto the model → convert every value
in one vectorised pass → refuse (or set aside) rows that cannot be read → replace the
workspace's log in one transaction.

The store's own columns (`event_id`, `event_type`, `source_record`) are never claimed
from user data by their name alone: only a file that carries all three, spelt exactly so
(a lead2cash export or the simulator's ground truth), or an explicit `--map`, fills them.
Any other column named like a store column (`Event_ID` in SAP's order-to-cash log) is kept
as an extra attribute; DuckDB names ignore letter case, so it is stored as `<name>_source`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..errors import InputError, Location
from ..model import ATTRIBUTE_NAMES, ATTRIBUTES, XES_KEYS, Attribute, AttrType
from ..progress import NO_PROGRESS, Progress
from ..store import CORE_COLUMNS, REJECTED, Workspace, quote
from ..workspace.runs import FileAccount, Run
from .convert import TIME_FORMATS, convert_expr, is_present, sql_literal
from .staging import (
    OBJECT_FORMATS,
    STAGE,
    XES_SQL_TYPES,
    Stage,
    detect_format,
    check_regular_file,
    drop_stage,
    stage_file,
)
from .import_notes import ReadNotes, implausible_time_sql, nul_sql, read_notes

__all__ = ["ImportOptions", "ImportResult", "import_log"]

_KEY_FIELDS = ("SalesOpportunityId", "ActivityName", "EventTime")
_OWN_COLUMNS = ("event_id", "event_type", "source_record")
_TYPED = "_l2c_typed"
RENAME_SUFFIX = "_source"
"""Appended to an extra column whose name a store column already has (letter case aside)."""


@dataclass(frozen=True)
class ImportOptions:
    """How to read one log: column mapping, time zone, defaults and tolerance."""

    case: str | None = None
    activity: str | None = None
    time: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    time_format: str | None = None
    source_system: str | None = None
    extracted_at: datetime | None = None
    skip_bad_rows: bool = False
    delimiter: str | None = None
    encoding: str | None = None
    format: str | None = None
    case_type: str | None = None  # object-centric logs: the object type whose objects are the cases
    allow_empty: bool = False
    """Let a file without events replace the log (otherwise refused: usually a failed export)."""


@dataclass(frozen=True)
class ImportResult:
    """What an import loaded: counts, the column mapping used, extras and set-aside rows."""

    file: str
    format: str
    events: int
    cases: int
    rejected: int
    mapping: dict[str, str]
    extras: tuple[str, ...]
    renamed: dict[str, str] = field(default_factory=dict)
    """Source columns kept as extras under another name (source → stored), see RENAME_SUFFIX."""
    warnings: tuple[str, ...] = ()
    """How values were read where the file left room for doubt (decimal commas, DST, scales)."""


@dataclass(frozen=True)
class _Extra:
    """A source column kept as an extra attribute: its name in the file and in the store."""

    source: str
    name: str
    sql_type: str


def import_log(
    ws: Workspace,
    path: str | Path,
    options: ImportOptions | None = None,
    progress: Progress = NO_PROGRESS,
) -> ImportResult:
    """Replace the workspace's log with the events of `path`; the workspace is unchanged on error.

    The run is recorded in the workspace's `runs` table (a failed one in its journal), with
    the file's rows read = rows used + rows set aside.
    """
    with ws.recording("import") as run:
        return _import(ws, Path(path), options or ImportOptions(), progress, run)


def _import(ws: Workspace, path: Path, opts: ImportOptions, progress: Progress, run: Run
            ) -> ImportResult:
    """The import pipeline (see the module docstring), inside a recorded run."""
    con = ws.con
    _check_timezone(con, opts.timezone)
    _check_time_format(con, opts.time_format)
    check_regular_file(path)
    fmt = detect_format(path, opts.format)
    if fmt in OBJECT_FORMATS:  # late: the object-centric loader builds on this module
        from .object_import import import_object_log

        return import_object_log(ws, path, fmt, opts, progress)
    progress("reading " + path.name, 0, 3)
    try:
        stage = stage_file(con, path, fmt, delimiter=opts.delimiter, encoding=opts.encoding,
                           skip_bad_rows=opts.skip_bad_rows, tmp_dir=ws.temp_directory,
                           progress=progress)
        progress("reading " + path.name, 1, 3)
        mapping = _resolve_mapping(stage, opts)
        extras = _extras(stage, mapping)
        problems = _convert(con, stage, mapping, extras, opts)
        progress("reading " + path.name, 2, 3)
        unreadable = len({r[0] for r in stage.rejected})
        rejected = unreadable + _handle_problems(con, stage, problems, opts.skip_bad_rows)
        _check_event_ids(con, stage, mapping)
        _check_not_empty(con, stage, opts)
        notes = read_notes(con, stage, mapping, opts.timezone, _TYPED, opts.time_format)
        run.add_file(_account(con, stage, unreadable, rejected))
        result = _load(ws, stage, mapping, extras, rejected, opts, notes)
        progress("reading " + path.name, 3, 3)
        return result
    finally:
        drop_stage(con)
        con.execute(f"DROP TABLE IF EXISTS {_TYPED}")


def _check_timezone(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    """Fail early on an unknown time zone name."""
    try:
        con.execute("SELECT timezone(?, TIMESTAMP '2000-01-01 00:00:00')", [tz]).fetchone()
    except duckdb.Error:
        raise InputError(Location("--timezone"), f"unknown time zone '{tz}'",
                         "use an IANA name such as 'UTC', 'Europe/Paris' or 'America/New_York'") from None


def _check_time_format(con: duckdb.DuckDBPyConnection, fmt: str | None) -> None:
    """Fail early on a --time-format DuckDB cannot use (an unknown `%` code)."""
    if fmt is None:
        return
    try:
        con.execute("SELECT try_strptime('2000-01-01', ?)", [fmt]).fetchone()
    except duckdb.Error as exc:
        detail = str(exc).splitlines()[0].split("Error: ", 1)[-1]
        raise InputError(Location("--time-format"), f"cannot use the pattern {fmt!r}: {detail}",
                         "use strptime codes such as %Y %m %d %H %M %S, e.g. "
                         "--time-format '%d/%m/%Y %H:%M'") from None


def _check_not_empty(con: duckdb.DuckDBPyConnection, stage: Stage, opts: ImportOptions) -> None:
    """Refuse to replace the log with no events (a header-only or empty export is nearly always
    a failed export), unless --allow-empty says that is meant."""
    if opts.allow_empty:
        return
    left = con.execute(f"SELECT count(*) FROM {_TYPED}").fetchone()[0]  # type: ignore[index]
    if not left:
        read = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]  # type: ignore[index]
        why = ("holds no rows (only a header)" if not read and not stage.rejected
               else "has no row that could be used (all were set aside)")
        raise InputError(Location(str(stage.file)), f"the file {why}; the log was not replaced",
                         "check the export that wrote it; pass --allow-empty to replace the log "
                         "with an empty one on purpose")


def _resolve_mapping(stage: Stage, opts: ImportOptions) -> dict[str, str]:
    """Model field (or own column) → source column: explicit options first, then by name."""
    cols = stage.columns
    explicit = dict(opts.mapping)
    for fld, col in (("SalesOpportunityId", opts.case), ("ActivityName", opts.activity),
                     ("EventTime", opts.time)):
        if col:
            explicit[fld] = col
    for fld, col in explicit.items():
        if fld not in ATTRIBUTE_NAMES and fld not in _OWN_COLUMNS:
            raise InputError(Location("--map"), f"'{fld}' is not a field of the data model",
                             f"use one of: {', '.join(ATTRIBUTE_NAMES)}")
        if col not in cols:
            raise InputError(Location(str(stage.file), None, col), "no such column in the file",
                             f"the columns are: {', '.join(cols)}")
    mapping = dict(explicit)
    used = set(mapping.values())
    lower = {c.lower(): c for c in cols}
    ours = all(c in cols for c in _OWN_COLUMNS)  # a lead2cash log: its own columns keep their role
    for fld in (*ATTRIBUTE_NAMES, *(_OWN_COLUMNS if ours else ())):
        if fld in mapping:
            continue
        if fld in _OWN_COLUMNS:
            candidates = [fld]
        else:
            xes = [k for k, v in XES_KEYS.items() if v == fld]
            candidates = [fld, f"case:{fld}", *xes, lower.get(fld.lower(), "")]
        hit = next((c for c in candidates if c in cols and c not in used), None)
        if hit:
            mapping[fld] = hit
            used.add(hit)
    missing = [f for f in _KEY_FIELDS if f not in mapping]
    if missing:
        flags = {"SalesOpportunityId": "--case", "ActivityName": "--activity", "EventTime": "--time"}
        raise InputError(
            Location(str(stage.file)),
            f"no column for {', '.join(missing)}",
            f"name the column(s) with {' '.join(flags[m] + ' COLUMN' for m in missing)}; "
            f"the file's columns are: {', '.join(cols)}",
        )
    return mapping


def _extras(stage: Stage, mapping: dict[str, str]) -> list[_Extra]:
    """Unmapped source columns, kept as extra attributes, with the name and type they are
    stored under: a name the store already has (DuckDB ignores letter case) gets a suffix."""
    kept = [c for c in stage.columns if c not in set(mapping.values())]
    taken = {c.lower() for c in CORE_COLUMNS}
    names: dict[str, str] = {}
    for col in kept:  # first every column that can keep its own name, then the others
        if col.lower() not in taken:
            names[col] = col
            taken.add(col.lower())
    for col in kept:
        if col not in names:
            name, n = f"{col}{RENAME_SUFFIX}", 2
            while name.lower() in taken:
                name, n = f"{col}{RENAME_SUFFIX}{n}", n + 1
            names[col] = name
            taken.add(name.lower())
    extras = []
    for col in kept:
        xes_type, sql_type = stage.value_types.get(col), stage.columns[col]
        if xes_type is not None:
            stored = XES_SQL_TYPES.get(xes_type, "VARCHAR")
        else:
            stored = "TIMESTAMP" if sql_type.startswith("TIMESTAMP") else sql_type
        extras.append(_Extra(col, names[col], stored))
    return extras


def _decimal_comma(con: duckdb.DuckDBPyConnection, col: str) -> bool:
    """Whether a text column writes decimals with a comma (1.234,56) rather than a point."""
    q = quote(col)
    comma, point = con.execute(
        f"SELECT count(*) FILTER (WHERE regexp_matches({q}, '^\\s*[+-]?[0-9 .]*,[0-9]+%?\\s*$')), "
        f"count(*) FILTER (WHERE regexp_matches({q}, '^\\s*[+-]?[0-9 ,]*\\.[0-9]+%?\\s*$')) "
        f"FROM {STAGE}"
    ).fetchone() or (0, 0)
    return comma > point


def _expr_for(con: duckdb.DuckDBPyConnection, stage: Stage, attr: Attribute, col: str,
              opts: ImportOptions) -> str:
    """The conversion expression of one mapped model attribute."""
    sql_type = stage.columns[col]
    formats = (opts.time_format,) + TIME_FORMATS if opts.time_format else TIME_FORMATS
    comma = attr.type is AttrType.DECIMAL and sql_type == "VARCHAR" and _decimal_comma(con, col)
    return convert_expr(attr.type, col, sql_type, timezone=opts.timezone, formats=formats,
                        decimal_comma=comma, percent=attr.name == "DiscountPercentage")


_WHAT = {AttrType.TIMESTAMP: "a timestamp", AttrType.DECIMAL: "a number",
         AttrType.DURATION: "a duration", AttrType.STRING: "text"}
_FIX = {
    AttrType.TIMESTAMP: "write times as ISO 8601 (2023-04-15T10:30:00Z), or pass --time-format "
                        "with a strptime pattern such as '%m/%d/%Y %H:%M'",
    AttrType.DECIMAL: "write plain numbers such as 1234.56 or 1.234,56",
    AttrType.DURATION: "write durations as '35 days 04:00:00' or as a number of seconds",
    AttrType.STRING: "",
}


def _convert(con: duckdb.DuckDBPyConnection, stage: Stage, mapping: dict[str, str],
             extras: list[_Extra], opts: ImportOptions) -> list[tuple[str, str, str]]:
    """Build the typed table in one pass; return (error column, source column, problem) triples."""
    select = [f"{stage.row} AS _row", f"{stage.locator} AS _loc"]
    problems: list[tuple[str, str, str]] = []
    for i, attr in enumerate(ATTRIBUTES):
        col = mapping.get(attr.name)
        if col is None:
            select.append(f"CAST(NULL AS {attr.sql_type}) AS {quote(attr.name)}")
            continue
        expr = _expr_for(con, stage, attr, col, opts)
        select.append(f"{expr} AS {quote(attr.name)}")
        present = is_present(col, stage.columns[col])
        err = f"_err{i}"
        odd = ""  # values that convert but cannot be meant: NUL bytes, year 1 or 9999
        if attr.type is AttrType.STRING:
            odd = f"WHEN {nul_sql(col)} THEN 'nul' "
        elif attr.type is AttrType.TIMESTAMP:
            odd = f"WHEN {implausible_time_sql(expr)} THEN 'implausible' "
        if attr.name in _KEY_FIELDS:
            select.append(f"CASE WHEN NOT {present} THEN 'missing' "
                          f"WHEN ({expr}) IS NULL THEN 'bad' {odd}END AS {err}")
        else:
            select.append(f"CASE WHEN {present} AND ({expr}) IS NULL THEN 'bad' "
                          f"{odd}END AS {err}")
        problems.append((err, col, attr.name))
    for own in _OWN_COLUMNS:
        col = mapping.get(own)
        if col is not None:
            cast = "BIGINT" if own == "event_id" else "VARCHAR"
            select.append(f"TRY_CAST({quote(col)} AS {cast}) AS {quote('_own_' + own)}")
    for i, extra in enumerate(extras):
        select.append(f"{_extra_expr(stage, extra.source, extra.sql_type, opts)} AS _x{i}")
    con.execute(f"CREATE TEMP TABLE {_TYPED} AS SELECT {', '.join(select)} FROM {STAGE}")
    return problems


def _extra_expr(stage: Stage, col: str, sql_type: str, opts: ImportOptions) -> str:
    """Extra attributes keep their values; XES-typed text and zoned times are converted."""
    src = stage.columns[col]
    if sql_type == "TIMESTAMP":
        return convert_expr(AttrType.TIMESTAMP, col, src, timezone=opts.timezone,
                            formats=TIME_FORMATS)
    if src == "VARCHAR" and sql_type != "VARCHAR":
        return f"TRY_CAST({quote(col)} AS {sql_type})"
    return quote(col)


def _problem(kind: str, fld: str, attr: Attribute) -> tuple[str, str]:
    """What is wrong with one value of `fld`, and how to fix it."""
    if kind == "missing":
        return f"{fld} is missing", f"fill in {fld} on every row"
    if kind == "nul":
        return (f"{fld} contains a NUL byte (\\0)",
                "remove the NUL bytes (a binary field, or UTF-16 read as UTF-8: then pass "
                "--encoding utf-16)")
    if kind == "implausible":
        return (f"{fld} is outside the years 1900-2199, not a real event time",
                "SAP and other systems write 0001-01-01, 00000000 or 9999-12-31 for 'no date': "
                "correct the value or leave the row out")
    return f"cannot read this value as {_WHAT[attr.type]} for {fld}", _FIX[attr.type]


def _handle_problems(con: duckdb.DuckDBPyConnection, stage: Stage,
                     problems: list[tuple[str, str, str]], skip: bool) -> int:
    """Fail on the first bad value (naming file, row, column, value), or set bad rows aside."""
    if not problems:
        return 0
    counts = con.execute(
        "SELECT " + ", ".join(f"count({e})" for e, _, _ in problems) + f" FROM {_TYPED}"
    ).fetchone() or ()
    con.execute(f"ALTER TABLE {_TYPED} ADD COLUMN _bad BOOLEAN DEFAULT false")
    reasons: list[tuple[str, str, str, str]] = []
    for (err, col, fld), n in zip(problems, counts, strict=True):
        if not n:
            continue
        attr = next(a for a in ATTRIBUTES if a.name == fld)
        rows = con.execute(
            f"SELECT t._loc, t.{err}, CAST(s.{quote(col)} AS VARCHAR) FROM {_TYPED} t "
            f"JOIN {STAGE} s ON s.{stage.row} = t._row WHERE t.{err} IS NOT NULL ORDER BY t._row "
            + ("" if skip else "LIMIT 1")
        ).fetchall()
        for loc, kind, raw in rows:
            problem, fix = _problem(kind, fld, attr)
            if not skip:
                hint = f"{fix}; or pass --skip-bad-rows to set such rows aside"
                raise InputError(Location(str(stage.file), loc, col), problem, hint,
                                 value=raw if kind != "missing" else None, more=n - 1)
            reasons.append((loc, col, raw, problem))
        con.execute(f"UPDATE {_TYPED} SET _bad = true WHERE {err} IS NOT NULL")
    bad_rows = con.execute(f"SELECT count(*) FROM {_TYPED} WHERE _bad").fetchone()[0]  # type: ignore[index]
    con.execute(f"DELETE FROM {_TYPED} WHERE _bad")
    stage.rejected.extend((loc, col, raw, problem) for loc, col, raw, problem in reasons)
    return int(bad_rows)


def _account(con: duckdb.DuckDBPyConnection, stage: Stage, unreadable: int,
             rejected: int) -> FileAccount:
    """Where the file's rows went: each row the reader gave is an event or was set aside,
    and the rows the reader itself refused (`--skip-bad-rows`) were set aside too."""
    staged = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]  # type: ignore[index]
    used = con.execute(f"SELECT count(*) FROM {_TYPED}").fetchone()[0]  # type: ignore[index]
    rows_by_reason: dict[str, set[str]] = {}
    for loc, _col, _raw, reason in stage.rejected:
        rows_by_reason.setdefault(reason, set()).add(loc)
    return FileAccount.of(stage.file, rows_read=int(staged) + unreadable, rows_used=int(used),
                          rows_set_aside=rejected,
                          reasons={k: len(v) for k, v in rows_by_reason.items()})


def _check_event_ids(con: duckdb.DuckDBPyConnection, stage: Stage, mapping: dict[str, str]) -> None:
    """An input `event_id` column must hold unique whole numbers (it orders ties)."""
    if "event_id" not in mapping:
        return
    row = con.execute(
        f"SELECT _loc, _own_event_id FROM {_TYPED} "
        f"QUALIFY _own_event_id IS NULL OR count(*) OVER (PARTITION BY _own_event_id) > 1 "
        f"ORDER BY _row LIMIT 1"
    ).fetchone()
    if row:
        raise InputError(Location(str(stage.file), row[0], mapping["event_id"]),
                         "event_id must be a unique whole number on every row", value=row[1],
                         hint="rename the event_id column (or drop its --map entry) to keep it "
                              "as an attribute and number events in file order")


def _load(ws: Workspace, stage: Stage, mapping: dict[str, str], extras: list[_Extra],
          rejected: int, opts: ImportOptions, notes: ReadNotes) -> ImportResult:
    """Replace the log and the rejected rows in one transaction."""
    name = stage.file.name
    stamped = opts.extracted_at or datetime.fromtimestamp(stage.file.stat().st_mtime, UTC)
    stamped_sql = sql_literal(stamped.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "))
    cols = []
    for attr in ATTRIBUTES:
        q = quote(attr.name)
        if attr.name == "SourceSystem" and attr.name not in mapping and opts.source_system:
            cols.append(f"{sql_literal(opts.source_system)}")
        elif attr.name == "LastDataUpdate" and attr.name not in mapping:
            cols.append(f"TIMESTAMP {stamped_sql}")
        else:
            cols.append(q)
    event_id = "_own_event_id" if "event_id" in mapping else "_row"
    event_type = "coalesce(_own_event_type, 'imported')" if "event_type" in mapping else "'imported'"
    lineage = (f"coalesce(_own_source_record, {sql_literal(name + ':')} || _loc)"
               if "source_record" in mapping else f"{sql_literal(name + ':')} || _loc")
    select = (f"SELECT {event_id}, {', '.join(cols)}, {event_type}, {lineage}"
              + "".join(f", _x{i}" for i in range(len(extras)))
              + f" FROM {_TYPED}")
    renamed = {e.source: e.name for e in extras if e.source != e.name}
    meta = {
        "file": str(stage.file), "format": stage.format, "timezone": opts.timezone,
        "imported_at": datetime.now(UTC).isoformat(), "mapping": json.dumps(mapping),
    }
    if renamed:
        meta["renamed"] = json.dumps(renamed)
    meta.update(notes.meta())
    with ws.transaction() as con:
        ws.replace_log(select, {e.name: e.sql_type for e in extras}, meta)
        con.execute(f"CREATE OR REPLACE TABLE {REJECTED} (file VARCHAR, row VARCHAR, "
                    "\"column\" VARCHAR, value VARCHAR, reason VARCHAR)")
        if stage.rejected:
            con.executemany(f"INSERT INTO {REJECTED} VALUES (?, ?, ?, ?, ?)",
                            [(str(stage.file), *r) for r in stage.rejected])
        events, cases = con.execute(
            "SELECT count(*), count(DISTINCT SalesOpportunityId) FROM events").fetchone()  # type: ignore[misc]
    return ImportResult(str(stage.file), stage.format, int(events), int(cases), rejected,
                        mapping, tuple(e.name for e in extras), renamed, notes.warnings)
