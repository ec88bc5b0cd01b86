"""The documents a connector reads, kept as objects beside the events (issue 12, docs/objects.md).

A system's mapping declares its documents as `Document`s (one object type read from one
source table, with its links to other objects) and, on each `EventRule`, the objects its
events touch (`EventRule.objects`). The engine collects, per system, the documents into
`x_objects`, their links into `x_o2o` and attribute rows into `x_object_attributes`; after
the events are loaded (inside the same transaction) `object_log()` hands them to the one
load path (`store.replace_log` → `objects.store_objects`) as an `ObjectLog`. The opportunities
themselves are derived from the events there, as for a flat log.

Object ids are the source system's own document ids (unique across types in every system we
read: Salesforce ids carry their object's key prefix, SAP numbers its SD documents in one
range, Dynamics uses GUIDs); a system whose ranges overlap prefixes them in its SQL.
What does not resolve is counted, never silently dropped: `prepare()` gives the number of
links to objects the load does not hold, for the run's metadata (`objects:links_left_out`);
an object an event names without its document having been read is kept, typed by the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ..object_model import OWN_DOCUMENT, PARENT_DOCUMENT, ObjectType, Qualifier, ValueType
from ..objects import ObjectLog
from .sql import lit

__all__ = [
    "AttributeHistory",
    "Document",
    "ObjectRef",
    "collect",
    "customers",
    "object_log",
    "objects_of_rule",
    "prepare",
    "reset",
    "take_objects",
    "touches",
]


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """An object an event (or a document) refers to: its type, its id as SQL over alias `t`
    (and the rule's joins), and the qualifier of the relation."""

    object_type: ObjectType
    id: str
    qualifier: Qualifier
    many: bool = False  # `id` gives a LIST of ids (e.g. every order a shared delivery serves)


@dataclass(frozen=True, slots=True)
class Document:
    """One object type read from one source table.

    `id`, `links` and `attributes` are SQL over alias `t` (and `joins`; `{Table}` names a
    source table). `links` are O2O relations from this document to others (an Opportunity
    target is the case id). `attributes`: (name, SQL, value type), the value held from the
    start (`history` of the mapping adds values that change over time).
    """

    object_type: ObjectType
    table: str
    id: str
    links: tuple[ObjectRef, ...] = ()
    attributes: tuple[tuple[str, str, ValueType], ...] = ()
    joins: str = ""
    where: str = "TRUE"


def touches(activity: str, own: str, parent: str | None = None) -> tuple[ObjectRef, ...]:
    """The E2O of a model activity's event: its own document (SQL id `own`) and, for invoices
    and payments, the document it bills or clears (`parent`), qualified as `object_model` says."""
    kind, q = OWN_DOCUMENT[activity]
    refs = [ObjectRef(kind, own, q)]
    if parent is not None:
        pk, pq = PARENT_DOCUMENT[activity]
        refs.append(ObjectRef(pk, parent, pq))
    return tuple(refs)


@dataclass(frozen=True, slots=True)
class AttributeHistory:
    """An attribute's values over time from a history table: per object, the first value held
    from the start (changed_at NULL), then each change at its row's time (SQL over alias `t`)."""

    object_type: ObjectType
    table: str
    object_id: str
    time: str
    tie: str
    attribute: str
    value: str
    value_type: ValueType
    where: str = "TRUE"

    def sql(self, names: dict[str, str]) -> str:
        """SELECT object_id, attribute, value, changed_at of the changes."""
        return f"""
        SELECT oid, {lit(self.attribute)}, v, CASE WHEN n > 1 THEN ts END FROM (
          SELECT oid, ts, v, lag(v) OVER w AS prev, row_number() OVER w AS n FROM (
            SELECT nullif(trim(CAST({self.object_id} AS VARCHAR)), '') AS oid, {self.time} AS ts,
                   CAST({self.value} AS VARCHAR) AS v, {self.tie} AS tie
            FROM {names[self.table]} t WHERE ({self.where}) AND {self.time} IS NOT NULL
          ) WHERE oid IS NOT NULL AND v IS NOT NULL WINDOW w AS (PARTITION BY oid ORDER BY ts, tie))
        WHERE n = 1 OR v <> prev"""


def customers(table: str, key: str, name: str, cases: str, case_key: str,
              reference: str) -> tuple[Document, Document]:
    """The Customer objects of a CRM: every account of its account table (with its name), and
    the account each opportunity names (`cases.reference`), customer of that opportunity."""
    return (
        Document(ObjectType.CUSTOMER, table, f"t.{key}",
                 attributes=(("Name", f"t.{name}", ValueType.STRING),)),
        Document(ObjectType.CUSTOMER, cases, f"t.{reference}",
                 links=(ObjectRef(ObjectType.OPPORTUNITY, f"t.{case_key}", Qualifier.CUSTOMER_OF),)),
    )


_OBJECTS = "x_objects"
_O2O = "x_o2o"
_ATTRS = "x_object_attributes"
_TYPES = "x_object_attribute_types"


def reset(con: duckdb.DuckDBPyConnection) -> None:
    """Empty collection tables before a run reads its systems."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_OBJECTS} (object_id VARCHAR, object_type VARCHAR, "
                "source_record VARCHAR, _n BIGINT)")  # _n: declaration order, the first wins
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_O2O} (source_id VARCHAR, target_id VARCHAR, "
                "qualifier VARCHAR)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_ATTRS} (object_id VARCHAR, attribute VARCHAR, "
                "value VARCHAR, changed_at TIMESTAMP)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TYPES} (object_type VARCHAR, attribute VARCHAR, "
                "value_type VARCHAR)")


def objects_of_rule(refs: tuple[ObjectRef, ...], names: dict[str, str]) -> str:
    """The `_objs` column of an event rule's SELECT: the objects each event touches."""
    if not refs:
        return "NULL AS _objs"
    lists = []
    for r in refs:
        ty, q = lit(r.object_type.value), lit(r.qualifier.value)
        if r.many:
            lists.append(f"coalesce(list_transform({r.id.format_map(names)}, lambda x: struct_pack(ty := {ty}, "
                         f"id := nullif(trim(CAST(x AS VARCHAR)), ''), q := {q})), [])")
        else:
            lists.append(f"[struct_pack(ty := {ty}, id := nullif(trim(CAST({r.id} AS VARCHAR)), ''), q := {q})]")
    return " || ".join(lists) + " AS _objs"


def collect(con: duckdb.DuckDBPyConnection, docs: tuple[Document, ...],
            history: tuple[AttributeHistory, ...],
            files: dict[str, str], system: str, names: dict[str, str]) -> None:
    """Read one system's documents (and its attribute history SELECT) into the collection tables.

    `names` maps `{Table}` placeholders to the loaded tables (the engine's `_Names`); `files`
    the table names to their file paths for the lineage."""
    for doc in docs:
        src = files.get(doc.table, f"{system}/{doc.table}")
        body = f"FROM {names[doc.table]} t {doc.joins.format_map(names)} WHERE ({doc.where.format_map(names)})"
        oid = f"nullif(trim(CAST({doc.id.format_map(names)} AS VARCHAR)), '')"
        con.execute(f"INSERT INTO {_OBJECTS} SELECT object_id, ty, rec, (SELECT count(*) FROM {_OBJECTS}) "
                    f"FROM (SELECT DISTINCT ON (object_id) * FROM (SELECT {oid} AS object_id, "
                    f"{lit(doc.object_type.value)} AS ty, {lit(src + ':')} || t._row AS rec, t._row AS _r "
                    f"{body}) WHERE object_id IS NOT NULL ORDER BY object_id, _r)")
        for link in doc.links:
            con.execute(f"INSERT INTO {_O2O} SELECT DISTINCT * FROM (SELECT {oid} AS s, "
                        f"nullif(trim(CAST({link.id.format_map(names)} AS VARCHAR)), '') AS d, "
                        f"{lit(link.qualifier.value)} "
                        f"{body}) WHERE s IS NOT NULL AND d IS NOT NULL")
        for name, sql, kind in doc.attributes:
            con.execute(f"INSERT INTO {_ATTRS} SELECT DISTINCT ON (object_id) * FROM (SELECT {oid} AS object_id, "
                        f"{lit(name)}, CAST({sql.format_map(names)} AS VARCHAR) AS v, NULL::TIMESTAMP {body}) "
                        "WHERE object_id IS NOT NULL AND v IS NOT NULL")
            _declare(con, doc.object_type, name, kind)
    for h in history:
        con.execute(f"INSERT INTO {_ATTRS} {h.sql(names)}")
        _declare(con, h.object_type, h.attribute, h.value_type)


def _declare(con: duckdb.DuckDBPyConnection, kind: ObjectType, name: str, value: ValueType) -> None:
    """Declare an attribute's value type once per object type."""
    con.execute(f"INSERT INTO {_TYPES} SELECT {lit(kind.value)}, {lit(name)}, {lit(value.value)} "
                f"WHERE NOT EXISTS (SELECT 1 FROM {_TYPES} WHERE object_type = {lit(kind.value)} "
                f"AND attribute = {lit(name)})")


def take_objects(con: duckdb.DuckDBPyConnection) -> None:
    """Move the events' object lists out of `x_events` into `_x_e2o_raw` (one row per event
    and object), right after the events are gathered: the stage timeline and the final event
    query rewrite and sort `x_events`, and need not carry the lists along."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _x_e2o_raw AS SELECT DISTINCT x.SalesOpportunityId, x.ActivityName, "
        "x.EventTime, x.source_record, u.r.ty AS ty, u.r.id AS id, u.r.q AS q FROM x_events x, "
        "LATERAL (SELECT unnest(x._objs) AS r) u WHERE x._objs IS NOT NULL AND u.r.id IS NOT NULL")
    con.execute("ALTER TABLE x_events DROP COLUMN _objs")


def prepare(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Resolve what the events and documents name, before the load; returns the run's notes:
    links to objects the load does not hold (e.g. an order of an opportunity the extraction
    does not have) are left out and counted here, never silently."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _x_known AS SELECT object_id FROM {_OBJECTS} "
                "UNION SELECT id FROM _x_e2o_raw UNION SELECT SalesOpportunityId FROM x_events")
    row = con.execute(f"SELECT count(*) FROM {_O2O} WHERE target_id NOT IN (SELECT * FROM _x_known) "
                      "OR source_id NOT IN (SELECT * FROM _x_known)").fetchall()
    n = int(row[0][0]) if row else 0
    return {"objects:links_left_out": str(n)} if n else {}


def object_log() -> ObjectLog:
    """The ObjectLog for the events being loaded (its SELECTs run inside the load's
    transaction, after `events` is filled; `prepare` ran before).

    Objects are the documents read plus any an event names without its document having been
    read (typed by the event rule); E2O joins each loaded event to its rule row's objects on
    (case, activity, time, lineage)."""
    cases = "SELECT SalesOpportunityId FROM events"
    # an object two documents declare (an account, and the opportunity naming it): the first
    # declared, at its first row
    objects = (f"SELECT object_id, object_type, source_record FROM (SELECT DISTINCT ON (object_id) * "
               f"FROM {_OBJECTS} WHERE object_id NOT IN ({cases}) ORDER BY object_id, _n) UNION ALL "
               f"SELECT id, min(ty), NULL FROM _x_e2o_raw WHERE id NOT IN (SELECT object_id FROM {_OBJECTS}) "
               f"AND id NOT IN ({cases}) GROUP BY id")
    e2o = ("SELECT DISTINCT e.event_id, r.id, r.q FROM events e JOIN _x_e2o_raw r "
           "USING (SalesOpportunityId, ActivityName, EventTime, source_record)")
    known = "SELECT * FROM _x_known"
    o2o = f"SELECT DISTINCT * FROM {_O2O} WHERE target_id IN ({known}) AND source_id IN ({known})"
    attrs = f"SELECT DISTINCT * FROM {_ATTRS} WHERE object_id IN ({known})"
    return ObjectLog(objects=objects, e2o=e2o, attributes=attrs,
                     attribute_types=f"SELECT DISTINCT ON (object_type, attribute) * FROM {_TYPES}", o2o=o2o)
