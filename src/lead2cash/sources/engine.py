"""The extraction engine: system mappings (data) in, one Lead-to-Cash event log out, in DuckDB SQL.

A system is described by a `Mapping`: the files it reads, explicit event rules
(one SQL row source each), an optional stage history with its stage
classification, and a case-attribute query. The engine reads every folder,
derives the inferred stage events, merges systems on the case id, computes
OpportunityOutcome and SalesCycleDuration, and replaces the workspace's log in one
transaction, so a failed extract leaves the workspace unchanged.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Sequence
from collections.abc import Mapping as MappingT
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb

from ..errors import InputError, Lead2CashError, Location
from ..model import ACTIVITIES, ATTRIBUTE_NAMES, CASE_ATTRIBUTES, HAPPY_PATH, SOURCE_SYSTEMS
from ..progress import NO_PROGRESS, Progress
from ..store import Workspace, quote
from . import accounting
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


def lit(value: object) -> str:
    """A SQL literal for a config value (strings quoted, None as NULL)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def lits(values: Sequence[object]) -> str:
    """A parenthesised SQL list of literals, usable after IN (never empty)."""
    return "(" + ", ".join(lit(v) for v in values) + ")" if values else "(NULL)"


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


@dataclass(frozen=True, slots=True)
class StageHistory:
    """A stage history: one row per recorded stage value, and what each stage means.

    `rows` is a SELECT of SalesOpportunityId, EventTime, _tie (the record id: breaks ties between
    equal times), stage, source_record and, for error messages, _file, _row and _column.
    """

    rows: str
    tables: tuple[str, ...]  # the source tables the rows come from
    classes: str  # SELECT stage, milestone, is_closed, is_won (one row per known stage)
    known_from: str  # what defines the known stages, for the unknown-stage message


def carried_stages(rows: str) -> str:
    """`StageHistory.rows` from status-style rows: `closed_stage` names a close, `open_stage` an
    entered stage, neither (a reopen) means the last open stage entered before it.

    `rows` selects opp, ts, _tie, source_record, _file, _row, _column, open_stage, closed_stage.
    """
    return f"""
    SELECT opp AS SalesOpportunityId, ts AS EventTime, _tie, source_record, _file, _row, _column,
           coalesce(closed_stage, open_stage, last_value(open_stage IGNORE NULLS)
             OVER (PARTITION BY opp ORDER BY ts, _tie ROWS UNBOUNDED PRECEDING)) AS stage
    FROM ({rows})"""


def stage_classes(
    open_stages: MappingT[str, str], closed: MappingT[str, bool], milestones: MappingT[str, str]
) -> str:
    """`StageHistory.classes` from settings: open stage names, closed names (won?), milestones."""
    rows = [(n, milestones.get(n), False, False) for n in open_stages.values()]
    rows += [(n, None, True, won) for n, won in closed.items()]
    values = ", ".join(f"({', '.join(lit(v) for v in r)})" for r in rows)
    return f"SELECT * FROM (VALUES {values}) AS v(stage, milestone, is_closed, is_won)"


def history_rows(table: str, case: str, time: str, stage: str, id: str, where: str = "TRUE") -> str:
    """The `StageHistory.rows` SELECT for a history kept in one source table."""
    return (
        f"SELECT CAST({quote(case)} AS VARCHAR) AS SalesOpportunityId, {quote(parsed(time))} "
        f"AS EventTime, {quote(id)} AS _tie, {quote(stage)} AS stage, {{@{table}}} || ':{id}=' || "
        f"{quote(id)} AS source_record, {{@{table}}} AS _file, _row, '{stage}' AS _column "
        f"FROM {{{table}}} WHERE {where}"
    )


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
        f"{record} AS source_record, t._row AS _seq"
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


def _stage_sql(h: StageHistory, folder: SystemFolder, system: str, names: _Names) -> str:
    """Inferred and stage events from a stage history; rows that keep the stage yield nothing."""
    cls, rows = quote(f"{folder.system}:stage_class"), quote(f"{folder.system}:stage_rows")
    folder.con.execute(f"CREATE OR REPLACE TEMP TABLE {cls} AS {h.classes.format_map(names)}")
    folder.con.execute(f"CREATE OR REPLACE TEMP TABLE {rows} AS {h.rows.format_map(names)}")
    unclear = folder.con.execute(
        f"SELECT stage FROM {cls} WHERE is_closed IS NULL OR is_won IS NULL ORDER BY stage LIMIT 1"
    ).fetchall()
    if unclear:
        raise Lead2CashError(
            f"stage {unclear[0][0]!r}: closed / won flags are not true or false in {h.known_from}",
            "write the flags as true / false",
        )
    unknown = folder.con.execute(
        f"SELECT t._file, t._row, t._column, t.stage, count(*) OVER () FROM {rows} t "
        f"ANTI JOIN {cls} c ON c.stage = t.stage ORDER BY t._file, t._row LIMIT 1"
    ).fetchall()
    if unknown:
        file, row, column, value, n = unknown[0]
        raise InputError(
            Location(file, row, column),
            f"unknown stage name (known stages come from {h.known_from})",
            f"add the stage to {h.known_from}",
            value,
            n - 1,
        )
    return f"""
    WITH h AS (
      SELECT t.SalesOpportunityId, t.EventTime, row_number() OVER w AS _seq, t.stage AS SalesStage,
             t.source_record, c.milestone, c.is_closed, c.is_won,
             lag(t.stage) OVER w AS prev_stage, lag(c.is_closed) OVER w AS prev_closed,
             row_number() OVER (PARTITION BY t.SalesOpportunityId, t.stage
                                ORDER BY t.EventTime, t._tie) = 1 AS first_entry
      FROM {rows} t JOIN {cls} c ON c.stage = t.stage
      WINDOW w AS (PARTITION BY t.SalesOpportunityId ORDER BY t.EventTime, t._tie)
    )
    SELECT SalesOpportunityId,
           CASE WHEN is_closed AND is_won THEN 'Opportunity Won'
                WHEN is_closed THEN 'Opportunity Lost'
                WHEN prev_closed THEN 'Opportunity Reopened'
                WHEN milestone IS NOT NULL AND first_entry THEN milestone
                ELSE 'Opportunity Stage Changed' END AS ActivityName,
           EventTime, {lit(system)} AS SourceSystem, source_record, _seq, SalesStage
    FROM h
    WHERE prev_stage IS DISTINCT FROM SalesStage  -- a row that keeps the stage gives nothing
      AND (prev_stage IS NOT NULL OR milestone IS NOT NULL)  -- a first row: only a milestone
    """


STAGE_ACTIVITIES = (
    "Opportunity Qualified",
    "Requirements Gathered",
    "Solution Proposed",
    "Opportunity Stage Changed",
    "Opportunity Won",
    "Opportunity Lost",
    "Opportunity Reopened",
)


def _sources_of(mapping: Mapping) -> list[tuple[str, list[str]]]:
    """(activity, source tables it needs) for every rule of a mapping."""
    out = [(r.activity, [r.table, *_refs(r.joins + r.where)]) for r in mapping.events]
    if mapping.stages:
        out += [(a, list(mapping.stages.tables)) for a in STAGE_ACTIVITIES]
    return [(a, [t for t in tables if t not in mapping.prepare]) for a, tables in out]


def _absent_reasons(
    con: duckdb.DuckDBPyConnection, plans: list[tuple[str, str, list[str], list[str]]]
) -> dict[str, str]:
    """Why each model activity is absent: no source reads it, files absent, or no row qualifies."""
    present = {r[0] for r in con.execute("SELECT DISTINCT ActivityName FROM x_events").fetchall()}
    lacking: dict[tuple[str, str], list[str]] = {}
    empty: dict[tuple[str, str], list[str]] = {}
    for activity, system, tables, missing in plans:
        gone = [t for t in tables if t in missing]
        into = lacking if gone else empty
        names = into.setdefault((activity, system), [])
        names += [t for t in (gone or tables[:1]) if t not in names]
    reasons: dict[str, list[str]] = {}
    for (activity, system), names in lacking.items():
        reasons.setdefault(activity, []).append(f"{system}: {', '.join(names)} not extracted")
    for (activity, system), names in empty.items():
        reasons.setdefault(activity, []).append(
            f"{system}: no qualifying row in {', '.join(names)}"
        )
    systems = sorted({p[1] for p in plans})
    return {
        a.name: "; ".join(reasons.get(a.name) or [f"not held by {', '.join(systems)}"])
        for a in ACTIVITIES
        if a.name not in present
    }


def run_extract(
    ws: Workspace,
    sources: MappingT[str, Path],
    build: Callable[[str], Mapping],
    extracted_at: datetime | None = None,
    progress: Progress = NO_PROGRESS,
) -> dict[str, str]:
    """Read each system folder, derive one event log, replace the workspace log atomically."""
    con = ws.con
    con.execute("SET enable_progress_bar = false")  # progress goes through `progress`, not stdout
    events, cases, stamps, plans, meta = [], [], [], [], {}
    read: list[tuple[SystemFolder, Mapping, _Names]] = []  # for the rows accounting
    extras: list[str] = []
    for prio, (key, folder_path) in enumerate(sources.items()):
        mapping = build(key)
        system = SOURCE_SYSTEMS[key]
        folder = SystemFolder(con, key, Path(folder_path), mapping.timezone)
        tables = _with_extra_fields(mapping)
        for i, spec in enumerate(tables):
            progress(f"read {key}", i, len(tables))
            folder.load(spec)
        progress(f"read {key}", len(tables), len(tables))
        names = _Names(folder)
        for helper, sql in mapping.prepare.items():
            con.execute(f"CREATE OR REPLACE TEMP TABLE {names[helper]} AS {sql.format_map(names)}")
        events += [_rule_sql(r, folder, system, names) for r in mapping.events]
        if mapping.stages:
            events.append(_stage_sql(mapping.stages, folder, system, names))
        plans += [(a, key, t, folder.missing) for a, t in _sources_of(mapping)]
        read.append((folder, mapping, names))
        # a system's configured attribute fields (2 * prio) win over its own sources (+ 1)
        cases.append(f"SELECT {2 * prio + 1} AS _prio, * FROM ({mapping.cases.format_map(names)})")
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
        meta[f"source:{key}"] = str(folder_path)
        if folder.missing:
            meta[f"missing:{key}"] = ", ".join(folder.missing)
    progress("derive events", 0, 1)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE x_events AS SELECT NULL::VARCHAR AS SalesStage, * "
        "FROM (SELECT NULL::VARCHAR AS SalesOpportunityId WHERE FALSE) UNION ALL BY NAME "
        + " UNION ALL BY NAME ".join(f"SELECT * FROM ({e})" for e in events)
    )
    _build_cases(con, cases, extras)
    con.execute("CREATE OR REPLACE TEMP TABLE x_stamps AS " + " UNION ALL ".join(stamps))
    meta["absent_activities"] = json.dumps(_absent_reasons(con, plans))
    accounting.start(con, "x_events")
    for folder, mapping, names in read:
        for account in accounting.account_folder(con, folder, mapping, names):
            if ws.active_run is not None:
                ws.active_run.add_file(account)
    progress("derive events", 1, 1)
    progress("load workspace", 0, 1)
    meta.update(kind="extract", systems=", ".join(sources))
    with ws.transaction():
        ws.replace_log(_final_sql(extras), dict.fromkeys(extras, "VARCHAR"), meta)
        accounting.write_set_aside(con)
    n = con.execute("SELECT count(*) FROM events").fetchall()[0]
    progress("load workspace", 1, 1)
    meta["events"] = str(n[0] if n else 0)
    return meta


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
    """One row per case: each attribute from the first system (in --source order) that has it."""
    attrs = [a for a in (*CASE_ATTRIBUTES, "SalesStage", *extras) if a not in COMPUTED]
    union = " UNION ALL BY NAME ".join(cases)
    pick = ", ".join(
        f"first({quote(a)} ORDER BY _prio) FILTER (WHERE {quote(a)} IS NOT NULL) AS {quote(a)}"
        for a in attrs
    )
    typed = ", ".join(
        f"NULL::{'DOUBLE' if a in ('OpportunityAmount', 'DiscountPercentage') else 'VARCHAR'} "
        f"AS {quote(a)}"
        for a in attrs
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE x_cases AS SELECT SalesOpportunityId, {pick} FROM "
        f"(SELECT NULL::INT AS _prio, NULL::VARCHAR AS SalesOpportunityId, {typed} WHERE FALSE "
        f"UNION ALL BY NAME {union}) GROUP BY SalesOpportunityId"
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
    WITH outcome AS (
      SELECT SalesOpportunityId,
        CASE last(ActivityName ORDER BY EventTime, _seq) FILTER (WHERE ActivityName IN
             ('Opportunity Won', 'Opportunity Lost', 'Opportunity Reopened'))
             WHEN 'Opportunity Won' THEN 'Won' WHEN 'Opportunity Lost'
               THEN 'Lost' END AS OpportunityOutcome,
        max(EventTime) FILTER (WHERE ActivityName IN ('Opportunity Won', 'Opportunity Lost'))
          - min(EventTime) FILTER (WHERE ActivityName = 'Opportunity Created') AS cycle
      FROM x_events GROUP BY SalesOpportunityId
    ), o AS (
      SELECT SalesOpportunityId, OpportunityOutcome,
             CASE WHEN OpportunityOutcome IS NOT NULL THEN cycle END AS SalesCycleDuration
               FROM outcome
    ), kinds(ActivityName, kind) AS (VALUES {kinds}), ranks(ActivityName, r) AS (VALUES {rank})
    SELECT row_number() OVER (ORDER BY e.SalesOpportunityId, e.EventTime, r.r, e._seq) AS event_id,
           {", ".join(cols)}, k.kind AS event_type,
             e.source_record{"".join(f", c.{quote(x)}" for x in extras)}
    FROM x_events e JOIN kinds k USING (ActivityName) JOIN ranks r USING (ActivityName)
    JOIN x_stamps s USING (SourceSystem)
    LEFT JOIN x_cases c USING (SalesOpportunityId) LEFT JOIN o USING (SalesOpportunityId)
    """
