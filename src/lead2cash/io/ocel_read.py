"""Read OCEL 2.0 files (JSON, XML, SQLite) into staging tables, values kept as text.

Each reader only takes the file apart; `object_import` types, checks and loads what it
staged. Every staged row carries `loc`, the place a user finds it in the file (event id,
line, or table and row), for the error messages. Staging tables (temporary):

- `_oc_events` (id, type, time, pos, loc), `_oc_event_attrs` (event_id, name, value, loc)
- `_oc_objects` (id, type, pos, loc), `_oc_object_attrs` (object_id, name, value, time, loc)
- `_oc_e2o` (event_id, object_id, qualifier, loc), `_oc_o2o` (source_id, target_id, qualifier, loc)
- `_oc_types` (kind 'event' | 'object', type_name, attribute, value_type)
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

import duckdb

from ..errors import InputError, Location
from ..progress import NO_PROGRESS, Progress
from .xes_source import refuse_doctype

__all__ = ["OCEL_FORMATS", "STAGED", "Staged", "ocel_format", "read_ocel", "stage_tables"]

OCEL_FORMATS = ("json", "xml", "sqlite")
STAGED = ("_oc_events", "_oc_event_attrs", "_oc_objects", "_oc_object_attrs", "_oc_e2o",
          "_oc_o2o", "_oc_types")
_COLUMNS = {
    "_oc_events": ("id", "type", "time", "pos", "loc"),
    "_oc_event_attrs": ("event_id", "name", "value", "loc"),
    "_oc_objects": ("id", "type", "pos", "loc"),
    "_oc_object_attrs": ("object_id", "name", "value", "time", "loc"),
    "_oc_e2o": ("event_id", "object_id", "qualifier", "loc"),
    "_oc_o2o": ("source_id", "target_id", "qualifier", "loc"),
    "_oc_types": ("kind", "type_name", "attribute", "value_type"),
}
_SQLITE_TYPES = {"INTEGER": "integer", "INT": "integer", "BIGINT": "integer", "REAL": "float",
                 "FLOAT": "float", "DOUBLE": "float", "NUMERIC": "float", "BOOLEAN": "boolean",
                 "TIMESTAMP": "time", "DATETIME": "time", "DATE": "time"}


@dataclass
class Staged:
    """Rows of the staging tables, collected by a reader (values as text, None for missing)."""

    file: Path
    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {t: [] for t in _COLUMNS})

    def add(self, table: str, *row: Any) -> None:
        self.rows[table].append(row)


def ocel_format(path: Path) -> str:
    """json, xml or sqlite, from the file's name (a .gz ending is allowed for JSON and XML)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".json", ".jsonocel")):
        return "json"
    if name.endswith((".xml", ".xmlocel")):
        return "xml"
    if name.endswith((".sqlite", ".sqlite3", ".db")):
        return "sqlite"
    raise InputError(Location(str(path)), "cannot tell which OCEL 2.0 format this is from its name",
                     "name it .json / .jsonocel, .xml / .xmlocel or .sqlite")


def text(value: Any) -> str | None:
    """A JSON or SQLite value as text: booleans as true/false, numbers as written."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_ocel(path: Path, fmt: str, progress: Progress = NO_PROGRESS) -> Staged:
    """Take an OCEL 2.0 file apart into staging rows."""
    if not path.is_file():
        raise InputError(Location(str(path)), "no such file", "check the path and the file name")
    progress(f"reading {path.name}", 0, 1)
    staged = {"json": _read_json, "xml": _read_xml, "sqlite": _read_sqlite}[fmt](path)
    progress(f"reading {path.name}", 1, 1)
    return staged


def stage_tables(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Load the staging rows into temporary DuckDB tables (all text but `pos`)."""
    import pyarrow as pa  # late: only an OCEL import needs Arrow, not every import command

    for table, cols in _COLUMNS.items():
        rows = staged.rows[table]
        arrays = [pa.array([r[i] for r in rows], pa.int64() if c == "pos" else pa.string())
                  for i, c in enumerate(cols)]
        oc_arrow = pa.Table.from_arrays(arrays, names=list(cols))  # read by name (replacement scan)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM oc_arrow")
        del oc_arrow


def _open_text(path: Path) -> Any:
    """The file as text (UTF-8), gunzipped when it ends in .gz."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


# JSON ---------------------------------------------------------------------------------------

def _read_json(path: Path) -> Staged:
    """The OCEL 2.0 JSON format: eventTypes, objectTypes, events, objects."""
    try:
        with _open_text(path) as f:
            doc = json.load(f)
    except json.JSONDecodeError as exc:
        raise InputError(Location(str(path), f"line {exc.lineno}, column {exc.colno}"),
                         f"not valid JSON: {exc.msg}", "check that the file is complete") from None
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise InputError(Location(str(path)), f"cannot read the file as UTF-8 JSON ({exc})",
                         "save it as UTF-8 JSON (OCEL 2.0)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list) \
            or not isinstance(doc.get("objects"), list):
        old = isinstance(doc, dict) and "ocel:events" in doc
        raise InputError(Location(str(path)), "an OCEL 1.0 JSON log, not OCEL 2.0" if old else
                         "not an OCEL 2.0 JSON log (no 'events' and 'objects' arrays at the top "
                         "level)", "export the log as OCEL 2.0 JSON (e.g. pm4py.write_ocel2_json)")
    s = Staged(path)
    for key, kind in (("eventTypes", "event"), ("objectTypes", "object")):
        for i, t in enumerate(_array(doc, key, path, "")):
            name = _field(t, "name", path, f"{key}[{i}]")
            for j, a in enumerate(_array(t, "attributes", path, f"{key}[{i}]")):
                s.add("_oc_types", kind, name, _field(a, "name", path, f"{key}[{i}].attributes[{j}]"),
                      _field(a, "type", path, f"{key}[{i}].attributes[{j}]"))
    for i, e in enumerate(doc["events"]):
        where = f"events[{i}]"
        eid = _field(e, "id", path, where)
        loc = f"event '{eid}'"
        s.add("_oc_events", eid, _field(e, "type", path, loc), _field(e, "time", path, loc), i, loc)
        for j, a in enumerate(_array(e, "attributes", path, loc)):
            s.add("_oc_event_attrs", eid, _field(a, "name", path, f"{loc} attribute {j + 1}"),
                  text(a.get("value")), loc)
        for j, r in enumerate(_array(e, "relationships", path, loc)):
            s.add("_oc_e2o", eid, _field(r, "objectId", path, f"{loc} relationship {j + 1}"),
                  text(r.get("qualifier")), loc)
    for i, o in enumerate(doc["objects"]):
        oid = _field(o, "id", path, f"objects[{i}]")
        loc = f"object '{oid}'"
        s.add("_oc_objects", oid, _field(o, "type", path, loc), i, loc)
        for j, a in enumerate(_array(o, "attributes", path, loc)):
            s.add("_oc_object_attrs", oid, _field(a, "name", path, f"{loc} attribute {j + 1}"),
                  text(a.get("value")), text(a.get("time")), loc)
        for j, r in enumerate(_array(o, "relationships", path, loc)):
            s.add("_oc_o2o", oid, _field(r, "objectId", path, f"{loc} relationship {j + 1}"),
                  text(r.get("qualifier")), loc)
    return s


def _array(node: Any, key: str, path: Path, where: str) -> list[Any]:
    """An optional array member (missing: empty)."""
    value = node.get(key) if isinstance(node, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(Location(str(path), where or None, key), "must be an array",
                         "write it as a JSON array, as OCEL 2.0 does")
    return value


def _field(node: Any, key: str, path: Path, where: str) -> str:
    """A required text member: id, type, time, name, objectId."""
    value = node.get(key) if isinstance(node, dict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(Location(str(path), where, key), f"'{key}' is missing",
                         "every OCEL 2.0 event, object, type and relationship needs it")
    return text(value) or ""


# XML ----------------------------------------------------------------------------------------

class _XmlReader:
    """A streaming pyexpat reader of the OCEL 2.0 XML format (locations are line numbers)."""

    def __init__(self, path: Path) -> None:
        self.path, self.s = path, Staged(path)
        self.stack: list[str] = []
        self.kind = ""  # object-types, event-types, objects, events
        self.current: tuple[str, str] | None = None  # (id or type name, loc)
        self.attr: tuple[str, str | None] | None = None  # (name, time) of an open <attribute>
        self.value: list[str] = []
        self.pos = 0
        self.parser = expat.ParserCreate(encoding="utf-8")
        self.parser.buffer_text = True
        refuse_doctype(self.parser, path)
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.chars

    def where(self) -> str:
        return f"line {self.parser.CurrentLineNumber}"

    def need(self, attrs: dict[str, str], key: str, what: str) -> str:
        value = attrs.get(key)
        if value is None or not value.strip():
            raise InputError(Location(str(self.path), self.where(), key),
                             f"<{what}> has no '{key}'", f"every OCEL 2.0 <{what}> needs it")
        return value

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        depth = len(self.stack)
        self.stack.append(tag)
        if depth == 1:
            self.kind = tag
        elif depth == 2 and tag in ("object-type", "event-type"):
            self.current = (self.need(attrs, "name", tag), self.where())
        elif depth == 2 and tag == "event":
            eid = self.need(attrs, "id", tag)
            loc = f"{self.where()}, event '{eid}'"
            self.s.add("_oc_events", eid, self.need(attrs, "type", tag), self.need(attrs, "time", tag),
                       self.pos, loc)
            self.current, self.pos = (eid, loc), self.pos + 1
        elif depth == 2 and tag == "object":
            oid = self.need(attrs, "id", tag)
            loc = f"{self.where()}, object '{oid}'"
            self.s.add("_oc_objects", oid, self.need(attrs, "type", tag), self.pos, loc)
            self.current, self.pos = (oid, loc), self.pos + 1
        elif depth == 4 and tag == "attribute" and self.current:
            name = self.need(attrs, "name", tag)
            if self.kind in ("object-types", "event-types"):
                self.s.add("_oc_types", self.kind.split("-")[0], self.current[0], name,
                           attrs.get("type", "string"))
            else:
                self.attr, self.value = (name, attrs.get("time")), []
        elif depth == 4 and self.stack[3] == "objects" and self.current:
            target = self.need(attrs, "object-id", tag)
            qualifier = attrs.get("qualifier", attrs.get("relationship"))
            table = "_oc_e2o" if self.kind == "events" else "_oc_o2o"
            self.s.add(table, self.current[0], target, qualifier, f"{self.where()}, "
                       f"{'event' if self.kind == 'events' else 'object'} '{self.current[0]}'")

    def end(self, tag: str) -> None:
        self.stack.pop()
        if self.attr is not None and tag == "attribute" and self.current:
            name, time = self.attr
            value = "".join(self.value)
            if self.kind == "events":
                self.s.add("_oc_event_attrs", self.current[0], name, value, self.current[1])
            else:
                self.s.add("_oc_object_attrs", self.current[0], name, value, time, self.current[1])
            self.attr = None

    def chars(self, data: str) -> None:
        if self.attr is not None:
            self.value.append(data)

    def read(self) -> Staged:
        opener = gzip.open if self.path.name.lower().endswith(".gz") else open
        try:
            with opener(self.path, "rb") as f:
                self.parser.ParseFile(f)
        except expat.ExpatError as exc:
            raise InputError(Location(str(self.path), f"line {exc.lineno}, column {exc.offset}"),
                             f"not well-formed XML: {expat.errors.messages[exc.code]}",
                             "check that the file is complete OCEL 2.0 XML") from None
        except (OSError, EOFError) as exc:
            raise InputError(Location(str(self.path)), f"cannot read the file ({exc})",
                             "check that the file is complete OCEL 2.0 XML") from None
        if not self.s.rows["_oc_events"] and not self.s.rows["_oc_objects"]:
            raise InputError(Location(str(self.path)), "no OCEL 2.0 <events> or <objects> in it",
                             "export the log as OCEL 2.0 XML (root <log>)")
        return self.s


def _read_xml(path: Path) -> Staged:
    """The OCEL 2.0 XML format (relationships as <relationship> or <object> elements)."""
    return _XmlReader(path).read()


# SQLite -------------------------------------------------------------------------------------

def _read_sqlite(path: Path) -> Staged:
    """The OCEL 2.0 relational format: event, object, E2O, O2O and one table per type."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise InputError(Location(str(path)), f"not an SQLite database ({exc})",
                             "export the log as OCEL 2.0 SQLite") from None
        missing = [t for t in ("event", "object", "event_object", "object_object", "event_map_type",
                               "object_map_type") if t not in tables]
        if missing:
            raise InputError(Location(str(path)), f"not an OCEL 2.0 SQLite log (no table "
                             f"{', '.join(missing)})", "export the log as OCEL 2.0 SQLite")
        s = Staged(path)
        for pos, (eid, etype) in enumerate(_rows(con, "event", "ocel_id, ocel_type", path)):
            s.add("_oc_events", text(eid), text(etype), None, pos, f"table event, row {pos + 1}")
        for pos, (oid, otype) in enumerate(_rows(con, "object", "ocel_id, ocel_type", path)):
            s.add("_oc_objects", text(oid), text(otype), pos, f"table object, row {pos + 1}")
        for i, (e, o, q) in enumerate(_rows(con, "event_object",
                                            "ocel_event_id, ocel_object_id, ocel_qualifier", path)):
            s.add("_oc_e2o", text(e), text(o), text(q), f"table event_object, row {i + 1}")
        for i, (a, b, q) in enumerate(_rows(con, "object_object",
                                            "ocel_source_id, ocel_target_id, ocel_qualifier", path)):
            s.add("_oc_o2o", text(a), text(b), text(q), f"table object_object, row {i + 1}")
        _sqlite_typed(con, s, tables, "event", path)
        _sqlite_typed(con, s, tables, "object", path)
        return s
    finally:
        con.close()


def _rows(con: sqlite3.Connection, table: str, cols: str, path: Path) -> Iterator[tuple[Any, ...]]:
    """Rows of one table, naming the table when its columns are not OCEL 2.0's."""
    try:
        yield from con.execute(f'SELECT {cols} FROM "{table}" ORDER BY rowid')
    except sqlite3.DatabaseError as exc:
        raise InputError(Location(str(path), f"table {table}"), f"cannot read it ({exc})",
                         "it needs the OCEL 2.0 columns " + cols) from None


def _sqlite_typed(con: sqlite3.Connection, s: Staged, tables: set[str], kind: str,
                  path: Path) -> None:
    """The per-type tables (event_<type>, object_<type>): times, attribute values and types."""
    times: dict[str, str | None] = {}
    for name, mapped in con.execute(f"SELECT ocel_type, ocel_type_map FROM {kind}_map_type"):
        table = f"{kind}_{mapped}"
        if table not in tables:
            raise InputError(Location(str(path), f"table {kind}_map_type", "ocel_type_map"),
                             f"names table {table}, which is not in the database",
                             "export the log again, or add the table")
        info = con.execute(f'PRAGMA table_info("{table}")').fetchall()
        own = {"ocel_id", "ocel_time", "ocel_changed_field"}
        attrs = [(c[1], _SQLITE_TYPES.get((c[2] or "").upper().split("(")[0], "string"))
                 for c in info if c[1] not in own]
        for attr, vtype in attrs:
            s.add("_oc_types", kind, text(name), attr, vtype)
        cols = [c[1] for c in info]
        select = ", ".join(f'"{c}"' for c in cols)
        for i, row in enumerate(_rows(con, table, select, path)):
            values = dict(zip(cols, row, strict=True))
            oid, loc = text(values.get("ocel_id")), f"table {table}, row {i + 1}"
            if kind == "event":
                times[oid or ""] = text(values.get("ocel_time"))
                for attr, _ in attrs:
                    if values[attr] is not None:
                        s.add("_oc_event_attrs", oid, attr, text(values[attr]), loc)
                continue
            changed = values.get("ocel_changed_field")  # None: the object's initial values
            when = None if changed is None else text(values.get("ocel_time"))
            for attr, _ in attrs:
                if values[attr] is not None and changed in (None, attr):
                    s.add("_oc_object_attrs", oid, attr, text(values[attr]), when, loc)
    if kind == "event":  # the event table has no times: take them from the per-type tables
        s.rows["_oc_events"] = [(e, t, times.get(e), p, loc) for e, t, _, p, loc in s.rows["_oc_events"]]
