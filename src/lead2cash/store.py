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
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from .errors import Lead2CashError
from .model import ATTRIBUTES, CASE_ATTRIBUTES
from .workspace.refresh import (
    WriterLock,
    beside_error,
    build_path,
    create_empty,
    file_version,
    pause_point,
    remove_strays,
    switch,
)
from .workspace.runs import (
    KEPT_TABLES,
    Run,
    describe_failure,
    journal_append,
    journal_path,
    pending_runs,
    record,
)

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
CURRENT = "l2c_current"
"""Catalog name of the current version in a writable workspace's connection."""
NEXT = "l2c_next"
"""Catalog name of the version a transaction builds."""

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
    """An open workspace: a DuckDB file with memory and spill settings made explicit.

    `con` is a connection of its own in-memory database that reads the current version of
    the file through a read-only attachment (catalog `l2c_current`, the default catalog), so
    any number of readers and one refresh can have the workspace open at once, and two
    `Workspace` objects in one process each read the version that was at the path when they
    opened it (DuckDB would hand a second plain `connect` the first one's database). Temporary
    tables live in that connection's own memory. `version()` / `reopen_if_changed()` let a
    long-lived reader move to the newest version after a refresh.

    Read-only (`read_only=True`): nothing can be written. Writable (the default): writes go
    only through `transaction()`, which builds the next version in a new file and switches it
    in atomically (see workspace/refresh.py); statements that write outside `transaction()`
    fail as on a read-only database. `":memory:"` is an in-memory database written in place.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        memory_limit: str | None = None,
        temp_directory: str | os.PathLike[str] | None = None,
        threads: int | None = None,
        read_only: bool = False,
        command: str | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.read_only = read_only
        self.command = command
        """How the runs table names this session's refreshes (the CLI sets the command line)."""
        self.active_run: Run | None = None
        self.last_run: Run | None = None
        self._lock: WriterLock | None = None
        self._in_place = str(self.path) == ":memory:"
        if read_only and not self._in_place and not self.path.exists():
            raise _no_workspace(self.path)
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise Lead2CashError(f"{self.path}: cannot make its folder ({exc.strerror})",
                                     "choose a --db path inside a writable folder") from exc
        self.memory_limit = memory_limit or os.environ.get("LEAD2CASH_MEMORY_LIMIT", "4GB")
        tmp = temp_directory or os.environ.get("LEAD2CASH_TEMP_DIR") or f"{self.path}.tmp"
        self.temp_directory = Path(tmp)
        self.threads = threads
        self._version: str | None = None
        self.con = self._connect(":memory:", False)
        if not self._in_place:
            try:
                self._attach_current()
            except BaseException:
                self.con.close()
                raise

    def _connect(self, target: str, read_only: bool) -> duckdb.DuckDBPyConnection:
        """A configured DuckDB connection (memory limit, spill folder, UTC, threads)."""
        try:
            con = duckdb.connect(target, read_only=read_only)
        except duckdb.Error as exc:
            raise _open_error(self.path, exc) from exc
        try:
            con.execute(f"SET memory_limit = {_lit(self.memory_limit)}")
        except duckdb.Error:
            con.close()
            raise Lead2CashError(
                f"LEAD2CASH_MEMORY_LIMIT: {self.memory_limit!r} is not an amount of memory",
                "write a number and a unit, e.g. LEAD2CASH_MEMORY_LIMIT=4GB or 800MB") from None
        try:
            con.execute(f"SET temp_directory = {_lit(str(self.temp_directory))}")
        except duckdb.Error as exc:
            con.close()
            raise Lead2CashError(
                f"LEAD2CASH_TEMP_DIR: cannot use {self.temp_directory} as the spill folder "
                f"({str(exc).splitlines()[0]})",
                "point LEAD2CASH_TEMP_DIR at a writable folder, or unset it") from None
        con.execute("SET TimeZone = 'UTC'")
        if self.threads:
            con.execute(f"SET threads = {int(self.threads)}")
        return con

    def _attach_current(self) -> None:
        """Read the file now at the path as the current version (for a writable workspace, an
        empty one is created first if there is none, so that writes outside a transaction
        always fail rather than land in a scratch database)."""
        if file_version(self.path) is None:
            if self.read_only:
                raise _no_workspace(self.path)
            try:
                create_empty(self.path)
            except (duckdb.Error, OSError) as exc:
                raise beside_error(self.path, exc) from exc
        version = file_version(self.path)
        try:
            self.con.execute(f"ATTACH {_lit(str(self.path))} AS {CURRENT} (READ_ONLY)")
        except duckdb.Error as exc:
            raise _open_error(self.path, exc) from exc
        self.con.execute(f"USE {CURRENT}")
        self._version = version

    def _detach_current(self) -> None:
        """Let go of the current version's file."""
        self.con.execute("USE memory")
        self.con.execute(f"DETACH DATABASE IF EXISTS {CURRENT}")

    def close(self) -> None:
        """Close the connection (the file stays), and the spill folder if it is left empty."""
        self.con.close()
        with suppress(OSError):  # not empty, not ours, or already gone: leave it
            self.temp_directory.rmdir()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def cursor(self) -> Workspace:
        """The same version of the workspace on a DuckDB cursor of its own, for one thread or
        request (a connection must not be shared between threads), read-only, with its own
        temporary tables; closing it closes only the cursor."""
        view = object.__new__(Workspace)
        view.__dict__.update(self.__dict__)
        view.read_only, view._lock, view.active_run, view.last_run = True, None, None, None
        view.con = self.con.cursor()
        view.con.execute("SET TimeZone = 'UTC'")
        if not self._in_place:
            view.con.execute(f"USE {CURRENT}")
        return view

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- versions: how a long-lived reader follows refreshes ---------------------------------

    def version(self) -> str | None:
        """A token of the version this workspace reads (None before the first load)."""
        return self._version

    def changed(self) -> bool:
        """Whether a refresh has put a newer version at the path since this one was opened
        (one stat call: cheap enough to ask before every request)."""
        return not self._in_place and file_version(self.path) != self._version

    def reopen_if_changed(self) -> bool:
        """Move to the newest version if there is one; True if it did.

        Queries already running keep their old version. Anything built on the old `con`
        (an engine, an Ibis backend, a cursor) must be rebuilt on the new one; in the same
        process, DuckDB hands out the old file again while any such object keeps it open.
        """
        if not self.changed():
            return False
        self._detach_current()
        self._attach_current()
        return True

    # -- reading ---------------------------------------------------------------------------

    def has_log(self) -> bool:
        """Whether an event log has been loaded into this workspace."""
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
            "AND table_catalog = current_database()", [EVENTS]
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
                "WHERE table_name = ? AND table_catalog = current_database() "
                "ORDER BY ordinal_position",
                [EVENTS],
            ).fetchall()
        ]

    def extra_columns(self) -> list[str]:
        """Columns of the events table beyond the model's and the store's own."""
        core = set(CORE_COLUMNS)
        return [n for n, _ in self.columns() if n not in core]

    def meta(self) -> dict[str, str]:
        """What the last load recorded (input file, time zone, loaded at, ...)."""
        try:
            rows = self.con.execute(f"SELECT key, value FROM {META}").fetchall()
        except duckdb.CatalogException:
            return {}
        return dict(rows)

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def recording(self, kind: str) -> Iterator[Run]:
        """One refresh (`import`, `extract`) from start to outcome, recorded in `runs`.

        Takes the writer lock for the whole run (a second refresh is refused at once),
        removes what killed refreshes left behind, and journals the run as running. The
        run's `transaction()` writes it, outcome ok, into the new version; a failure is
        journalled (the workspace file stays as it was). Re-entered, it joins the active run.
        """
        if self.active_run is not None:
            yield self.active_run
            return
        if self.read_only:
            raise Lead2CashError(f"{self.path}: opened read-only, cannot {kind} into it",
                                 "open the workspace writable")
        run = Run(kind, self.command or f"{kind} (Python API)")
        with self._writer():
            self.active_run = run
            try:
                self._journal(run)
                pause_point("started")
                yield run
                if run.outcome == "running":
                    raise Lead2CashError(f"{kind} finished without loading a log",
                                         "this is a bug: please report it")
            except BaseException as exc:
                if run.outcome == "running":  # not loaded: the workspace file is unchanged
                    run.finish("failed", describe_failure(exc))
                    self._journal(run)
                raise
            finally:
                self.active_run = None
                self.last_run = run

    def _journal(self, run: Run) -> None:
        """Note the run's state beside the workspace file (not for in-memory workspaces)."""
        if not self._in_place:
            journal_append(self.path, run)

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """Hold the writer lock (re-entrant within this workspace); clean up strays once held."""
        if self._lock is not None or self._in_place:
            yield
            return
        lock = WriterLock(self.path, self.command or "lead2cash (Python API)")
        try:
            lock.acquire()
        except OSError as exc:
            raise beside_error(self.path, exc) from exc
        self._lock = lock
        try:
            remove_strays(self.path)
            yield
        finally:
            lock.release()
            self._lock = None

    @contextmanager
    def transaction(self, *, fresh: bool | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: a failure inside leaves the workspace as it was.

        Writable workspaces build the next version in a new file, visible to others only
        when the block ends without error. `fresh` (default: inside a refresh run) starts the
        new version empty except for the run history; otherwise it starts as a copy of the
        current version, so the block can change it in place.
        """
        if self.read_only:
            raise Lead2CashError(f"{self.path}: opened read-only, cannot write into it",
                                 "open the workspace writable (read_only=False)")
        if self._in_place:
            self.con.execute("BEGIN TRANSACTION")
            try:
                yield self.con
                if self.active_run is not None:
                    self._record_run()
                self.con.execute("COMMIT")
            except BaseException:
                with suppress(duckdb.Error):
                    self.con.execute("ROLLBACK")
                self._unrecord_run()
                raise
            return
        fresh = self.active_run is not None if fresh is None else fresh
        with self._writer():
            yield from self._build_next(fresh)

    def _build_next(self, fresh: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """Write the next version into a build file and switch it in (see `transaction`)."""
        con, build = self.con, build_path(self.path)
        if self.changed():  # another refresh finished since we opened: build on its version
            self._detach_current()
            self._attach_current()
        own = self.active_run.run_id if self.active_run is not None else None
        try:
            con.execute(f"ATTACH {_lit(str(build))} AS {NEXT}")
        except duckdb.Error as exc:
            raise beside_error(self.path, exc) from exc
        committed = False
        try:
            con.execute(f"USE {NEXT}")
            con.execute("BEGIN TRANSACTION")
            if fresh:
                self._carry(KEPT_TABLES)
            else:
                con.execute(f"COPY FROM DATABASE {CURRENT} TO {NEXT}")
            yield con
            pause_point("built")
            record(con, pending_runs(self.path, holding_lock=True, exclude=own))
            if self.active_run is not None:
                self._record_run()
            con.execute("COMMIT")
            committed = True
            pause_point("committed")
            try:
                con.execute(f"CHECKPOINT {NEXT}")
                self._detach_current()
                con.execute(f"DETACH {NEXT}")
                switch(build, self.path)
            except (duckdb.Error, OSError) as exc:
                raise beside_error(self.path, exc) from exc
        except BaseException:  # not switched: the workspace file is the old one
            if not committed:
                with suppress(duckdb.Error):
                    con.execute("ROLLBACK")
            self._unrecord_run()
            with suppress(duckdb.Error):
                self._detach_current()
                con.execute(f"DETACH DATABASE IF EXISTS {NEXT}")
            remove_strays(self.path)
            with suppress(Lead2CashError):
                self._attach_current()
            raise
        journal_path(self.path).unlink(missing_ok=True)  # its runs are in the new version now
        self._attach_current()

    def _carry(self, tables: tuple[str, ...]) -> None:
        """Copy tables of the current version into the next one, as they are."""
        present = {r[0] for r in self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [CURRENT]
        ).fetchall()}
        for name in tables:
            if name in present:
                self.con.execute(f"CREATE TABLE {NEXT}.main.{quote(name)} AS "
                                 f"SELECT * FROM {CURRENT}.main.{quote(name)}")

    def _record_run(self) -> None:
        """Write the active run, outcome ok, with what the new log holds (in the transaction)."""
        run = self.active_run
        assert run is not None
        if self.has_log():
            events, cases, ldu = self.con.execute(
                f"SELECT count(*), count(DISTINCT SalesOpportunityId), max(LastDataUpdate) "
                f"FROM {EVENTS}"
            ).fetchone() or (0, 0, None)
            run.events, run.cases, run.last_data_update = int(events), int(cases), ldu
        run.finish("ok")
        record(self.con, [run])

    def _unrecord_run(self) -> None:
        """The load did not happen after all: the active run is running again (to be failed)."""
        if self.active_run is not None and self.active_run.outcome == "ok":
            self.active_run.outcome, self.active_run.finished_at = "running", None

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


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _no_workspace(path: Path) -> Lead2CashError:
    """A workspace opened for reading that is not there."""
    return Lead2CashError(
        f"{path}: no workspace here yet",
        "import a log first (`lead2cash import FILE`), or point --db / LEAD2CASH_DB at one",
    )


def _open_error(path: Path, exc: duckdb.Error) -> Lead2CashError:
    """Why a workspace cannot be opened, and the fix."""
    text = str(exc)
    if "Conflicting lock" in text:
        hint = ("another program has this file open for writing (for example a notebook's "
                "duckdb.connect without read_only=True): close it; lead2cash's own refreshes "
                "never lock readers out")
    else:
        hint = ("check that the file is a lead2cash workspace (a DuckDB database), "
                "or choose another with --db")
    return Lead2CashError(f"{path}: cannot open the workspace ({text.splitlines()[0]})", hint)
