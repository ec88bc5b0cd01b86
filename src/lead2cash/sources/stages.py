"""Stage histories: what a CRM's stage rows mean, the events they give, the stage at any time.

A system's `StageHistory` is SQL over its source tables: one row per recorded stage value
(`rows`), what each stage means (`classes`: milestone, closed, won) and, for opportunities
without any history row, the stage the opportunity record itself holds (`current`).
`load_history` validates them into two temporary tables; `stage_events_sql` derives the stage
events; `stage_timeline` gives every other event the stage the opportunity was in at its time.
Rows are ordered by time, then record id (`sql.id_order`), never by file order.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingT
from dataclasses import dataclass, field

import duckdb

from ..errors import InputError, Lead2CashError, Location
from ..model import ACTIVITIES, EventKind
from ..store import quote
from .sql import id_order, lit
from .tables import SystemFolder, parsed

__all__ = [
    "MILESTONES",
    "STAGE_ACTIVITIES",
    "StageHistory",
    "StageTables",
    "carried_stages",
    "closed_without_close",
    "history_rows",
    "load_history",
    "stage_classes",
    "stage_events_sql",
    "stage_timeline",
]

# the activities a stage history gives (milestones are the inferred ones a stage entry marks)
MILESTONES = tuple(
    a.name for a in ACTIVITIES if a.kind is EventKind.INFERRED and a.name != "Opportunity Reopened"
)
STAGE_ACTIVITIES = (
    *MILESTONES,
    "Opportunity Stage Changed",
    "Opportunity Won",
    "Opportunity Lost",
    "Opportunity Reopened",
)


@dataclass(frozen=True, slots=True)
class StageHistory:
    """A stage history: one row per recorded stage value, and what each stage means.

    `rows` is a SELECT of SalesOpportunityId, EventTime, _tie (the record id: breaks ties between
    equal times), stage, source_record and, for error messages, _file, _row and _column.
    `current` (same columns, EventTime = when the record says it closed) gives an opportunity
    that has no history row at all its close from the record itself: a closed current stage
    becomes one history row (Won / Lost at that time); an open one gives nothing.
    `milestones` is the configured stage -> milestone table, for the absence report.
    """

    rows: str
    tables: tuple[str, ...]  # the source tables the rows come from
    classes: str  # SELECT stage, milestone, is_closed, is_won (one row per known stage)
    known_from: str  # what defines the known stages, for the unknown-stage message
    current: str | None = None
    milestones: MappingT[str, str] = field(default_factory=dict)


def carried_stages(rows: str) -> str:
    """`StageHistory.rows` from status-style rows: `closed_stage` names a close, `open_stage` an
    entered stage, neither (a reopen) means the last open stage entered before it.

    `rows` selects opp, ts, _tie, source_record, _file, _row, _column, open_stage, closed_stage.
    """
    return f"""
    SELECT opp AS SalesOpportunityId, ts AS EventTime, _tie, source_record, _file, _row, _column,
           coalesce(closed_stage, open_stage, last_value(open_stage IGNORE NULLS)
             OVER (PARTITION BY opp ORDER BY ts, {id_order("_tie")} ROWS UNBOUNDED PRECEDING))
             AS stage
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
class StageTables:
    """The validated temporary tables of one system's stage history."""

    system: str  # the system key
    history: StageHistory
    classes: str  # quoted table name: stage, milestone, is_closed, is_won
    rows: str  # quoted table name: the history rows (+ `_key`, the record-id order)


def load_history(folder: SystemFolder, h: StageHistory, names: MappingT[str, str]) -> StageTables:
    """Create the classes and rows tables of a history, check every stage is known, and add the
    close of each opportunity that has no history row but a closed current stage."""
    con = folder.con
    cls, rows = quote(f"{folder.system}:stage_class"), quote(f"{folder.system}:stage_rows")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {cls} AS {h.classes.format_map(names)}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {rows} AS SELECT *, {id_order('_tie')} AS _key "
        f"FROM ({h.rows.format_map(names)})"
    )
    unclear = con.execute(
        f"SELECT stage FROM {cls} WHERE is_closed IS NULL OR is_won IS NULL ORDER BY stage LIMIT 1"
    ).fetchall()
    if unclear:
        raise Lead2CashError(
            f"stage {unclear[0][0]!r}: closed / won flags are not true or false in {h.known_from}",
            "write the flags as true / false",
        )
    unknown = con.execute(
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
    if h.current:
        con.execute(
            f"INSERT INTO {rows} BY NAME SELECT cur.*, {id_order('cur._tie')} AS _key "
            f"FROM ({h.current.format_map(names)}) cur "
            f"SEMI JOIN {cls} c ON c.stage = cur.stage AND c.is_closed "
            f"WHERE cur.EventTime IS NOT NULL AND cur.SalesOpportunityId NOT IN "
            f"(SELECT SalesOpportunityId FROM {rows} WHERE SalesOpportunityId IS NOT NULL)"
        )
    return StageTables(folder.system, h, cls, rows)


def stage_events_sql(t: StageTables, system: str) -> str:
    """Stage events from a loaded history, in the engine's intermediate shape.

    A row that keeps the stage gives nothing. A case's first row gives an event only when its
    stage is a milestone or closed: a deal entered already closed gets its Won / Lost (and so
    its outcome) at that row's time, beside its Opportunity Created. `_seq` is the row's place
    in the history (time, then record id), `_history` marks the event as one of these.
    """
    return f"""
    WITH h AS (
      SELECT t.SalesOpportunityId, t.EventTime, row_number() OVER w AS _n, t.stage AS SalesStage,
             t.source_record, c.milestone, c.is_closed, c.is_won,
             lag(t.stage) OVER w AS prev_stage, lag(c.is_closed) OVER w AS prev_closed,
             row_number() OVER (PARTITION BY t.SalesOpportunityId, t.stage
                                ORDER BY t.EventTime, t._key) = 1 AS first_entry
      FROM {t.rows} t JOIN {t.classes} c ON c.stage = t.stage
      WINDOW w AS (PARTITION BY t.SalesOpportunityId ORDER BY t.EventTime, t._key)
    )
    SELECT SalesOpportunityId,
           CASE WHEN is_closed AND is_won THEN 'Opportunity Won'
                WHEN is_closed THEN 'Opportunity Lost'
                WHEN prev_closed THEN 'Opportunity Reopened'
                WHEN milestone IS NOT NULL AND first_entry THEN milestone
                ELSE 'Opportunity Stage Changed' END AS ActivityName,
           EventTime, {lit(system)} AS SourceSystem, source_record,
           lpad(CAST(_n AS VARCHAR), 12, '0') AS _seq, SalesStage, TRUE AS _history
    FROM h
    WHERE prev_stage IS DISTINCT FROM SalesStage  -- a row that keeps the stage gives nothing
      AND (prev_stage IS NOT NULL OR milestone IS NOT NULL OR is_closed)  -- first row
    """


def stage_timeline(con: duckdb.DuckDBPyConnection, loaded: list[StageTables]) -> None:
    """Give each event of `x_events` without a stage the stage its opportunity was in then.

    The stage at time t is the stage of the last history row at or before t (rows at the same
    time: the last by record id); before the first row, the first row's stage (the stage the
    opportunity was created with). Opportunities without history keep none here (the engine
    then falls back to the record's current stage).
    """
    if not loaded:
        return
    union = " UNION ALL ".join(
        f"SELECT SalesOpportunityId, EventTime, _key, stage FROM {t.rows} "
        f"SEMI JOIN {t.classes} c USING (stage)"
        for t in loaded
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE x_timeline AS SELECT SalesOpportunityId, EventTime, "
        f"last(stage ORDER BY _key) AS stage FROM ({union}) "
        "WHERE SalesOpportunityId IS NOT NULL AND EventTime IS NOT NULL GROUP BY ALL"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE x_events AS "
        "SELECT e.* REPLACE (coalesce(e.SalesStage, t.stage, f.stage) AS SalesStage) "
        "FROM x_events e ASOF LEFT JOIN x_timeline t "
        "ON e.SalesOpportunityId = t.SalesOpportunityId AND e.EventTime >= t.EventTime "
        "LEFT JOIN (SELECT SalesOpportunityId, arg_min(stage, EventTime) AS stage "
        "FROM x_timeline GROUP BY ALL) f ON f.SalesOpportunityId = e.SalesOpportunityId"
    )


def closed_without_close(
    con: duckdb.DuckDBPyConnection, loaded: list[StageTables], examples: int = 5
) -> dict[str, object]:
    """Cases whose current stage (on the opportunity record) is closed, yet no Won / Lost
    event: their count and a few ids (the history disagrees with the record)."""
    if not loaded:
        return {"count": 0, "examples": []}
    closed = " UNION ".join(f"SELECT stage FROM {t.classes} WHERE is_closed" for t in loaded)
    row = con.execute(
        f"SELECT count(*), list(SalesOpportunityId ORDER BY SalesOpportunityId)[1:{examples}] "
        f"FROM x_cases WHERE SalesStage IN ({closed}) AND SalesOpportunityId NOT IN "
        "(SELECT SalesOpportunityId FROM x_events WHERE ActivityName IN "
        "('Opportunity Won', 'Opportunity Lost') AND SalesOpportunityId IS NOT NULL)"
    ).fetchone()
    assert row is not None
    return {"count": int(row[0]), "examples": list(row[1] or [])}
