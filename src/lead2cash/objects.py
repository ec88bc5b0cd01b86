"""Objects in the workspace: the documents behind the events, their attributes and relations.

Tables (one DuckDB file with `events`, rebuilt by every load in its transaction):

- `objects` (object_id, object_type, source_record): one row per object; ids are unique
  across types.
- `object_attributes` (object_id, attribute, value, changed_at): every value an object
  attribute took, as text of its declared type; `changed_at` NULL for the value it holds
  from the start, else the time it took this value.
- `object_attribute_types` (object_type, attribute, value_type): OCEL 2.0 value types.
- `event_objects` (event_id, object_id, qualifier): E2O, which event touches which object.
- `object_objects` (source_id, target_id, qualifier): O2O, how objects relate.
- `unique_events`: only when `events` holds a flattening that repeats or leaves out events
  (an OCEL 2.0 import on a case type some events touch twice or not at all): one row per
  event, the events' columns, `event_id` the id E2O refers to. Otherwise E2O refers to
  `events.event_id` directly.

`events.SalesOpportunityId` names objects of the workspace's case type (`log_meta`
`case_type`, default Opportunity). A load hands its objects over as an `ObjectLog` (the
typed contract connectors fill, see docs/objects.md); without one, the case objects are
derived from the events: one Opportunity per case, E2O for every event, and the case
attributes (and SalesStage) with their changes over time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from .errors import Lead2CashError
from .model import CASE_ATTRIBUTES, attribute
from .object_model import (
    ACTIVITY_QUALIFIERS,
    CASE_OBJECT_TYPE,
    CASE_QUALIFIER,
    VALUE_TYPES,
    value_type_of_attribute,
)

if TYPE_CHECKING:  # Ibis loads when an expression is built, not with the store
    import ibis.expr.types as ir

__all__ = [
    "ATTRIBUTE_TYPES",
    "CASE_OBJECT_TYPE",
    "CONTRACT",
    "E2O",
    "O2O",
    "OBJECTS",
    "OBJECT_ATTRIBUTES",
    "OBJECT_TABLES",
    "UNIQUE_EVENTS",
    "ObjectLog",
    "case_type",
    "flatten",
    "has_objects",
    "object_type_counts",
    "relations_of_type",
    "require_case_type",
    "store_objects",
    "unique_events_table",
]

OBJECTS = "objects"
OBJECT_ATTRIBUTES = "object_attributes"
ATTRIBUTE_TYPES = "object_attribute_types"
E2O = "event_objects"
O2O = "object_objects"
UNIQUE_EVENTS = "unique_events"
OBJECT_TABLES = (OBJECTS, OBJECT_ATTRIBUTES, ATTRIBUTE_TYPES, E2O, O2O, UNIQUE_EVENTS)

CONTRACT: dict[str, tuple[tuple[str, str, bool], ...]] = {
    OBJECTS: (("object_id", "VARCHAR", True), ("object_type", "VARCHAR", True),
              ("source_record", "VARCHAR", False)),
    OBJECT_ATTRIBUTES: (("object_id", "VARCHAR", True), ("attribute", "VARCHAR", True),
                        ("value", "VARCHAR", False), ("changed_at", "TIMESTAMP", False)),
    ATTRIBUTE_TYPES: (("object_type", "VARCHAR", True), ("attribute", "VARCHAR", True),
                      ("value_type", "VARCHAR", True)),
    E2O: (("event_id", "BIGINT", True), ("object_id", "VARCHAR", True),
          ("qualifier", "VARCHAR", True)),
    O2O: (("source_id", "VARCHAR", True), ("target_id", "VARCHAR", True),
          ("qualifier", "VARCHAR", True)),
}
"""Each object table's columns: (name, DuckDB type, required). The contract an `ObjectLog`'s
SELECTs must produce, column for column."""

# The opportunity attributes a flat log carries per event: the case attributes and the stage.
_CASE_OBJECT_ATTRIBUTES = (*CASE_ATTRIBUTES, "SalesStage")


@dataclass(frozen=True, slots=True)
class ObjectLog:
    """The objects a load brings besides its events: one SELECT per object table.

    Each SELECT returns the `CONTRACT` columns of its table in order. `e2o.event_id` is the
    `event_id` of the events being loaded (or of `unique_events` when given). With
    `case_objects` False (a connector), the load path adds the case-type objects itself,
    derived from the events; True (an OCEL 2.0 import) means the objects already hold them.
    """

    objects: str
    e2o: str
    attributes: str | None = None
    attribute_types: str | None = None
    o2o: str | None = None
    case_type: str = CASE_OBJECT_TYPE
    case_objects: bool = False
    unique_events: str | None = None


def _ddl(table: str) -> str:
    """CREATE TABLE of one object table from the contract."""
    cols = ", ".join(f"{n} {t}{' NOT NULL' if req else ''}" for n, t, req in CONTRACT[table])
    return f"CREATE TABLE {table} ({cols})"


def store_objects(con: duckdb.DuckDBPyConnection, log: ObjectLog | None) -> dict[str, str]:
    """(Re)build the object tables for the events just loaded; returns the meta entries to record.

    Runs inside the load's transaction (`Workspace.replace_log`), after `events` was filled.
    """
    for table in OBJECT_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    for table in CONTRACT:
        con.execute(_ddl(table))
    chosen = log.case_type if log else CASE_OBJECT_TYPE
    if log is not None:
        _insert(con, OBJECTS, log.objects)
        _insert(con, E2O, log.e2o)
        for table, sql in ((OBJECT_ATTRIBUTES, log.attributes), (ATTRIBUTE_TYPES, log.attribute_types),
                           (O2O, log.o2o)):
            if sql:
                _insert(con, table, sql)
        if log.unique_events:
            con.execute(f"CREATE TABLE {UNIQUE_EVENTS} AS {log.unique_events}")
    if log is None or not log.case_objects:
        _derive_case_objects(con)
    _declare_undeclared(con)
    if log is not None:  # derived objects are consistent by construction; a load's own are checked
        _validate(con, chosen)
    return {"case_type": chosen}


def _insert(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> None:
    """Insert an ObjectLog SELECT, naming the contract table when its columns do not fit."""
    names = ", ".join(n for n, _, _ in CONTRACT[table])
    try:
        con.execute(f"INSERT INTO {table} ({names}) {sql}")
    except duckdb.ConstraintException as exc:
        raise Lead2CashError(f"object table {table}: a required value is missing ({exc})",
                             f"every row needs {', '.join(n for n, _, r in CONTRACT[table] if r)}") from exc
    except duckdb.Error as exc:
        raise Lead2CashError(f"object table {table}: the SELECT does not give its columns ({exc})",
                             f"return the columns {names} in this order (docs/objects.md)") from exc


def _derive_case_objects(con: duckdb.DuckDBPyConnection) -> None:
    """One Opportunity per case, E2O for every event, and the case attributes' history."""
    con.execute(f"INSERT INTO {OBJECTS} SELECT DISTINCT SalesOpportunityId, "
                f"'{CASE_OBJECT_TYPE}', NULL FROM events")
    pairs = ", ".join(f"('{a}', '{q}')" for a, q in ACTIVITY_QUALIFIERS.items())
    con.execute(
        f"INSERT INTO {E2O} SELECT e.event_id, e.SalesOpportunityId, "
        f"coalesce(q.qualifier, '{CASE_QUALIFIER}') FROM events e "
        f"LEFT JOIN (VALUES {pairs}) q(ActivityName, qualifier) USING (ActivityName)"
    )
    _case_attribute_history(con)
    declared = ", ".join(f"('{a}', '{value_type_of_attribute(attribute(a).type)}')"
                         for a in _CASE_OBJECT_ATTRIBUTES)
    con.execute(f"INSERT INTO {ATTRIBUTE_TYPES} SELECT '{CASE_OBJECT_TYPE}', t.attribute, t.value_type "
                f"FROM (VALUES {declared}) t(attribute, value_type) WHERE t.attribute IN "
                f"(SELECT DISTINCT attribute FROM {OBJECT_ATTRIBUTES} a JOIN {OBJECTS} o "
                f"USING (object_id) WHERE o.object_type = '{CASE_OBJECT_TYPE}') AND NOT EXISTS "
                f"(SELECT 1 FROM {ATTRIBUTE_TYPES} d WHERE d.object_type = '{CASE_OBJECT_TYPE}' "
                f"AND d.attribute = t.attribute)")


def _case_attribute_history(con: duckdb.DuckDBPyConnection) -> None:
    """Each case attribute's first value (held from the start) and every later change.

    Most cases keep an attribute constant: one grouped pass finds them (min = max) and writes
    their one value; only the (case, attribute) pairs whose value changes are ordered in time.
    """
    # a connector's own history of an attribute (e.g. the amount from OpportunityHistory) wins
    # for the opportunities it covers
    given = {r[0] for r in con.execute(f"SELECT DISTINCT attribute FROM {OBJECT_ATTRIBUTES}").fetchall()}
    text = {a: f'CAST("{a}" AS VARCHAR)' for a in _CASE_OBJECT_ATTRIBUTES}
    aggs = ", ".join(f'min({t}) AS "mn{i}", max({t}) AS "mx{i}"' for i, t in enumerate(text.values()))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _case_attr_span AS SELECT SalesOpportunityId, {aggs} "
                "FROM events GROUP BY SalesOpportunityId")
    for i, (a, t) in enumerate(text.items()):
        own = (f" AND SalesOpportunityId NOT IN (SELECT object_id FROM {OBJECT_ATTRIBUTES} "
               f"WHERE attribute = '{a}')") if a in given else ""
        con.execute(f"""INSERT INTO {OBJECT_ATTRIBUTES} SELECT SalesOpportunityId, '{a}', "mn{i}", NULL
                        FROM _case_attr_span WHERE "mn{i}" = "mx{i}"{own}""")
        con.execute(f"""
            INSERT INTO {OBJECT_ATTRIBUTES}
            WITH d AS (
              SELECT SalesOpportunityId, EventTime, {t} AS value,
                     lag({t}) OVER w AS prev, row_number() OVER w AS n
              FROM events WHERE {t} IS NOT NULL AND SalesOpportunityId IN
                (SELECT SalesOpportunityId FROM _case_attr_span WHERE "mn{i}" <> "mx{i}"{own})
              WINDOW w AS (PARTITION BY SalesOpportunityId ORDER BY EventTime, event_id))
            SELECT SalesOpportunityId, '{a}', value, CASE WHEN n > 1 THEN EventTime END
            FROM d WHERE n = 1 OR value <> prev""")
    con.execute("DROP TABLE _case_attr_span")


def _declare_undeclared(con: duckdb.DuckDBPyConnection) -> None:
    """Attributes an object carries without a declared type are text."""
    con.execute(f"""
        INSERT INTO {ATTRIBUTE_TYPES}
        SELECT DISTINCT o.object_type, a.attribute, 'string' FROM {OBJECT_ATTRIBUTES} a
        JOIN {OBJECTS} o USING (object_id)
        WHERE NOT EXISTS (SELECT 1 FROM {ATTRIBUTE_TYPES} t
                          WHERE t.object_type = o.object_type AND t.attribute = a.attribute)""")


def _first(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    """The first row of a query, or None."""
    rows = con.execute(sql + " LIMIT 1").fetchall()
    return rows[0] if rows else None


def _validate(con: duckdb.DuckDBPyConnection, chosen: str) -> None:
    """The object tables must be consistent with each other and the events; name the first break."""
    events = UNIQUE_EVENTS if _exists(con, UNIQUE_EVENTS) else "events"
    checks = (
        ((f"SELECT object_id, count(DISTINCT object_type) FROM {OBJECTS} GROUP BY object_id "
         "HAVING count(*) > 1"),
         OBJECTS, "object_id", "an object id appears more than once",
         "give each object one row; ids must be unique across object types (prefix them)"),
        (f"SELECT object_id FROM {OBJECTS} WHERE trim(object_type) = '' OR trim(object_id) = ''",
         OBJECTS, "object_id", "an object has an empty id or type", "fill in object_id and object_type"),
        (f"SELECT r.event_id FROM {E2O} r ANTI JOIN {events} e USING (event_id)",
         E2O, "event_id", "refers to an event that was not loaded",
         "relate objects only to events of the same load"),
        (f"SELECT r.object_id FROM {E2O} r ANTI JOIN {OBJECTS} o USING (object_id)",
         E2O, "object_id", "refers to an object that is not in the objects table",
         "add the object, or drop the relation"),
        (f"SELECT r.source_id FROM {O2O} r ANTI JOIN {OBJECTS} o ON o.object_id = r.source_id",
         O2O, "source_id", "refers to an object that is not in the objects table",
         "add the object, or drop the relation"),
        (f"SELECT r.target_id FROM {O2O} r ANTI JOIN {OBJECTS} o ON o.object_id = r.target_id",
         O2O, "target_id", "refers to an object that is not in the objects table",
         "add the object, or drop the relation"),
        (f"SELECT a.object_id FROM {OBJECT_ATTRIBUTES} a ANTI JOIN {OBJECTS} o USING (object_id)",
         OBJECT_ATTRIBUTES, "object_id", "an attribute of an object that is not in the objects table",
         "add the object, or drop its attributes"),
        ((f"SELECT object_type || '.' || attribute FROM {ATTRIBUTE_TYPES} GROUP BY ALL "
         "HAVING count(*) > 1"),
         ATTRIBUTE_TYPES, "attribute", "an attribute of an object type is declared twice",
         "declare each (object_type, attribute) once"),
        ((f"SELECT value_type FROM {ATTRIBUTE_TYPES} WHERE value_type NOT IN "
         f"({', '.join(repr(v) for v in VALUE_TYPES)})"),
         ATTRIBUTE_TYPES, "value_type", "not an OCEL 2.0 value type",
         f"use one of: {', '.join(VALUE_TYPES)}"),
        ((f"SELECT e.SalesOpportunityId FROM events e ANTI JOIN (SELECT object_id FROM {OBJECTS} "
         f"WHERE object_type = '{chosen.replace(chr(39), chr(39) * 2)}') o "
         f"ON o.object_id = e.SalesOpportunityId"),
         "events", "SalesOpportunityId", f"a case id that is no object of the case type {chosen}",
         "the case objects must include every case of the events"),
    )
    for sql, table, column, problem, hint in checks:
        row = _first(con, sql)
        if row is not None:
            raise Lead2CashError(f"object table {table}, column {column}: {problem} "
                                 f"(value {row[0]!r})", hint)


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether a table of this name exists in the workspace."""
    row = next(iter(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
                      "AND table_schema = 'main' AND table_catalog = current_database()", [table]).fetchall()), None)
    return bool(row and row[0])


def has_objects(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the workspace holds object tables (logs loaded by older versions do not)."""
    return _exists(con, OBJECTS) and _exists(con, E2O)


def case_type(con: duckdb.DuckDBPyConnection) -> str:
    """The object type `events.SalesOpportunityId` names (Opportunity unless an OCEL import chose)."""
    try:
        row = next(iter(con.execute("SELECT value FROM log_meta WHERE key = 'case_type'").fetchall()), None)
    except duckdb.CatalogException:
        return str(CASE_OBJECT_TYPE)
    return row[0] if row else str(CASE_OBJECT_TYPE)


def unique_events_table(con: duckdb.DuckDBPyConnection) -> str:
    """The table with one row per event, the one E2O refers to."""
    return UNIQUE_EVENTS if _exists(con, UNIQUE_EVENTS) else "events"


def require_case_type(con: duckdb.DuckDBPyConnection, object_type: str) -> None:
    """Fail with the types at hand when the workspace has no objects of `object_type`."""
    if object_type == case_type(con):
        return
    counts = object_type_counts(con)
    if not counts:
        raise Lead2CashError(
            f"--case-type {object_type}: the workspace holds no objects (loaded by an older version)",
            "re-import or re-extract the log with this version")
    if object_type not in counts:
        listed = ", ".join(f"{t} ({n:,})" for t, n in counts.items())
        raise Lead2CashError(f"--case-type {object_type}: the log has no objects of this type",
                             f"use one of: {listed}")


def object_type_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Object count per type, largest first (empty when the workspace has no objects)."""
    if not has_objects(con):
        return {}
    rows = con.execute(f"SELECT object_type, count(*) FROM {OBJECTS} GROUP BY 1 "
                       "ORDER BY 2 DESC, 1").fetchall()
    return {t: int(n) for t, n in rows}


def relations_of_type(e2o: ir.Table, objects: ir.Table, object_type: str) -> ir.Table:
    """(event_id, object_id) of every event and each distinct object of one type it touches."""
    import ibis

    chosen = objects.filter(objects.object_type == ibis.literal(object_type)).select("object_id")
    return e2o.join(chosen, "object_id").select("event_id", "object_id").distinct()


def flatten(events: ir.Table, relations: ir.Table, case: str = "SalesOpportunityId") -> ir.Table:
    """The log flattened on an object type: each event once per object of that type it
    touches, that object as the case; events touching none are left out (the classic
    flattening; `mine objects` counts what it duplicates and leaves out)."""
    joined = events.join(relations, "event_id")
    return joined.select(*[joined.object_id.name(case) if c == case else joined[c]
                           for c in events.columns])
