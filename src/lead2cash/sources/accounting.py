"""Where each row of each export file went: rows read = rows used + rows set aside.

A row is *set aside* when the mapping recognises it as an event or a stage record, but it
cannot be attached to an opportunity of the log, so its event is missing:

- "not linked to an opportunity": an event rule's condition holds and its time is set, but
  its opportunity reference (the rule's case expression, through the rule's joins) is empty
  or finds no record;
- "its opportunity is not in the log": it names an opportunity that has no event at all
  (a stage row of an opportunity the export does not hold, for instance);
- left out when the file was read (`exported.normalise`): marked deleted, an older version
  of its record, a text in another language than the preferred one.

Every other row is *used*: it became an event, or belongs to a case of the log as context
(a draft quote, a history row that did not change the stage, a repeat of a status), or is
reference data (accounts, users, stage definitions). A row an event rule reaches only
through a condition on a joined record that is missing cannot be judged and counts as used,
and so do rows read only through a connector's preparation step (SAP's document chain,
Dynamics' audit changes): only rules and stage histories that read a file itself judge it.

The set-aside rows go to the `rejected_rows` table with their reason; the counts go to the
run's file accounts (`runs` / `run_files`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingT
from typing import TYPE_CHECKING

import duckdb

from ..store import REJECTED, quote
from ..workspace.runs import FileAccount
from .exported import LEFT_OUT
from .tables import SystemFolder

if TYPE_CHECKING:
    from .engine import Mapping

__all__ = ["SET_ASIDE", "account_folder", "start", "write_set_aside"]

SET_ASIDE = "x_set_aside"
"""Temporary table of the rows set aside: file, row, column, value, reason."""

NO_LINK = "not linked to an opportunity ({how} empty or matching no record)"
NOT_IN_LOG = "its opportunity is not in the log (no event of that opportunity was extracted)"
STAGE_LINK = "the stage history's opportunity"
_OUTER = re.compile(r"(?<!LEFT )\bJOIN\b")  # a rule's inner joins, kept as outer joins here


def start(con: duckdb.DuckDBPyConnection, events: str) -> None:
    """Prepare the accounting of an extract whose events are in the table `events`; the rows
    reading left out (deleted, older versions, other languages: `exported.normalise`) are
    set aside already, with their reasons."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SET_ASIDE} (file VARCHAR, row VARCHAR, "
        '"column" VARCHAR, value VARCHAR, reason VARCHAR)'
    )
    con.execute(f"INSERT INTO {SET_ASIDE} SELECT * FROM {LEFT_OUT}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE x_log_cases AS "
        f"SELECT DISTINCT SalesOpportunityId AS opp FROM {events}"
    )


def account_folder(
    con: duckdb.DuckDBPyConnection,
    folder: SystemFolder,
    mapping: Mapping,
    names: MappingT[str, str],
) -> list[FileAccount]:
    """The account of every file read from one folder (after `start`); fills SET_ASIDE."""
    from .engine import rule_time  # late: the engine calls this module

    accounts = []
    stage_tables = mapping.stages.tables if mapping.stages else ()
    for table, (path, rows) in folder.rows.items():
        shown = folder.files[table]
        links, how = [], []
        for rule in mapping.events:
            if rule.table == table:
                joins = _OUTER.sub("LEFT JOIN", rule.joins.format_map(names))
                links.append(
                    f"SELECT t._row, CAST({rule.case} AS VARCHAR) AS opp "
                    f"FROM {folder.sql_name(table)} t {joins} "
                    f"WHERE coalesce(({rule.where.format_map(names)}), false) "
                    f"AND {rule_time(rule)} IS NOT NULL"
                )
                how.append(rule.case)
        if table in stage_tables:
            stage_rows = quote(f"{folder.system}:stage_rows")
            links.append(
                f"SELECT _row, CAST(SalesOpportunityId AS VARCHAR) FROM {stage_rows} "
                f"WHERE _file = {_lit(shown)}"
            )
            how.append(STAGE_LINK)
        if links:
            _set_aside(con, folder.sql_name(table), shown, links, ", ".join(dict.fromkeys(how)))
        found = con.execute(
            f"SELECT reason, count(*) FROM {SET_ASIDE} WHERE file = ? GROUP BY reason", [shown]
        ).fetchall()
        aside = sum(int(n) for _, n in found)
        accounts.append(FileAccount.of(
            path, rows_read=rows, rows_used=rows - aside, rows_set_aside=aside,
            reasons={r: int(n) for r, n in found}, shown=shown,
        ))
    return accounts


def _set_aside(con: duckdb.DuckDBPyConnection, table: str, shown: str, links: list[str],
               how: str) -> None:
    """Add the rows of one table that a rule or the stage history claims and that belong to
    no case of the log, with their reason."""
    union = " UNION ALL ".join(links)
    con.execute(
        f"""INSERT INTO {SET_ASIDE}
        WITH l(_row, opp) AS ({union}),
        per_row AS (
          SELECT t._row, bool_or(c.opp IS NOT NULL) AS in_log, min(l.opp) AS opp,
                 bool_or(l._row IS NOT NULL) AS reached
          FROM {table} t LEFT JOIN l ON l._row = t._row
          LEFT JOIN x_log_cases c ON c.opp = l.opp
          GROUP BY t._row
        )
        SELECT ?, 'row ' || _row, NULL, opp, CASE WHEN opp IS NULL THEN ? ELSE ? END
        FROM per_row WHERE reached AND NOT in_log
        ORDER BY _row""",
        [shown, NO_LINK.format(how=how), NOT_IN_LOG],
    )


def write_set_aside(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the workspace's `rejected_rows` with the rows set aside (inside the load)."""
    con.execute(f"CREATE OR REPLACE TABLE {REJECTED} AS SELECT * FROM {SET_ASIDE} ORDER BY file")


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
