"""SAP's document flow (`VBFA`) as an object-centric log: documents as objects, flows as relations.

`lead2cash import VBFA.csv.gz --format sap-vbfa [--case-type SalesOrder]` reads one VBFA
table (CSV or Parquet, SAP field names) into the staging tables `object_import` loads.
The SAP connector (`sources/sap.py`) flattens the same flow onto one case per chain, so
a delivery shared by several orders counts for one order only; here every document
keeps its own identity:

- objects: quotations (VBTYP B) → Quote, orders (C) → SalesOrder, contracts (G) →
  Contract, deliveries (J) → Delivery, invoices (M) → Invoice, each with its category
  and, for invoices, whether an `N` cancellation follows;
- events (the model activities VBFA alone gives, as the connector reads them): Quote
  Issued (flow into B), Quote Accepted (B → C, per pair), Sales Order Created (flow into
  C), Order Fulfilled (a goods movement R after a delivery J), Invoice Generated (flow
  into M, unless cancelled), each at the earliest `ERDAT` + `ERZET` of its rows (read in
  --timezone);
- E2O: the event's own document ("creates", a goods movement is no object here) and each
  preceding document of an object type (quote "accepts" / "orders", delivery and order
  "fulfils", order, delivery and contract "bills");
- O2O: every flow between two documents of object types (order of quote, delivery of
  order, invoice of order / delivery / contract, ...).

Category codes come from `sources.defaults` (the SAP connector's defaults).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..errors import InputError, Location
from ..model import SOURCE_SYSTEMS
from ..object_model import O2O, ObjectType, Qualifier
from ..progress import NO_PROGRESS, Progress
from ..sources.defaults import DEFAULTS
from .convert import sql_literal
from .importer import ImportOptions
from .staging import STAGE, detect_format, drop_stage, stage_file

__all__ = ["OBJECT_CATEGORIES", "stage_vbfa"]

_SAP = DEFAULTS["sap-s4hana"].status
OBJECT_CATEGORIES: dict[str, ObjectType] = {
    **dict.fromkeys(_SAP["quotation"], ObjectType.QUOTE),
    **dict.fromkeys(_SAP["order"], ObjectType.SALES_ORDER),
    **dict.fromkeys(_SAP["contract"], ObjectType.CONTRACT),
    **dict.fromkeys(_SAP["delivery"], ObjectType.DELIVERY),
    **dict.fromkeys(_SAP["invoice"], ObjectType.INVOICE),
}
"""VBTYP → object type of the documents kept as objects."""

_REQUIRED = ("VBELV", "VBELN", "VBTYP_V", "VBTYP_N", "ERDAT", "ERZET")


def _in(codes: tuple[str, ...]) -> str:
    """A SQL list of category codes."""
    return "(" + ", ".join(sql_literal(c) for c in codes) + ")"


def stage_vbfa(con: duckdb.DuckDBPyConnection, path: Path, opts: ImportOptions,
               progress: Progress = NO_PROGRESS
               ) -> tuple[list[tuple[str, str | None, str | None, str]], int]:
    """Read a VBFA table into the object-centric staging tables; returns the rows set aside
    and how many data rows the file has (those the reader refused included)."""
    con.execute("SET enable_progress_bar = false")  # progress goes through `progress`
    inner = "parquet" if detect_format(path) == "parquet" else "csv"
    progress(f"reading {path.name}", 0, 2)
    stage = stage_file(con, path, inner, delimiter=opts.delimiter, encoding=opts.encoding,
                       skip_bad_rows=opts.skip_bad_rows, tmp_dir=Path(str(con.execute(
                           "SELECT current_setting('temp_directory')").fetchall()[0][0])),
                       progress=progress)
    try:
        missing = [c for c in _REQUIRED if c not in stage.columns]
        if missing:
            raise InputError(Location(str(path)), f"not a VBFA table: no column {', '.join(missing)}",
                             f"export VBFA with at least {', '.join(_REQUIRED)} (SAP field names)")
        rejected = list(stage.rejected)
        staged = con.execute(f"SELECT count(*) FROM {STAGE}").fetchall()[0][0]
        rows_read = int(staged) + len({r[0] for r in stage.rejected})
        _flows(con, path, stage.locator, opts, rejected)
        progress(f"reading {path.name}", 1, 2)
        _objects(con, path)
        _events(con)
        progress(f"reading {path.name}", 2, 2)
        return rejected, rows_read
    finally:
        drop_stage(con)
        for table in ("_vb", "_vb_docs", "_vb_rows"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _flows(con: duckdb.DuckDBPyConnection, path: Path, locator: str, opts: ImportOptions,
           rejected: list[tuple[str, str | None, str | None, str]]) -> None:
    """The flow rows, trimmed, with their time; rows that make an event need a readable time."""
    # ERDAT YYYYMMDD + ERZET hhmmss, in the server's time zone
    t = f"timezone('UTC', timezone({sql_literal(opts.timezone)}, try_strptime(_t, '%Y%m%d%H%M%S')))"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _vb AS
        SELECT *, {t} AS ts FROM (
          SELECT rowid AS _row, {locator} AS loc, trim(CAST(VBELV AS VARCHAR)) AS pre,
                 trim(CAST(VBTYP_V AS VARCHAR)) AS pre_cat, trim(CAST(VBELN AS VARCHAR)) AS doc,
                 trim(CAST(VBTYP_N AS VARCHAR)) AS cat, CAST(ERDAT AS VARCHAR) AS erdat,
                 trim(CAST(ERDAT AS VARCHAR)) || lpad(trim(CAST(ERZET AS VARCHAR)), 6, '0') AS _t
          FROM {STAGE})""")
    events = _in((*_SAP["quotation"], *_SAP["order"], *_SAP["invoice"], *_SAP["goods_movement"]))
    bad = f"cat IN {events} AND doc <> '' AND ts IS NULL"
    rows = con.execute(f"SELECT loc, erdat FROM _vb WHERE {bad} ORDER BY _row").fetchall()
    if rows and not opts.skip_bad_rows:
        raise InputError(Location(str(path), rows[0][0], "ERDAT"),
                         "cannot read the document's creation date and time (ERDAT + ERZET)",
                         "ERDAT is YYYYMMDD and ERZET hhmmss; or pass --skip-bad-rows to set "
                         "such rows aside", value=rows[0][1], more=len(rows) - 1)
    rejected.extend((loc, "ERDAT", v, "unreadable ERDAT + ERZET") for loc, v in rows)
    con.execute(f"DELETE FROM _vb WHERE {bad}")


def _objects(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Every document of an object category, its attributes, and the flows between them (O2O)."""
    types = ", ".join(f"({sql_literal(c)}, {sql_literal(t)})" for c, t in OBJECT_CATEGORIES.items())
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _vb_docs AS
        WITH cats(cat, type) AS (VALUES {types}),
        d AS (SELECT pre AS doc, pre_cat AS cat, _row, loc FROM _vb
              UNION ALL SELECT doc, cat, _row, loc FROM _vb)
        SELECT doc, cat, type, min(_row) AS pos, arg_min(loc, _row) AS loc
        FROM d JOIN cats USING (cat) WHERE doc <> '' GROUP BY doc, cat, type""")
    clash = con.execute("SELECT d.doc, d.loc FROM _vb_docs d QUALIFY count(*) OVER (PARTITION BY doc) "
                        "> 1 ORDER BY pos LIMIT 1").fetchall()
    if clash:
        raise InputError(Location(str(path), clash[0][1], "VBELN"),
                         "one document number stands for documents of two object categories",
                         "extract one client's document flow (document numbers are unique per "
                         "client)", value=clash[0][0])
    cancelled = f"SELECT pre FROM _vb WHERE cat IN {_in(_SAP['invoice_cancellation'])}"
    con.execute("CREATE OR REPLACE TEMP TABLE _oc_objects AS SELECT doc AS id, type, pos, loc "
                "FROM _vb_docs")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _oc_object_attrs AS
        SELECT doc AS object_id, 'category' AS name, cat AS value, NULL AS time, loc FROM _vb_docs
        UNION ALL
        SELECT doc, 'cancelled', CASE WHEN doc IN ({cancelled}) THEN 'true' ELSE 'false' END,
               NULL, loc FROM _vb_docs WHERE type = '{ObjectType.INVOICE}'""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _oc_types AS
        SELECT DISTINCT 'object' AS kind, type AS type_name, 'category' AS attribute,
               'string' AS value_type FROM _vb_docs
        UNION ALL SELECT 'object', '{ObjectType.INVOICE}', 'cancelled', 'boolean'""")
    pairs = ", ".join(f"({sql_literal(s)}, {sql_literal(t)}, {sql_literal(q)})" for (s, t), q in O2O.items())
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _oc_o2o AS
        WITH q(s, t, qualifier) AS (VALUES {pairs})
        SELECT f.doc AS source_id, f.pre AS target_id,
               coalesce(q.qualifier, '{Qualifier.FOLLOWS}') AS qualifier, min(f.loc) AS loc
        FROM _vb f JOIN _vb_docs a ON a.doc = f.doc AND a.cat = f.cat
        JOIN _vb_docs b ON b.doc = f.pre AND b.cat = f.pre_cat
        LEFT JOIN q ON q.s = a.type AND q.t = b.type
        WHERE f.doc <> f.pre GROUP BY ALL""")


def _events(con: duckdb.DuckDBPyConnection) -> None:
    """The model activities VBFA gives, one per document (or quote-order pair), with E2O."""
    s = _SAP
    cancelled = f"SELECT pre FROM _vb WHERE cat IN {_in(s['invoice_cancellation'])}"
    goods_issue = (f"SELECT doc FROM _vb WHERE cat IN {_in(s['goods_movement'])} "
                   f"AND pre_cat IN {_in(s['delivery'])}")
    # (activity, id prefix, the rows that make it, its key, qualifier of the own document,
    #  qualifier of the preceding documents)
    rules = (
        ("Quote Issued", "QI", f"cat IN {_in(s['quotation'])}", "doc",
         Qualifier.CREATES, Qualifier.QUOTES),
        ("Sales Order Created", "SO", f"cat IN {_in(s['order'])}", "doc",
         Qualifier.CREATES, Qualifier.ORDERS),
        ("Order Fulfilled", "OF", f"cat IN {_in(s['goods_movement'])} AND doc IN ({goods_issue})",
         "doc", Qualifier.CREATES, Qualifier.FULFILS),
        ("Invoice Generated", "IG", f"cat IN {_in(s['invoice'])} AND doc NOT IN ({cancelled})",
         "doc", Qualifier.CREATES, Qualifier.BILLS),
        ("Quote Accepted", "QA", f"cat IN {_in(s['order'])} AND pre_cat IN {_in(s['quotation'])}",
         "pre || '>' || doc", Qualifier.ORDERS, Qualifier.ACCEPTS),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _vb_rows AS " + " UNION ALL ".join(
        f"SELECT {sql_literal(prefix)} || '-' || {key} AS event_id, {sql_literal(activity)} AS "
        f"activity, '{own}' AS own_q, '{before}' AS pre_q, * FROM _vb WHERE doc <> '' AND {where}"
        for activity, prefix, where, key, own, before in rules))
    con.execute("""CREATE OR REPLACE TEMP TABLE _oc_events AS
        SELECT event_id AS id, activity AS type, strftime(min(ts), '%Y-%m-%dT%H:%M:%S') || 'Z' AS time,
               row_number() OVER (ORDER BY min(ts), min(_row), event_id) - 1 AS pos,
               arg_min(loc, (ts, _row)) AS loc, arg_min(doc, (ts, _row)) AS document
        FROM _vb_rows GROUP BY event_id, activity""")
    system = sql_literal(SOURCE_SYSTEMS["sap-s4hana"])
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _oc_event_attrs AS
        SELECT id AS event_id, 'SourceSystem' AS name, {system} AS value, loc FROM _oc_events
        UNION ALL SELECT id, 'document', document, loc FROM _oc_events""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _oc_e2o AS
        SELECT r.event_id, r.object_id, min(r.qualifier) AS qualifier, min(r.loc) AS loc FROM (
          SELECT event_id, doc AS object_id, cat, own_q AS qualifier, loc FROM _vb_rows
          UNION ALL SELECT event_id, pre, pre_cat, pre_q, loc FROM _vb_rows WHERE pre_cat <> cat) r
        JOIN _vb_docs d ON d.doc = r.object_id AND d.cat = r.cat  -- a document of an object category
        GROUP BY r.event_id, r.object_id""")
    con.execute("DROP TABLE IF EXISTS _vb_rows")
