"""Load an object-centric log (OCEL 2.0, or SAP's document flow) into the workspace, all or nothing.

Pipeline: a reader stages the file as text (`ocel_read`) → every id, reference, time and
value is checked (first problem fails, naming file, place and column; with
`--skip-bad-rows` such rows are set aside in `rejected_rows`) → the case type is chosen
(`--case-type`, else the type most events touch) → the events are typed onto the model
(event attributes named like model attributes fill those columns; the case object's
attributes fill the case attributes at each event's time; the rest become extra
attributes) → `events` is the log flattened on the case type, the objects, E2O and O2O
go in as an `ObjectLog`, all in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..errors import InputError, Location
from ..model import ATTRIBUTE_NAMES, CASE_ATTRIBUTES, attribute
from ..object_model import VALUE_TYPES
from ..objects import ObjectLog, unique_events_table
from ..progress import NO_PROGRESS, Progress
from ..store import REJECTED, Workspace, quote
from ..workspace.runs import FileAccount
from .convert import TIME_FORMATS, convert_expr, sql_literal, timestamp_expr
from .importer import ImportOptions, ImportResult, _check_timezone
from .ocel_read import STAGED, ocel_format, read_ocel, stage_tables

__all__ = ["ObjectImportResult", "import_object_log", "load_staged"]

_KEYS = ("SalesOpportunityId", "ActivityName", "EventTime", "event_id")
_OWN = ("event_type", "source_record")
_SQL = {"string": "VARCHAR", "integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN",
        "time": "TIMESTAMP"}
# Type names other writers use (pm4py writes "date") → OCEL 2.0's.
_SYNONYMS = {"date": "time", "datetime": "time", "timestamp": "time", "double": "float",
             "real": "float", "int": "integer", "bool": "boolean", "str": "string", "text": "string"}
_EPOCH = r"^(0|1970-01-01([T ]00:00:00(\.0+)?)?(Z|[+-]00:?00)?)$"
_TEMP = ("_oc_time", "_oc_wide", "_oc_unique", "_oc_rel", "_oc_oattr", "_oc_flat", "_oc_read")


@dataclass(frozen=True)
class ObjectImportResult(ImportResult):
    """An import of an object-centric log: the counts, and which object type is the case."""

    case_type: str = ""
    case_type_reason: str = ""
    object_types: dict[str, int] = field(default_factory=dict)
    unique_events: int = 0
    e2o: int = 0
    o2o: int = 0


def import_object_log(ws: Workspace, path: Path, fmt: str, opts: ImportOptions,
                      progress: Progress = NO_PROGRESS) -> ObjectImportResult:
    """Replace the workspace's log with an OCEL 2.0 file (`ocel2`: JSON, XML or SQLite by its
    name) or SAP's document flow (`sap-vbfa`: a VBFA table as CSV or Parquet)."""
    _check_timezone(ws.con, opts.timezone)
    ws.con.execute("SET enable_progress_bar = false")  # progress goes through `progress`
    if fmt == "sap-vbfa":
        from .sap_vbfa import stage_vbfa

        set_aside, rows_read = stage_vbfa(ws.con, path, opts, progress)
        _account(ws, _row_account(path, rows_read, set_aside))
        return load_staged(ws, path, fmt, opts, progress, set_aside)
    sub = ocel_format(path)
    stage_tables(ws.con, read_ocel(path, sub, progress))
    return load_staged(ws, path, f"ocel2-{sub}", opts, progress, account_events=True)


def _account(ws: Workspace, account: FileAccount) -> None:
    """Add a file's account to the run recording this import (if any)."""
    if ws.active_run is not None:
        ws.active_run.add_file(account)


def _row_account(path: Path, rows_read: int, rejected: list[tuple[str, str | None, str | None, str]]
                 ) -> FileAccount:
    """A table's account (SAP's VBFA): each row set aside once, under each of its reasons."""
    reasons: dict[str, set[str]] = {}
    for loc, _col, _value, why in rejected:
        reasons.setdefault(why, set()).add(loc)
    aside = len({r[0] for r in rejected})
    return FileAccount.of(path, rows_read=rows_read, rows_used=rows_read - aside,
                          rows_set_aside=aside, reasons={k: len(v) for k, v in reasons.items()})


def _event_account(con: duckdb.DuckDBPyConnection, path: Path,
                   rejected: list[tuple[str, str | None, str | None, str]]) -> FileAccount:
    """An OCEL 2.0 file's account, by its events: read (`_oc_read`), loaded (`_oc_wide`), and
    each one set aside under the reasons given for it. Relations and attribute values set
    aside are listed in `rejected_rows` (their event or object is loaded)."""
    read = con.execute("SELECT count(*) FROM _oc_read").fetchall()[0][0]
    aside = {r[0] for r in con.execute(
        "SELECT loc FROM _oc_read ANTI JOIN _oc_wide USING (loc)").fetchall()}
    reasons: dict[str, set[str]] = {}
    for loc, _col, _value, why in rejected:
        if loc in aside:
            reasons.setdefault(why, set()).add(loc)
    return FileAccount.of(path, rows_read=int(read), rows_used=int(read) - len(aside),
                          rows_set_aside=len(aside), reasons={k: len(v) for k, v in reasons.items()})


def load_staged(ws: Workspace, file: Path, fmt: str, opts: ImportOptions,
                progress: Progress = NO_PROGRESS,
                rejected: list[tuple[str, str | None, str | None, str]] | None = None,
                account_events: bool = False) -> ObjectImportResult:
    """Check, type and load the staged object-centric log (see the module docstring);
    `rejected` are rows the reader already set aside. With `account_events` the run's account
    of the file counts its events (an OCEL 2.0 file: see `_event_account`)."""
    con, name = ws.con, str(file)
    rejected = list(rejected or [])
    try:
        progress(f"loading {file.name}", 0, 3)
        if account_events:
            con.execute("CREATE OR REPLACE TEMP TABLE _oc_read AS SELECT loc FROM _oc_events")
        _normalise_types(con)
        _check(con, name, opts, rejected)
        chosen, reason = _case_type(con, name, opts.case_type)
        progress(f"loading {file.name}", 1, 3)
        columns, extras = _wide_events(con, name, opts, rejected)
        if account_events:
            _account(ws, _event_account(con, file, rejected))
        stamped = opts.extracted_at or datetime.fromtimestamp(file.stat().st_mtime, UTC)
        stamp = sql_literal(stamped.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "))
        select, unique = _flatten(con, name, chosen, columns, extras, opts, stamp)
        progress(f"loading {file.name}", 2, 3)
        log = _object_log(con, name, chosen, unique)
        meta = {"file": name, "format": fmt, "timezone": opts.timezone,
                "imported_at": datetime.now(UTC).isoformat(), "mapping": json.dumps({}),
                "case_type_reason": reason}
        with ws.transaction():
            ws.replace_log(select, extras, meta, log)
            con.execute(f"CREATE OR REPLACE TABLE {REJECTED} (file VARCHAR, row VARCHAR, "
                        "\"column\" VARCHAR, value VARCHAR, reason VARCHAR)")
            if rejected:
                con.executemany(f"INSERT INTO {REJECTED} VALUES (?, ?, ?, ?, ?)",
                                [(name, *r) for r in rejected])
        result = _result(con, name, fmt, chosen, reason, tuple(extras), len(rejected))
        progress(f"loading {file.name}", 3, 3)
        return result
    finally:
        for table in (*STAGED, *_TEMP):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _normalise_types(con: duckdb.DuckDBPyConnection) -> None:
    """Declared value types in OCEL 2.0's words (unknown ones read as text)."""
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _SYNONYMS.items())
    known = ", ".join(f"'{v}'" for v in VALUE_TYPES)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _oc_types AS
        SELECT DISTINCT kind, type_name, attribute,
          CASE WHEN lower(value_type) IN ({known}) THEN lower(value_type)
               ELSE CASE lower(value_type) {cases} ELSE 'string' END END AS value_type
        FROM _oc_types""")


def _fail_or_skip(con: duckdb.DuckDBPyConnection, file: str, sql: str, column: str, problem: str,
                  hint: str, skip: bool, rejected: list, delete: str | None = None) -> None:
    """Rows `sql` finds (loc, value) are errors; with --skip-bad-rows they are set aside."""
    rows = con.execute(sql).fetchall()
    if not rows:
        return
    if not skip:
        loc, value = rows[0]
        raise InputError(Location(file, loc, column), problem,
                         f"{hint}; or pass --skip-bad-rows to set such rows aside",
                         value=value, more=len(rows) - 1)
    rejected.extend((loc, column, None if value is None else str(value), problem) for loc, value in rows)
    if delete:
        con.execute(delete)


def _check(con: duckdb.DuckDBPyConnection, file: str, opts: ImportOptions, rejected: list) -> None:
    """Ids unique, references resolved, times and typed values readable."""
    for table, what in (("_oc_events", "event"), ("_oc_objects", "object")):
        row = next(iter(con.execute(f"SELECT loc, id FROM {table} QUALIFY count(*) OVER (PARTITION BY id) > 1 "
                          "ORDER BY pos LIMIT 1").fetchall()), None)
        if row:
            raise InputError(Location(file, row[0], "id"), f"this {what} id appears more than once",
                             f"give every {what} its own id", value=row[1])
    skip = opts.skip_bad_rows
    t = timestamp_expr("time", "VARCHAR", opts.timezone, TIME_FORMATS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _oc_time AS SELECT id, {t} AS ts FROM _oc_events")
    _fail_or_skip(con, file, "SELECT e.loc, e.time FROM _oc_events e JOIN _oc_time t USING (id) "
                  "WHERE t.ts IS NULL ORDER BY e.pos", "time", "cannot read this event time",
                  "write times as ISO 8601 (2023-04-15T10:30:00Z)", skip, rejected,
                  "DELETE FROM _oc_events WHERE id IN (SELECT id FROM _oc_time WHERE ts IS NULL)")
    for table, col, ref, what in (("_oc_e2o", "event_id", "_oc_events", "event"),
                                  ("_oc_e2o", "object_id", "_oc_objects", "object"),
                                  ("_oc_o2o", "source_id", "_oc_objects", "object"),
                                  ("_oc_o2o", "target_id", "_oc_objects", "object")):
        _fail_or_skip(con, file, f"SELECT loc, {col} FROM {table} r WHERE {col} NOT IN "
                      f"(SELECT id FROM {ref})", "objectId" if what == "object" else col,
                      f"refers to an {what} that is not in the log", f"add the {what}, or drop "
                      "the relationship", skip, rejected,
                      f"DELETE FROM {table} WHERE {col} NOT IN (SELECT id FROM {ref})")
    _fail_or_skip(con, file, "SELECT a.loc, a.object_id FROM _oc_object_attrs a WHERE object_id NOT "
                  "IN (SELECT id FROM _oc_objects)", "object_id", "an attribute of an object that "
                  "is not in the log", "add the object", skip, rejected,
                  "DELETE FROM _oc_object_attrs WHERE object_id NOT IN (SELECT id FROM _oc_objects)")
    parsed = timestamp_expr("time", "VARCHAR", opts.timezone, TIME_FORMATS)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _oc_oattr AS
        SELECT a.object_id, a.name, a.value, a.loc, coalesce(t.value_type, 'string') AS value_type,
          CASE WHEN a.time IS NULL OR regexp_matches(trim(a.time), {sql_literal(_EPOCH)}) THEN NULL
               ELSE {parsed} END AS changed_at,
          a.time IS NOT NULL AND NOT regexp_matches(trim(a.time), {sql_literal(_EPOCH)})
               AND ({parsed}) IS NULL AS bad_time
        FROM _oc_object_attrs a JOIN _oc_objects o ON o.id = a.object_id
        LEFT JOIN (SELECT * FROM _oc_types WHERE kind = 'object') t
          ON t.type_name = o.type AND t.attribute = a.name""")
    _fail_or_skip(con, file, "SELECT loc, time FROM _oc_oattr a JOIN _oc_object_attrs USING "
                  "(object_id, name, value, loc) WHERE bad_time", "time",
                  "cannot read the time of this attribute value",
                  "write times as ISO 8601 (2023-04-15T10:30:00Z)", skip, rejected,
                  "DELETE FROM _oc_oattr WHERE bad_time")
    _fail_or_skip(con, file, f"SELECT loc, value FROM _oc_oattr WHERE value IS NOT NULL AND "
                  f"{_bad_value('value', 'value_type', opts)}", "value",
                  "this object attribute value does not fit its declared type",
                  "write values of the type the objectTypes declare", skip, rejected,
                  f"DELETE FROM _oc_oattr WHERE value IS NOT NULL AND "
                  f"{_bad_value('value', 'value_type', opts)}")


def _bad_value(col: str, type_col: str, opts: ImportOptions) -> str:
    """SQL: a text value that cannot be read as its OCEL 2.0 type."""
    t = timestamp_expr(col, "VARCHAR", opts.timezone, TIME_FORMATS)
    return (f"CASE {type_col} WHEN 'integer' THEN TRY_CAST(TRY_CAST({col} AS DOUBLE) AS BIGINT) IS NULL "
            f"WHEN 'float' THEN TRY_CAST({col} AS DOUBLE) IS NULL "
            f"WHEN 'boolean' THEN lower(trim({col})) NOT IN ('true', 'false', '1', '0') "
            f"WHEN 'time' THEN ({t}) IS NULL ELSE false END")


def _typed(col: str, value_type: str, opts: ImportOptions) -> str:
    """SQL: a text value as its OCEL 2.0 type's DuckDB type."""
    if value_type == "time":
        return timestamp_expr(col, "VARCHAR", opts.timezone, TIME_FORMATS)
    if value_type == "boolean":
        return f"lower(trim({quote(col)})) IN ('true', '1')"
    if value_type == "integer":
        return f"TRY_CAST(TRY_CAST({quote(col)} AS DOUBLE) AS BIGINT)"
    return f"TRY_CAST({quote(col)} AS {_SQL.get(value_type, 'VARCHAR')})"


def _case_type(con: duckdb.DuckDBPyConnection, file: str, asked: str | None) -> tuple[str, str]:
    """The case notion: --case-type, else the object type that most events touch."""
    rows = con.execute("""SELECT o.type, count(DISTINCT r.event_id) AS n FROM _oc_objects o
        LEFT JOIN _oc_e2o r ON r.object_id = o.id GROUP BY 1 ORDER BY n DESC, 1""").fetchall()
    events = con.execute("SELECT count(*) FROM _oc_events").fetchall()[0][0]  # type: ignore[index]
    if not rows:
        raise InputError(Location(file), "the log has no objects, so no case notion",
                         "an OCEL 2.0 log relates every event to at least one object")
    touched = dict(rows)
    if asked is not None:
        if asked not in touched:
            listed = ", ".join(f"{t} ({n:,} events)" for t, n in rows)
            raise InputError(Location("--case-type"), f"the log has no objects of type '{asked}'",
                             f"use one of: {listed}")
        return asked, f"--case-type: {touched[asked]:,} of {events:,} events touch a {asked}"
    best, n = rows[0]
    return best, f"the type most events touch ({n:,} of {events:,}); choose another with --case-type"


def _wide_events(con: duckdb.DuckDBPyConnection, file: str, opts: ImportOptions,
                 rejected: list) -> tuple[dict[str, str], dict[str, str]]:
    """One row per event with its attributes typed: model columns → SQL, and the extras."""
    names = [r[0] for r in con.execute(
        "SELECT name FROM _oc_event_attrs GROUP BY name ORDER BY min(rowid)").fetchall()]
    declared = dict(con.execute("SELECT attribute, CASE WHEN count(DISTINCT value_type) = 1 THEN "
                                "min(value_type) ELSE 'string' END FROM _oc_types WHERE kind = "
                                "'event' GROUP BY 1").fetchall())
    for n in names:
        if n in _KEYS:
            row = next(iter(con.execute("SELECT loc FROM _oc_event_attrs WHERE name = ? LIMIT 1", [n]).fetchall()), None)
            raise InputError(Location(file, row[0] if row else None, n),
                             "this event attribute's name is reserved by the event log",
                             "rename it (the event's id, type and time are its own fields)")
    pivot = ", ".join(f"max(value) FILTER (WHERE name = {sql_literal(n)}) AS {quote('a_' + n)}"
                      for n in names)
    con.execute("CREATE OR REPLACE TEMP TABLE _oc_wide AS SELECT e.id, e.type, e.pos, e.loc, t.ts"
                + "".join(f", w.{quote('a_' + n)}" for n in names)
                + " FROM _oc_events e JOIN _oc_time t USING (id) LEFT JOIN (SELECT event_id"
                + (", " + pivot if pivot else "") + " FROM _oc_event_attrs GROUP BY event_id) w "
                "ON w.event_id = e.id")
    columns: dict[str, str] = {}
    extras: dict[str, str] = {}
    for n in names:
        raw = "a_" + n
        if n in ATTRIBUTE_NAMES:
            a = attribute(n)
            expr = convert_expr(a.type, raw, "VARCHAR", timezone=opts.timezone, formats=TIME_FORMATS)
            columns[n] = expr
            what = {"timestamp": "a time", "decimal": "a number", "duration": "a duration"}.get(
                a.type.value, "text")
        elif n in _OWN:
            columns[n], what = f"CAST({quote(raw)} AS VARCHAR)", "text"
        else:
            vtype = declared.get(n, "string")
            expr = _typed(raw, vtype, opts)
            extras[n], what = _SQL[vtype], vtype
            columns[n] = expr
        _fail_or_skip(con, file, f"SELECT loc, {quote(raw)} FROM _oc_wide WHERE {quote(raw)} IS NOT "
                      f"NULL AND trim({quote(raw)}) <> '' AND ({columns[n]}) IS NULL ORDER BY pos",
                      n, f"cannot read this value as {what} for {n}",
                      "write values of the type the eventTypes declare", opts.skip_bad_rows, rejected,
                      f"DELETE FROM _oc_wide WHERE {quote(raw)} IS NOT NULL AND trim({quote(raw)}) "
                      f"<> '' AND ({columns[n]}) IS NULL")
    return columns, extras


def _flatten(con: duckdb.DuckDBPyConnection, file: str, chosen: str, columns: dict[str, str],
             extras: dict[str, str], opts: ImportOptions, stamp: str) -> tuple[str, str | None]:
    """The events SELECT (flattened on `chosen`) and, when it repeats or leaves out events,
    the SELECT of the unique events E2O refers to."""
    cols = ["pos AS event_id"]
    for a in ATTRIBUTE_NAMES:
        if a == "SalesOpportunityId":
            cols.append("CAST(NULL AS VARCHAR) AS SalesOpportunityId")
        elif a == "ActivityName":
            cols.append("type AS ActivityName")
        elif a == "EventTime":
            cols.append("ts AS EventTime")
        elif a in columns:
            cols.append(f"{columns[a]} AS {quote(a)}")
        elif a == "SourceSystem" and opts.source_system:
            cols.append(f"{sql_literal(opts.source_system)} AS SourceSystem")
        elif a == "LastDataUpdate":
            cols.append(f"TIMESTAMP {stamp} AS LastDataUpdate")
        else:
            cols.append(f"CAST(NULL AS {attribute(a).sql_type}) AS {quote(a)}")
    cols.append(f"coalesce({columns['event_type']}, 'imported') AS event_type" if "event_type" in columns
                else "'imported' AS event_type")
    lineage = f"{sql_literal(Path(file).name + ':')} || loc"
    cols.append(f"coalesce({columns['source_record']}, {lineage}) AS source_record"
                if "source_record" in columns else f"{lineage} AS source_record")
    cols += [f"{columns[n]} AS {quote(n)}" for n in extras]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _oc_unique AS SELECT {', '.join(cols)} FROM _oc_wide")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _oc_rel AS
        SELECT DISTINCT u.event_id, r.object_id FROM _oc_e2o r JOIN _oc_objects o ON o.id = r.object_id
        JOIN _oc_wide w ON w.id = r.event_id JOIN _oc_unique u ON u.event_id = w.pos
        WHERE o.type = {sql_literal(chosen)}""")
    one_to_one = con.execute("SELECT (SELECT count(*) FROM _oc_unique) = (SELECT count(*) FROM "
                             "_oc_rel) AND (SELECT count(DISTINCT event_id) FROM _oc_rel) = "
                             "(SELECT count(*) FROM _oc_unique)").fetchall()[0][0]  # type: ignore[index]
    fills = _case_attribute_fills(con, chosen, columns)
    order = "ORDER BY u.event_id, r.object_id"
    event_id = "u.event_id" if one_to_one else f"row_number() OVER ({order}) - 1"
    select = [event_id + " AS event_id"]
    for a in ATTRIBUTE_NAMES:
        if a == "SalesOpportunityId":
            select.append("r.object_id AS SalesOpportunityId")
        elif a in fills:
            select.append(f"coalesce(u.{quote(a)}, {fills[a][0]}) AS {quote(a)}")
        else:
            select.append(f"u.{quote(a)}")
    select += ["u.event_type", "u.source_record", *(f"u.{quote(n)}" for n in extras)]
    joins = "".join(j for _, j in fills.values())
    sql = (f"SELECT {', '.join(select)} FROM _oc_unique u JOIN _oc_rel r USING (event_id)"
           f"{joins} {order}")
    return sql, None if one_to_one else "SELECT * FROM _oc_unique"


def _case_attribute_fills(con: duckdb.DuckDBPyConnection, chosen: str,
                          columns: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Case attributes (and the stage) the events lack, from the case object's attribute of
    that name as it stood at the event's time: attribute → (value expression, ASOF join)."""
    names = [a for a in (*CASE_ATTRIBUTES, "SalesStage") if a not in columns]
    present = {r[0] for r in con.execute(
        "SELECT DISTINCT a.name FROM _oc_oattr a JOIN _oc_objects o ON o.id = a.object_id "
        "WHERE o.type = ?", [chosen]).fetchall()}
    fills: dict[str, tuple[str, str]] = {}
    for i, a in enumerate(n for n in names if n in present):
        alias = f"f{i}"
        attr = attribute(a)
        value = convert_expr(attr.type, "value", "VARCHAR", timezone="UTC", formats=TIME_FORMATS)
        join = (f" ASOF LEFT JOIN (SELECT object_id, coalesce(changed_at, TIMESTAMP '-infinity') "
                f"AS t, {value} AS v FROM _oc_oattr WHERE name = {sql_literal(a)}) {alias} "
                f"ON {alias}.object_id = r.object_id AND {alias}.t <= u.EventTime")
        fills[a] = (f"{alias}.v", join)
    return fills


def _object_log(con: duckdb.DuckDBPyConnection, file: str, chosen: str,
                unique: str | None) -> ObjectLog:
    """The staged objects, attributes, types and relations as the load path's contract."""
    return ObjectLog(
        objects=f"SELECT id, type, {sql_literal(Path(file).name + ':')} || loc FROM _oc_objects "
                "ORDER BY pos",
        e2o="SELECT w.pos, r.object_id, coalesce(r.qualifier, '') FROM _oc_e2o r "
            "JOIN _oc_wide w ON w.id = r.event_id",
        attributes="SELECT object_id, name, value, changed_at FROM _oc_oattr",
        attribute_types="SELECT DISTINCT type_name, attribute, value_type FROM _oc_types "
                        "WHERE kind = 'object'",
        o2o="SELECT source_id, target_id, coalesce(qualifier, '') FROM _oc_o2o",
        case_type=chosen, case_objects=True, unique_events=unique,
    )


def _result(con: duckdb.DuckDBPyConnection, file: str, fmt: str, chosen: str, reason: str,
            extras: tuple[str, ...], rejected: int) -> ObjectImportResult:
    """What was loaded, read back from the workspace."""
    one = lambda sql: int(con.execute(sql).fetchall()[0][0])  # type: ignore[index]
    unique = unique_events_table(con)
    types = {t: int(n) for t, n in con.execute(
        "SELECT object_type, count(*) FROM objects GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()}
    return ObjectImportResult(
        file, fmt, one("SELECT count(*) FROM events"),
        one("SELECT count(DISTINCT SalesOpportunityId) FROM events"), rejected, {}, extras,
        case_type=chosen, case_type_reason=reason, object_types=types,
        unique_events=one(f"SELECT count(*) FROM {unique}"),
        e2o=one("SELECT count(*) FROM event_objects"), o2o=one("SELECT count(*) FROM object_objects"))
