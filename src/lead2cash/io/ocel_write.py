"""Write the workspace as an OCEL 2.0 log: JSON, XML or SQLite (the standard's three formats).

Events are the workspace's events once each (`unique_events` when `events` holds a
flattening), with the id `e<event_id>`, their activity as type and their columns as
attributes; the case attributes go with the case objects instead (as attribute values
over time), unless the case type declares none of that name. Objects, their attribute
values (a value held from the start is written at 1970-01-01T00:00:00Z, as the standard
does), E2O and O2O relations come from the object tables. JSON and XML are built row by
row in DuckDB (`to_json`, escaped text) and streamed out; SQLite is written with Python's
sqlite3. Attribute values are written as text (the published JSON schema types every
value as a string; readers convert them by the declared type).
"""

from __future__ import annotations

import gzip
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

from .. import objects as ob
from ..errors import Lead2CashError
from ..model import CASE_ATTRIBUTES
from ..object_model import EPOCH, ValueType, value_type_of_sql
from ..progress import NO_PROGRESS, Progress
from ..store import Workspace, quote
from .convert import sql_literal
from .ocel_read import ocel_format

__all__ = ["OcelCounts", "write_ocel"]

_OWN = ("event_id", "SalesOpportunityId", "ActivityName", "EventTime")
_ISO = "'%Y-%m-%dT%H:%M:%S.%fZ'"
_BATCH = 50_000


@dataclass(frozen=True, slots=True)
class OcelCounts:
    """What an OCEL 2.0 file holds: the numbers other tools must read back."""

    events: int
    objects: int
    object_types: int
    e2o: int
    o2o: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Column:
    """An event column written as an attribute: its name, SQL text expression and value type."""

    name: str
    sql_type: str
    value_type: ValueType

    def text(self, alias: str = "e", booleans: tuple[str, str] = ("true", "false")) -> str:
        """SQL: the value as the text OCEL 2.0 writes (NULL stays NULL)."""
        q = f"{alias}.{quote(self.name)}"
        if self.value_type is ValueType.TIME:
            return f"strftime(CAST({q} AS TIMESTAMP), {_ISO})"
        if self.value_type is ValueType.BOOLEAN:
            return f"CASE WHEN {q} THEN '{booleans[0]}' WHEN NOT {q} THEN '{booleans[1]}' END"
        return f"CAST({q} AS VARCHAR)"


def write_ocel(ws: Workspace, path: str | Path, progress: Progress = NO_PROGRESS) -> OcelCounts:
    """Write the workspace's events and objects to `path` (.json/.jsonocel, .xml/.xmlocel,
    either optionally .gz, or .sqlite); returns what the file holds."""
    ws.require_log()
    con = ws.con
    if not ob.has_objects(con):
        raise Lead2CashError(f"{ws.path}: the workspace holds no objects (loaded by an older version)",
                             "re-import or re-extract the log with this version")
    con.execute("SET enable_progress_bar = false")  # progress goes through `progress`
    path = Path(path)
    fmt = ocel_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    events = ob.unique_events_table(con)
    columns = _event_columns(con, events)
    counts = _counts(con, events)
    if fmt == "sqlite":
        _write_sqlite(con, path, events, columns, progress, counts)
    else:
        with _open(path) as out:
            (_write_json if fmt == "json" else _write_xml)(con, out, events, columns, progress, counts)
    return counts


@contextmanager
def _open(path: Path) -> Iterator[IO[str]]:
    """The output file as UTF-8 text, gzipped when its name ends in .gz."""
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            yield f
    else:
        with path.open("w", encoding="utf-8") as f:
            yield f


def _event_columns(con: duckdb.DuckDBPyConnection, events: str) -> list[_Column]:
    """The event columns written as event attributes (case attributes the case objects carry
    are written with the objects instead)."""
    on_objects = {r[0] for r in con.execute(
        f"SELECT attribute FROM {ob.ATTRIBUTE_TYPES} WHERE object_type = ?",
        [ob.case_type(con)]).fetchall()}
    rows = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE "
                       "table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
                       [events]).fetchall()
    return [_Column(n, t, value_type_of_sql(t)) for n, t in rows
            if n not in _OWN and not (n in CASE_ATTRIBUTES and n in on_objects)]


def _counts(con: duckdb.DuckDBPyConnection, events: str) -> OcelCounts:
    """Events, objects, object types, E2O and O2O relations to be written."""
    row = con.execute(
        f"SELECT (SELECT count(*) FROM {events}), (SELECT count(*) FROM {ob.OBJECTS}), "
        f"(SELECT count(DISTINCT object_type) FROM {ob.OBJECTS}), (SELECT count(*) FROM {ob.E2O}), "
        f"(SELECT count(*) FROM {ob.O2O})").fetchall()[0]
    return OcelCounts(*(int(x) for x in row))


def _event_types(con: duckdb.DuckDBPyConnection, events: str,
                 columns: list[_Column]) -> list[tuple[str, list[_Column]]]:
    """Each activity with the attributes its events carry."""
    if not columns:
        return [(r[0], []) for r in con.execute(
            f"SELECT DISTINCT ActivityName FROM {events} ORDER BY 1").fetchall()]
    present = ", ".join(f"count({quote(c.name)}) > 0" for c in columns)
    rows = con.execute(f"SELECT ActivityName, {present} FROM {events} GROUP BY 1 ORDER BY 1").fetchall()
    return [(r[0], [c for c, has in zip(columns, r[1:], strict=True) if has]) for r in rows]


def _object_types(con: duckdb.DuckDBPyConnection) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each object type with its declared attributes (name, value type)."""
    rows = con.execute(
        f"SELECT o.object_type, list((t.attribute, t.value_type) ORDER BY t.attribute) "
        f"FILTER (WHERE t.attribute IS NOT NULL) FROM (SELECT DISTINCT object_type FROM "
        f"{ob.OBJECTS}) o LEFT JOIN {ob.ATTRIBUTE_TYPES} t USING (object_type) GROUP BY 1 "
        f"ORDER BY 1").fetchall()
    return [(t, [(a[0], a[1]) for a in (attrs or [])]) for t, attrs in rows]


def _batches(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a query in batches (the whole result is never held at once)."""
    cur = con.cursor()
    try:  # a cursor starts in the default catalog: use the one the workspace reads
        where = con.execute("SELECT current_database(), current_schema()").fetchall()[0]
        cur.execute(f'USE "{where[0]}"."{where[1]}"')
        cur.execute(sql)
        while rows := cur.fetchmany(_BATCH):
            yield rows
    finally:
        cur.close()


def _stream(con: duckdb.DuckDBPyConnection, out: IO[str], sql: str, sep: str, step: str,
            total: int, progress: Progress) -> None:
    """Write the one-column text rows of `sql`, separated by `sep`."""
    done = 0
    progress(step, 0, total)
    for rows in _batches(con, sql):
        out.write(("" if done == 0 else sep) + sep.join(r[0] for r in rows))
        done += len(rows)
        progress(step, done, total)


def _json_str(value: str) -> str:
    """A JSON string literal (via DuckDB's escaping rules, in Python)."""
    import json

    return json.dumps(value, ensure_ascii=False)


def _relationships_sql(key: str, table: str, source: str, target: str) -> str:
    """Per object or event, its relationships as a list of (objectId, qualifier) structs."""
    return (f"SELECT {source} AS {key}, list({{'objectId': {target}, 'qualifier': qualifier}} "
            f"ORDER BY {target}, qualifier) AS rels FROM {table} GROUP BY 1")


def _write_json(con: duckdb.DuckDBPyConnection, out: IO[str], events: str, columns: list[_Column],
                progress: Progress, counts: OcelCounts) -> None:
    """The JSON format: objectTypes, eventTypes, objects, events."""
    def types(items: list[tuple[str, list[tuple[str, str]]]]) -> str:
        return ", ".join('{"name": ' + _json_str(n) + ', "attributes": [' + ", ".join(
            '{"name": ' + _json_str(a) + ', "type": ' + _json_str(t) + "}" for a, t in attrs) + "]}"
            for n, attrs in items)
    out.write('{"objectTypes": [' + types(_object_types(con)) + '],\n"eventTypes": [')
    out.write(types([(n, [(c.name, c.value_type.value) for c in cols])
                     for n, cols in _event_types(con, events, columns)]) + '],\n"objects": [\n')
    attrs = (f"SELECT object_id, list({{'name': attribute, 'value': value, 'time': "
             f"coalesce(strftime(changed_at, {_ISO}), '{EPOCH}')}} ORDER BY changed_at NULLS FIRST, "
             f"attribute) AS attrs FROM {ob.OBJECT_ATTRIBUTES} WHERE value IS NOT NULL GROUP BY 1")
    _stream(con, out, f"""
        SELECT '{{"id": ' || to_json(o.object_id) || ', "type": ' || to_json(o.object_type)
          || ', "attributes": ' || coalesce(CAST(to_json(a.attrs) AS VARCHAR), '[]')
          || ', "relationships": ' || coalesce(CAST(to_json(r.rels) AS VARCHAR), '[]') || '}}'
        FROM {ob.OBJECTS} o LEFT JOIN ({attrs}) a USING (object_id)
        LEFT JOIN ({_relationships_sql('object_id', ob.O2O, 'source_id', 'target_id')}) r
          USING (object_id) ORDER BY o.object_type, o.object_id""",
            ",\n", "writing objects", counts.objects, progress)
    out.write('\n],\n"events": [\n')
    attr_list = ("list_filter([" + ", ".join(
        f"{{'name': {sql_literal(c.name)}, 'value': {c.text()}}}" for c in columns)
        + "], lambda x: x.value IS NOT NULL)") if columns else None
    attributes = f"coalesce(CAST(to_json({attr_list}) AS VARCHAR), '[]')" if attr_list else "'[]'"
    _stream(con, out, f"""
        SELECT '{{"id": ' || to_json('e' || e.event_id) || ', "type": ' || to_json(e.ActivityName)
          || ', "time": ' || to_json(strftime(e.EventTime, {_ISO}))
          || ', "attributes": ' || {attributes}
          || ', "relationships": ' || coalesce(CAST(to_json(r.rels) AS VARCHAR), '[]') || '}}'
        FROM {events} e LEFT JOIN ({_relationships_sql('event_id', ob.E2O, 'event_id', 'object_id')}) r
          USING (event_id) ORDER BY e.EventTime, e.event_id""",
            ",\n", "writing events", counts.events, progress)
    out.write("\n]}\n")


def _xml(expr: str) -> str:
    """SQL: text escaped for XML content and attributes (characters XML 1.0 cannot hold
    become U+FFFD)."""
    cleaned = f"regexp_replace({expr}, '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]', '\ufffd', 'g')"
    return (f"replace(replace(replace(replace({cleaned}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), "
            f"'\"', '&quot;')")


def _xml_py(value: str) -> str:
    """Python: the same escaping for the few names written from Python."""
    value = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", value)
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _write_xml(con: duckdb.DuckDBPyConnection, out: IO[str], events: str, columns: list[_Column],
               progress: Progress, counts: OcelCounts) -> None:
    """The XML format: <log> with object-types, event-types, objects, events (the XSD's order)."""
    def types(tag: str, items: list[tuple[str, list[tuple[str, str]]]]) -> str:
        return "".join(f'    <{tag} name="{_xml_py(n)}">\n      <attributes>\n' + "".join(
            f'        <attribute name="{_xml_py(a)}" type="{t}"/>\n' for a, t in attrs)
            + f"      </attributes>\n    </{tag}>\n" for n, attrs in items)
    out.write("<?xml version='1.0' encoding='UTF-8'?>\n<log>\n  <object-types>\n")
    out.write(types("object-type", _object_types(con)) + "  </object-types>\n  <event-types>\n")
    out.write(types("event-type", [(n, [(c.name, c.value_type.value) for c in cols])
                                   for n, cols in _event_types(con, events, columns)]))
    out.write("  </event-types>\n  <objects>\n")
    rel = ("'<relationship object-id=\"' || {id} || '\" qualifier=\"' || {q} || '\"/>'")
    o_attrs = (f"SELECT object_id, string_agg('<attribute name=\"' || {_xml('attribute')} || "
               f"'\" time=\"' || coalesce(strftime(changed_at, {_ISO}), '{EPOCH}') || '\">' || "
               f"{_xml('value')} || '</attribute>', '' ORDER BY changed_at NULLS FIRST, attribute) "
               f"AS x FROM {ob.OBJECT_ATTRIBUTES} WHERE value IS NOT NULL GROUP BY 1")
    o_rels = (f"SELECT source_id AS object_id, string_agg("
              f"{rel.format(id=_xml('target_id'), q=_xml('qualifier'))}, '' ORDER BY target_id) AS x "
              f"FROM {ob.O2O} GROUP BY 1")
    _stream(con, out, f"""
        SELECT '    <object id="' || {_xml('o.object_id')} || '" type="' || {_xml('o.object_type')}
          || '"><attributes>' || coalesce(a.x, '') || '</attributes>'
          || CASE WHEN r.x IS NULL THEN '' ELSE '<objects>' || r.x || '</objects>' END || '</object>'
        FROM {ob.OBJECTS} o LEFT JOIN ({o_attrs}) a USING (object_id)
        LEFT JOIN ({o_rels}) r USING (object_id) ORDER BY o.object_type, o.object_id""",
            "\n", "writing objects", counts.objects, progress)
    out.write("\n  </objects>\n  <events>\n")
    e_attrs = "''" if not columns else "array_to_string([" + ", ".join(
        f"CASE WHEN ({c.text(booleans=('1', '0'))}) IS NOT NULL THEN '<attribute name=\""
        f"{_xml_py(c.name).replace(chr(39), chr(39) * 2)}\">' || {_xml(c.text(booleans=('1', '0')))} "
        f"|| '</attribute>' END" for c in columns) + "], '')"
    e_rels = (f"SELECT event_id, string_agg("
              f"{rel.format(id=_xml('object_id'), q=_xml('qualifier'))}, '' ORDER BY object_id) AS x "
              f"FROM {ob.E2O} GROUP BY 1")
    _stream(con, out, f"""
        SELECT '    <event id="e' || e.event_id || '" type="' || {_xml('e.ActivityName')}
          || '" time="' || strftime(e.EventTime, {_ISO}) || '"><attributes>' || {e_attrs}
          || '</attributes><objects>' || coalesce(r.x, '') || '</objects></event>'
        FROM {events} e LEFT JOIN ({e_rels}) r USING (event_id) ORDER BY e.EventTime, e.event_id""",
            "\n", "writing events", counts.events, progress)
    out.write("\n  </events>\n</log>\n")


# SQLite -------------------------------------------------------------------------------------

_SQLITE = {ValueType.STRING: "TEXT", ValueType.TIME: "TIMESTAMP", ValueType.INTEGER: "INTEGER",
           ValueType.FLOAT: "REAL", ValueType.BOOLEAN: "BOOLEAN"}
_SQLITE_TIME = "'%Y-%m-%d %H:%M:%S.%f'"


def _table_names(names: list[str]) -> dict[str, str]:
    """Each type name as a table-name part: letters and digits only, unique ignoring case."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for n in names:
        base = re.sub(r"[^0-9A-Za-z_]", "", n) or "Type"
        candidate, i = base, 2
        while candidate.lower() in used:
            candidate, i = f"{base}_{i}", i + 1
        used.add(candidate.lower())
        out[n] = candidate
    return out


def _sqlite_value(expr: str, vtype: ValueType | str) -> str:
    """SQL: a value as SQLite stores its type (times as text, booleans as 1/0)."""
    v = ValueType(vtype)
    if v is ValueType.TIME:
        return f"strftime(CAST({expr} AS TIMESTAMP), {_SQLITE_TIME})"
    if v is ValueType.BOOLEAN:
        return f"CAST(CAST({expr} AS BOOLEAN) AS INTEGER)"
    if v is ValueType.INTEGER:
        return f"CAST(CAST({expr} AS DOUBLE) AS BIGINT)"
    if v is ValueType.FLOAT:
        return f"CAST({expr} AS DOUBLE)"
    return f"CAST({expr} AS VARCHAR)"


def _copy(con: duckdb.DuckDBPyConnection, db: sqlite3.Connection, table: str, columns: list[str],
          sql: str) -> None:
    """Insert the rows of a DuckDB query into an SQLite table, batch by batch."""
    marks = ", ".join("?" * len(columns))
    names = ", ".join(f'"{c}"' for c in columns)
    for rows in _batches(con, sql):
        db.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


def _write_sqlite(con: duckdb.DuckDBPyConnection, path: Path, events: str, columns: list[_Column],
                  progress: Progress, counts: OcelCounts) -> None:
    """The relational format: event, object, E2O, O2O, the type maps and one table per type."""
    if path.exists():
        path.unlink()
    db = sqlite3.connect(path)
    try:
        ddl = {"event": "ocel_id TEXT, ocel_type TEXT", "object": "ocel_id TEXT, ocel_type TEXT",
               "event_object": "ocel_event_id TEXT, ocel_object_id TEXT, ocel_qualifier TEXT",
               "object_object": "ocel_source_id TEXT, ocel_target_id TEXT, ocel_qualifier TEXT",
               "event_map_type": "ocel_type TEXT, ocel_type_map TEXT",
               "object_map_type": "ocel_type TEXT, ocel_type_map TEXT"}
        for table, cols in ddl.items():
            db.execute(f'CREATE TABLE "{table}" ({cols})')
        progress("writing events", 0, counts.events)
        order = "ORDER BY EventTime, event_id"
        _copy(con, db, "event", ["ocel_id", "ocel_type"],
              f"SELECT 'e' || event_id, ActivityName FROM {events} {order}")
        _copy(con, db, "object", ["ocel_id", "ocel_type"],
              f"SELECT object_id, object_type FROM {ob.OBJECTS} ORDER BY object_type, object_id")
        _copy(con, db, "event_object", ["ocel_event_id", "ocel_object_id", "ocel_qualifier"],
              f"SELECT 'e' || event_id, object_id, qualifier FROM {ob.E2O} ORDER BY event_id, object_id")
        _copy(con, db, "object_object", ["ocel_source_id", "ocel_target_id", "ocel_qualifier"],
              f"SELECT source_id, target_id, qualifier FROM {ob.O2O} ORDER BY source_id, target_id")
        event_types = _event_types(con, events, columns)
        emap = _table_names([n for n, _ in event_types])
        db.executemany('INSERT INTO "event_map_type" VALUES (?, ?)', list(emap.items()))
        for name, cols in event_types:
            table = f"event_{emap[name]}"
            decl = "".join(f', "{c.name}" {_SQLITE[c.value_type]}' for c in cols)
            db.execute(f'CREATE TABLE "{table}" (ocel_id TEXT, ocel_time TIMESTAMP{decl})')
            values = "".join(f", {_sqlite_value('e.' + quote(c.name), c.value_type)}" for c in cols)
            _copy(con, db, table, ["ocel_id", "ocel_time", *(c.name for c in cols)],
                  f"SELECT 'e' || e.event_id, strftime(e.EventTime, {_SQLITE_TIME}){values} "
                  f"FROM {events} e WHERE e.ActivityName = {sql_literal(name)} {order}")
        progress("writing events", counts.events, counts.events)
        progress("writing objects", 0, counts.objects)
        object_types = _object_types(con)
        omap = _table_names([n for n, _ in object_types])
        db.executemany('INSERT INTO "object_map_type" VALUES (?, ?)', list(omap.items()))
        for name, attrs in object_types:
            table = f"object_{omap[name]}"
            decl = "".join(f', "{a}" {_SQLITE[ValueType(t)]}' for a, t in attrs)
            db.execute(f'CREATE TABLE "{table}" (ocel_id TEXT, ocel_time TIMESTAMP, '
                       f'ocel_changed_field TEXT{decl})')
            firsts = [((f"max(a.value) FILTER (WHERE a.attribute = {sql_literal(n)} AND "
                       "a.changed_at IS NULL)"), t) for n, t in attrs]
            initial = "".join(f", {_sqlite_value(v, t)}" for v, t in firsts)
            _copy(con, db, table, ["ocel_id", "ocel_time", "ocel_changed_field", *(a for a, _ in attrs)],
                  f"SELECT o.object_id, '1970-01-01 00:00:00', NULL{initial} FROM {ob.OBJECTS} o "
                  f"LEFT JOIN {ob.OBJECT_ATTRIBUTES} a USING (object_id) WHERE o.object_type = "
                  f"{sql_literal(name)} GROUP BY o.object_id ORDER BY o.object_id")
            for n, t in attrs:
                _copy(con, db, table, ["ocel_id", "ocel_time", "ocel_changed_field", n],
                      f"SELECT a.object_id, strftime(a.changed_at, {_SQLITE_TIME}), "
                      f"{sql_literal(n)}, {_sqlite_value('a.value', t)} FROM {ob.OBJECT_ATTRIBUTES} a "
                      f"JOIN {ob.OBJECTS} o USING (object_id) WHERE o.object_type = {sql_literal(name)} "
                      f"AND a.attribute = {sql_literal(n)} AND a.changed_at IS NOT NULL "
                      f"ORDER BY a.changed_at, a.object_id")
        progress("writing objects", counts.objects, counts.objects)
        db.commit()
    finally:
        db.close()
