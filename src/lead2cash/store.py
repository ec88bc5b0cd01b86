"""The workspace: one DuckDB database file holding one Lead-to-Cash event log.

The `events` table has the model's 17 attribute columns (exact field names),
plus `event_id` (source order, breaks ties between equal times), `event_type`
(explicit / inferred / imported) and `source_record` (lineage), then any extra
attributes the input carried. `cases` is a view with one row per case. Every load also
rebuilds the object tables (objects.py) in the same transaction (`replace_log`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from .errors import Lead2CashError
from .model import ATTRIBUTES, CASE_ATTRIBUTES

if TYPE_CHECKING:  # the object tables' module loads with a load, not with every command
    from .objects import ObjectLog

__all__ = [
    "CORE_COLUMNS",
    "DEFAULT_DB",
    "EVENTS",
    "REJECTED",
    "Workspace",
    "default_db_path",
    "events_ddl",
]

DEFAULT_DB = "lead2cash.duckdb"
EVENTS = "events"
REJECTED = "rejected_rows"
META = "log_meta"

CORE_COLUMNS: tuple[str, ...] = (
    "event_id",
    *(a.name for a in ATTRIBUTES),
    "event_type",
    "source_record",
)


def default_db_path() -> Path:
    """The workspace file: `LEAD2CASH_DB` if set, else `./lead2cash.duckdb`."""
    return Path(os.environ.get("LEAD2CASH_DB", DEFAULT_DB))


def quote(name: str) -> str:
    """Quote an identifier for DuckDB (names like `org:resource` need it)."""
    return '"' + name.replace('"', '""') + '"'


def events_ddl(table: str, extras: dict[str, str] | None = None) -> str:
    """CREATE TABLE statement for an events table with the model's columns and extras."""
    cols = ["event_id BIGINT NOT NULL"]
    cols += [f"{quote(a.name)} {a.sql_type}" for a in ATTRIBUTES]
    cols += ["event_type VARCHAR NOT NULL", "source_record VARCHAR"]
    cols += [f"{quote(n)} {t}" for n, t in (extras or {}).items()]
    return f"CREATE TABLE {table} ({', '.join(cols)})"


def _cases_view_sql() -> str:
    """One row per case: its span, size, and the last known value of each case attribute."""
    order = "ORDER BY EventTime, event_id"
    attrs = ",\n  ".join(
        f"last({quote(n)} {order}) FILTER (WHERE {quote(n)} IS NOT NULL) AS {quote(n)}"
        for n in CASE_ATTRIBUTES
    )
    return (
        f"CREATE OR REPLACE VIEW cases AS SELECT\n  SalesOpportunityId,\n"
        f"  min(EventTime) AS first_event, max(EventTime) AS last_event,\n"
        f"  count(*) AS events,\n  {attrs}\nFROM {EVENTS} GROUP BY SalesOpportunityId"
    )


class Workspace:
    """An open workspace: a DuckDB file with memory and spill settings made explicit."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        memory_limit: str | None = None,
        temp_directory: str | os.PathLike[str] | None = None,
        threads: int | None = None,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        if read_only and not self.path.exists():
            raise Lead2CashError(
                f"{self.path}: no workspace here yet",
                "import a log first (`lead2cash import FILE`), or point --db / LEAD2CASH_DB at one",
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise Lead2CashError(
                f"{self.path}: cannot open the workspace ({exc})",
                "close other programs using it, or choose another file with --db",
            ) from exc
        self.memory_limit = memory_limit or os.environ.get("LEAD2CASH_MEMORY_LIMIT", "4GB")
        tmp = temp_directory or os.environ.get("LEAD2CASH_TEMP_DIR") or f"{self.path}.tmp"
        self.temp_directory = Path(tmp)
        self.con.execute(f"SET memory_limit = '{self.memory_limit}'")
        self.con.execute(f"SET temp_directory = '{self.temp_directory}'")
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def close(self) -> None:
        """Close the connection (the file stays)."""
        self.con.close()

    def cursor(self) -> Workspace:
        """The same workspace on a DuckDB cursor of its own, for one thread or request (a
        connection must not be shared between threads); closing it closes only the cursor."""
        view = object.__new__(Workspace)
        view.path, view.memory_limit, view.temp_directory = self.path, self.memory_limit, self.temp_directory
        view.con = self.con.cursor()
        view.con.execute("SET TimeZone = 'UTC'")
        return view

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has_log(self) -> bool:
        """Whether an event log has been loaded into this workspace."""
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [EVENTS]
        ).fetchone()
        return bool(row and row[0])

    def require_log(self) -> None:
        """Fail with a helpful message when the workspace holds no log yet."""
        if not self.has_log():
            raise Lead2CashError(
                f"{self.path}: the workspace holds no event log",
                "run `lead2cash import FILE` (or `lead2cash demo`) first",
            )

    def columns(self) -> list[tuple[str, str]]:
        """(name, type) of every column of the events table, in order."""
        self.require_log()
        return [
            (r[0], r[1])
            for r in self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [EVENTS],
            ).fetchall()
        ]

    def extra_columns(self) -> list[str]:
        """Columns of the events table beyond the model's and the store's own."""
        core = set(CORE_COLUMNS)
        return [n for n, _ in self.columns() if n not in core]

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: a failure inside leaves the workspace as it was."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def replace_log(self, select_sql: str, extras: dict[str, str], meta: dict[str, str],
                    objects: ObjectLog | None = None) -> None:
        """Replace the event log with the rows of `select_sql` (core columns, then extras),
        and the object tables with `objects` (or the case objects derived from the events).

        Must run inside `transaction()`; derived views are rebuilt in the same transaction.
        """
        con = self.con
        con.execute("DROP VIEW IF EXISTS cases")
        con.execute(f"DROP TABLE IF EXISTS {EVENTS}")
        con.execute(events_ddl(EVENTS, extras))
        con.execute(f"INSERT INTO {EVENTS} {select_sql}")
        con.execute(_cases_view_sql())
        from .mining.derived import derive  # late: the mining layer builds on this module
        from .objects import store_objects

        derive(con)
        meta = {**meta, **store_objects(con, objects)}
        con.execute(f"CREATE OR REPLACE TABLE {META} (key VARCHAR PRIMARY KEY, value VARCHAR)")
        if meta:
            con.executemany(f"INSERT INTO {META} VALUES (?, ?)", list(meta.items()))

    def meta(self) -> dict[str, str]:
        """What the last load recorded (input file, time zone, loaded at, ...)."""
        try:
            rows = self.con.execute(f"SELECT key, value FROM {META}").fetchall()
        except duckdb.CatalogException:
            return {}
        return dict(rows)
