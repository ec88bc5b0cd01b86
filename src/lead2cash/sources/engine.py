"""The extraction engine: system mappings (data) in, one Lead-to-Cash event log out, in DuckDB SQL.

A system is described by a `Mapping`: the files it reads, explicit event rules
(one SQL row source each), an optional stage history with its stage
classification (`stages.py`), and a case-attribute query. The engine reads every folder,
derives the inferred stage events, gives every event the stage of its time, merges systems
on the case id, computes OpportunityOutcome and SalesCycleDuration, records what could not
be derived and why (`absence.py`), and replaces the workspace's log in one transaction, so a
failed extract leaves the workspace unchanged. Events at equal times keep the order of their
record ids, never the file order.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from collections.abc import Mapping as MappingT
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb

from ..errors import InputError, Location
from ..model import ACTIVITIES, ATTRIBUTE_NAMES, CASE_ATTRIBUTES, HAPPY_PATH, SOURCE_SYSTEMS
from ..progress import NO_PROGRESS, Progress
from ..store import Workspace, quote
from . import accounting
from . import objects as docs
from .absence import Plan, absent_reasons, region_gaps, stage_name_report
from .exported import reset_left_out
from .objects import AttributeHistory, Document, ObjectRef
from .sql import id_order, lit, lits
from .stages import (
    StageHistory,
    StageTables,
    carried_stages,
    closed_without_close,
    history_rows,
    load_history,
    stage_classes,
    stage_events_sql,
    stage_timeline,
)
from .tables import SourceTable, SystemFolder, parsed

__all__ = [
    "EventRule",
    "Mapping",
    "StageHistory",
    "carried_stages",
    "history_rows",
    "lit",
    "lits",
    "run_extract",
    "stage_classes",
]

COMPUTED = ("OpportunityOutcome", "SalesCycleDuration")


@dataclass(frozen=True, slots=True)
class EventRule:
    """One explicit activity read from a source table: where its case, time and id come from.

    `case`, `joins` and `where` are SQL over alias `t`; `{Table}` in them names another source
    table.
    `once_per` keeps only the first event per (case, value), e.g. one event per document.
    """

    activity: str
    table: str
    time: str
    case: str
    id: str
    joins: str = ""
    where: str = "TRUE"
    once_per: str | None = None
    fallback_time: str | None = None  # time column used where `time` is empty
    needs: tuple[str, ...] = ()  # source tables behind the helper tables it joins
    objects: tuple[ObjectRef, ...] = ()  # the documents each event touches (E2O)


@dataclass(frozen=True, slots=True)
class Mapping:
    """Everything the engine needs to know about one source system."""

    system: str
    tables: tuple[SourceTable, ...]
    events: tuple[EventRule, ...]
    cases: str  # SELECT SalesOpportunityId, <case attributes the system holds> FROM ...
    stages: StageHistory | None = None
    timezone: str = "UTC"
    prepare: MappingT[str, str] = field(default_factory=dict)  # helper tables: name -> SELECT
    case_table: tuple[str, str] | None = None  # (table, key column) of the opportunity object
    extra_fields: tuple[str, ...] = ()  # its custom / fiscal fields carried into the log
    attribute_fields: tuple[tuple[str, str], ...] = ()  # (case attribute, opportunity field)
    crm_link: tuple[str, str, str] | None = None
    """(table, column, setting) holding the CRM opportunity id when a CRM is extracted first
    (SAP: VBAK.BSTNK, `opportunity_field`): it must be filled somewhere, or no case links."""
    documents: tuple[Document, ...] = ()  # the objects it reads besides the opportunities
    object_history: tuple[AttributeHistory, ...] = ()  # attributes' values over time


def _refs(sql: str) -> list[str]:
    """The `{Table}` placeholders used in a SQL template."""
    return [f for _, f, _, _ in string.Formatter().parse(sql) if f]


class _Names(dict[str, str]):
    """Placeholder values: `{Table}` is its temporary table, `{@Table}` its file name."""

    def __init__(self, folder: SystemFolder) -> None:
        super().__init__()
        self.folder = folder

    def __missing__(self, key: str) -> str:
        if key.startswith("@"):  # {@Table}: the file's display path, as a SQL literal
            return lit(self.folder.files.get(key[1:], f"{self.folder.system}/{key[1:]}"))
        return self.folder.sql_name(key)


def rule_time(rule: EventRule) -> str:
    """SQL for a rule's event time: its time column, else its fallback time column."""
    when = f"t.{quote(parsed(rule.time))}"
    if rule.fallback_time:
        when = f"coalesce({when}, t.{quote(parsed(rule.fallback_time))})"
    return when


def _rule_sql(rule: EventRule, folder: SystemFolder, system: str, names: _Names) -> str:
    """The SELECT yielding one rule's events in the engine's intermediate shape."""
    src = folder.files.get(rule.table, f"{folder.system}/{rule.table}")
    record = f"{lit(src + ':' + rule.id + '=')} || t.{quote(rule.id)}"
    when = rule_time(rule)
    sql = (
        f"SELECT CAST({rule.case} AS VARCHAR) AS SalesOpportunityId, "
        f"{lit(rule.activity)} AS ActivityName, "
        f"{when} AS EventTime, {lit(system)} AS SourceSystem, "
        f"{record} AS source_record, {id_order('t.' + quote(rule.id))} AS _seq, "
        f"{docs.objects_of_rule(rule.objects, names)}"
        + (f", CAST({rule.once_per} AS VARCHAR) AS _once" if rule.once_per else "")
        + f" FROM {names[rule.table]} t {rule.joins.format_map(names)} "
        f"WHERE ({rule.where.format_map(names)}) AND {when} IS NOT NULL"
    )
    if rule.once_per:
        sql = (
            f"SELECT * EXCLUDE (_once) FROM ({sql}) WHERE SalesOpportunityId IS NOT NULL "
            f"QUALIFY row_number() OVER (PARTITION BY SalesOpportunityId, _once "
            f"ORDER BY EventTime, _seq) = 1"
        )
    return f"SELECT * FROM ({sql}) WHERE SalesOpportunityId IS NOT NULL"


def _sources_of(mapping: Mapping) -> list[tuple[str, list[str]]]:
    """(activity, source tables it needs: its own, those it joins and those it declares in
    `needs`) for every explicit rule of a mapping (tables only named in `where` merely filter;
    helper tables stand for nothing: a rule names the sources behind them in `needs`; the stage
    history's activities are explained from the loaded history, see `absence.py`)."""
    return [
        (
            r.activity,
            list(
                dict.fromkeys(
                    t for t in (r.table, *_refs(r.joins), *r.needs) if t not in mapping.prepare
                )
            ),
        )
        for r in mapping.events
    ]


def run_extract(
    ws: Workspace,
    sources: MappingT[str, Path],
    build: Callable[[str], Mapping],
    extracted_at: datetime | None = None,
    progress: Progress = NO_PROGRESS,
    keep: Callable[[list[SystemFolder]], None] | None = None,
) -> dict[str, str]:
    """Read each system folder, derive one event log, replace the workspace log atomically.

    `keep` (incremental extracts): the folders keep their records as read, and `keep` stores
    them in the same transaction as the log."""
    con = ws.con
    con.execute("SET enable_progress_bar = false")  # progress goes through `progress`, not stdout
    events: list[str] = []
    cases: list[str] = []
    stamps: list[str] = []
    plans: list[Plan] = []
    loaded: list[StageTables] = []
    missing: dict[str, list[str]] = {}
    meta: dict[str, str] = {}
    read: list[tuple[SystemFolder, Mapping, _Names]] = []  # for the rows accounting
    extras: list[str] = []
    reset_left_out(con)
    docs.reset(con)
    for prio, (key, folder_path) in enumerate(sources.items()):
        mapping = build(key)
        system = SOURCE_SYSTEMS[key]
        folder = SystemFolder(con, key, Path(folder_path), mapping.timezone, keep_raw=bool(keep))
        merged = _merged_from(Path(folder_path)) if keep is not None else {}
        folder.shown_names = dict(merged.get("files", {}))
        tables = _with_extra_fields(mapping)
        for i, spec in enumerate(tables):
            progress(f"read {key}", i, len(tables))
            folder.load(spec)
        progress(f"read {key}", len(tables), len(tables))
        _require_cases(folder, mapping)
        if prio > 0:  # behind a CRM: its documents must name the CRM's opportunities
            _require_crm_link(con, folder, mapping)
        names = _Names(folder)
        for helper, sql in mapping.prepare.items():
            con.execute(f"CREATE OR REPLACE TEMP TABLE {names[helper]} AS {sql.format_map(names)}")
        events += [_rule_sql(r, folder, system, names) for r in mapping.events]
        if mapping.stages:
            loaded.append(load_history(folder, mapping.stages, names))
            events.append(stage_events_sql(loaded[-1], system))
        plans += [(a, key, t, folder.missing) for a, t in _sources_of(mapping)]
        missing[key] = folder.missing
        read.append((folder, mapping, names))
        lineage = ({t: f"{f} (merged records)" for t, f in folder.files.items()} if merged
                   else folder.files)  # a merged record's row is its place in the merged set
        docs.collect(con, mapping.documents, mapping.object_history, lineage, key, names)
        # a system's configured attribute fields (2 * prio) win over its own sources (+ 1)
        cases.append(
            f"SELECT {2 * prio + 1} AS _prio, {lit(key)} AS _country_from, * "
            f"FROM ({mapping.cases.format_map(names)})"
        )
        if mapping.case_table and mapping.extra_fields:
            table, key_column = mapping.case_table
            fields = ", ".join(quote(f) for f in mapping.extra_fields)
            cases.append(
                f"SELECT {2 * prio + 1} AS _prio, CAST({quote(key_column)} AS VARCHAR) AS "
                f"SalesOpportunityId, {fields} FROM {names[table]}"
            )
            extras += [f for f in mapping.extra_fields if f not in extras]
        if mapping.case_table and mapping.attribute_fields:
            table, key_column = mapping.case_table
            fields = ", ".join(
                f"nullif(trim({quote(f)}), '') AS {quote(a)}" for a, f in mapping.attribute_fields
            )
            cases.append(
                f"SELECT {2 * prio} AS _prio, CAST({quote(key_column)} AS VARCHAR) AS "
                f"SalesOpportunityId, {fields} FROM {names[table]}"
            )
        stamp = folder.extracted_at(extracted_at)
        stamps.append(
            f"SELECT {lit(system)} AS SourceSystem, TIMESTAMP {lit(stamp.isoformat(sep=' '))} AS ts"
        )
        meta[f"source:{key}"] = str(merged.get("from", folder_path))
        meta.update(folder.notes())  # encodings, rows left out, derived flags, data age
        if folder.missing:
            meta[f"missing:{key}"] = ", ".join(folder.missing)
    progress("derive events", 0, 1)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE x_events AS SELECT NULL::VARCHAR AS SalesStage, * "
        "FROM (SELECT NULL::VARCHAR AS SalesOpportunityId, NULL::VARCHAR AS _seq, "
        "NULL::BOOLEAN AS _history, NULL::STRUCT(ty VARCHAR, id VARCHAR, q VARCHAR)[] AS _objs "
        "WHERE FALSE) UNION ALL BY NAME "
        + " UNION ALL BY NAME ".join(f"SELECT * FROM ({e})" for e in events)
    )
    docs.take_objects(con)
    stage_timeline(con, loaded)
    _build_cases(con, cases, extras)
    con.execute("CREATE OR REPLACE TEMP TABLE x_stamps AS " + " UNION ALL ".join(stamps))
    meta["absent_activities"] = json.dumps(absent_reasons(con, plans, loaded, missing))
    meta["stage_names"] = json.dumps(stage_name_report(con, loaded))
    meta["closed_without_close"] = json.dumps(closed_without_close(con, loaded))
    meta["closed_stages"] = json.dumps(_closed_stages(con, loaded))
    meta["region_gaps"] = json.dumps(region_gaps(con))
    for folder, _, _ in read:  # SAP dates without a time: events placed at midnight
        meta.update(folder.date_only_events("x_events"))
    accounting.start(con, "x_events")
    for folder, mapping, names in read:
        for account in accounting.account_folder(con, folder, mapping, names):
            if ws.active_run is not None:
                ws.active_run.add_file(account)
    meta.update(docs.prepare(con))
    progress("derive events", 1, 1)
    progress("load workspace", 0, 1)
    meta.update(kind="extract", systems=", ".join(sources))
    with ws.transaction():
        ws.replace_log(_final_sql(extras), dict.fromkeys(extras, "VARCHAR"), meta,
                       docs.object_log())
        accounting.write_set_aside(con)
        if keep is not None:
            keep([f for f, _, _ in read])
    n = con.execute("SELECT count(*) FROM events").fetchall()[0]
    progress("load workspace", 1, 1)
    meta["events"] = str(n[0] if n else 0)
    return meta


def _require_cases(folder: SystemFolder, mapping: Mapping) -> None:
    """Refuse a read opportunity table without a record (a header-only export): every event
    would be an orphan, and the log would be replaced by one without a single Opportunity
    Created. An optional table that is absent is another matter (the connector says so)."""
    if not mapping.case_table:
        return
    table = mapping.case_table[0]
    if table in folder.rows and folder.rows[table][1] == 0:
        raise InputError(
            Location(folder.files.get(table, f"{folder.system}/{table}")),
            "the opportunity table holds no records (only a header), so there are no cases; "
            "the log was not replaced",
            f"export the {table} object again (check the export's filter and permissions)")


def _require_crm_link(con: duckdb.DuckDBPyConnection, folder: SystemFolder,
                      mapping: Mapping) -> None:
    """Refuse an ERP extracted behind a CRM whose reference field is absent or empty in every
    row: each of its documents would become a case of its own (orphans), with exit 0."""
    if not mapping.crm_link:
        return
    table, column, setting = mapping.crm_link
    if not folder.rows.get(table, (None, 0))[1]:
        return
    filled = con.execute(
        f"SELECT count(*) FROM {folder.sql_name(table)} WHERE nullif(trim({quote(column)}), '') "
        "IS NOT NULL").fetchone()
    if filled and filled[0]:
        return
    raise InputError(
        Location(folder.files.get(table, f"{folder.system}/{table}"), None, column),
        f"the field that links the documents to the CRM opportunities ({setting} = "
        f"\"{table}.{column}\") is absent or empty in every row, so no document would belong "
        "to an opportunity; the log was not replaced",
        f"set {setting} in the --config file to the field that holds the opportunity id "
        "(see --print-default-config), or export that field too")


def _merged_from(folder: Path) -> dict[str, object]:
    """A merged record folder's origin (`incremental.py`): the delta folder it came from
    ("from") and the export file name per table ("files"); empty for an export folder."""
    info = folder / "_merged.json"
    return dict(json.loads(info.read_text())) if info.is_file() else {}


def _closed_stages(con: duckdb.DuckDBPyConnection, loaded: list[StageTables]) -> list[str]:
    """The closed stage names of every extracted system (for `check` on the log's stages)."""
    if not loaded:
        return []
    union = " UNION ".join(f"SELECT stage FROM {t.classes} WHERE is_closed" for t in loaded)
    return [r[0] for r in con.execute(f"SELECT * FROM ({union}) ORDER BY 1").fetchall()]


def _with_extra_fields(mapping: Mapping) -> tuple[SourceTable, ...]:
    """The mapping's tables, its opportunity table requiring the configured extra and
    attribute fields."""
    wanted = (*mapping.extra_fields, *(f for _, f in mapping.attribute_fields))
    if not (mapping.case_table and wanted):
        return mapping.tables
    return tuple(
        replace(t, columns=tuple(dict.fromkeys((*t.columns, *wanted))))
        if t.name == mapping.case_table[0]
        else t
        for t in mapping.tables
    )


def _build_cases(con: duckdb.DuckDBPyConnection, cases: list[str], extras: list[str]) -> None:
    """One row per case: each attribute from the first system (in --source order) that has it.

    `_country` (the country value a region was looked up from) and `_country_from` (its
    system) come from the first system holding a country value, for the region report."""
    attrs = [a for a in (*CASE_ATTRIBUTES, "SalesStage", *extras) if a not in COMPUTED]
    union = " UNION ALL BY NAME ".join(cases)
    pick = ", ".join(
        f"first({quote(a)} ORDER BY _prio) FILTER (WHERE {quote(a)} IS NOT NULL) AS {quote(a)}"
        for a in (*attrs, "_country")
    )
    typed = ", ".join(
        f"NULL::{'DOUBLE' if a in ('OpportunityAmount', 'DiscountPercentage') else 'VARCHAR'} "
        f"AS {quote(a)}"
        for a in (*attrs, "_country", "_country_from")
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE x_cases AS SELECT SalesOpportunityId, {pick}, "
        "first(_country_from ORDER BY _prio) FILTER (WHERE _country IS NOT NULL) AS _country_from "
        f"FROM (SELECT NULL::INT AS _prio, NULL::VARCHAR AS SalesOpportunityId, {typed} "
        f"WHERE FALSE UNION ALL BY NAME {union}) GROUP BY SalesOpportunityId"
    )


def _final_sql(extras: list[str]) -> str:
    """The events in the store's column order, with computed and stamped attributes."""
    kinds = ", ".join(f"({lit(a.name)}, {lit(a.kind.value)})" for a in ACTIVITIES)
    order = [*HAPPY_PATH, *(a.name for a in ACTIVITIES if a.name not in HAPPY_PATH)]
    rank = ", ".join(f"({lit(a)}, {i})" for i, a in enumerate(order))
    cols = []
    for name in ATTRIBUTE_NAMES:
        if name in ("SalesOpportunityId", "ActivityName", "EventTime", "SourceSystem"):
            cols.append(f"e.{name}")
        elif name == "LastDataUpdate":
            cols.append("s.ts AS LastDataUpdate")
        elif name == "SalesStage":
            cols.append("coalesce(e.SalesStage, c.SalesStage) AS SalesStage")
        elif name in COMPUTED:
            cols.append(f"o.{name}")
        else:
            cols.append(f"c.{quote(name)}")
    return f"""
    WITH kinds(ActivityName, kind) AS (VALUES {kinds}), ranks(ActivityName, r) AS (VALUES {rank}),
    ranked AS (  -- stage events at one instant keep their history order, as one block
      SELECT x.*, k.kind, CASE WHEN x._history THEN min(r.r) OVER (
               PARTITION BY x.SalesOpportunityId, x.EventTime, x._history) ELSE r.r END AS _rank
      FROM x_events x JOIN kinds k USING (ActivityName) JOIN ranks r USING (ActivityName)
    ), e AS (
      SELECT *, row_number() OVER (ORDER BY SalesOpportunityId, EventTime, _rank, _seq,
                                   ActivityName, source_record) AS event_id FROM ranked
    ), outcome AS (
      SELECT SalesOpportunityId,
        CASE last(ActivityName ORDER BY event_id) FILTER (WHERE ActivityName IN
             ('Opportunity Won', 'Opportunity Lost', 'Opportunity Reopened'))
             WHEN 'Opportunity Won' THEN 'Won' WHEN 'Opportunity Lost'
               THEN 'Lost' END AS OpportunityOutcome,
        max(EventTime) FILTER (WHERE ActivityName IN ('Opportunity Won', 'Opportunity Lost'))
          - min(EventTime) FILTER (WHERE ActivityName = 'Opportunity Created') AS cycle
      FROM e GROUP BY SalesOpportunityId
    ), o AS (
      SELECT SalesOpportunityId, OpportunityOutcome,
             CASE WHEN OpportunityOutcome IS NOT NULL THEN cycle END AS SalesCycleDuration
               FROM outcome
    )
    SELECT e.event_id, {", ".join(cols)}, e.kind AS event_type,
             e.source_record{"".join(f", c.{quote(x)}" for x in extras)}
    FROM e JOIN x_stamps s USING (SourceSystem)
    LEFT JOIN x_cases c USING (SalesOpportunityId) LEFT JOIN o USING (SalesOpportunityId)
    """
