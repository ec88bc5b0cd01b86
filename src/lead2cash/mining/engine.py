"""The one backend seam: every analysis is an Ibis expression run on DuckDB or on Spark.

Rules that make both engines return identical results (see docs/mining.md):
durations are `delta(unit="microsecond")` only; every ordering is
(EventTime, event_id); the one ordered aggregation (a case's trace) goes
through `Engine.ordered_concat`, which each backend implements its own way.

An engine opens its Ibis side (backend and tables) on first use. The standing
queries of an analysis (`Engine.queries` with a key: the process map, the
variants) run on DuckDB as SQL compiled once per install (compiled.py), so a
command such as `mine dfg` does not import Ibis or pandas at all. An engine on the log
flattened on another object type (`case_type`) runs every query through Ibis: the kept SQL
names the stored tables of the workspace's own case type.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import duckdb

from .. import objects
from ..errors import Lead2CashError
from ..store import EVENTS, Workspace, quote
from . import compiled, derived
from .compiled import Columns
from .derived import CASE

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import SparkSession

    from .filters import Filter, LogTables

__all__ = ["DuckDBEngine", "Engine", "Source", "SparkEngine", "frame_columns", "spark_session",
           "using"]


class Engine(ABC):
    """An event log on one backend: events, the per-event steps and per-case traces as Ibis tables."""

    name: ClassVar[str]
    case_type: str = str(objects.CASE_OBJECT_TYPE)
    """The object type whose objects are the cases (the log flattened on it)."""

    def __init__(self, backend: Any, tables: LogTables | None) -> None:
        self._backend = backend
        self._log_tables = tables
        self._scratch: Path | None = None  # a temporary folder this engine made, removed on close
        # The tables of each filter combination asked for so far: an analysis after another
        # (process map, then variants) reuses the selected cases instead of selecting them again.
        self._selected: dict[tuple[Filter, ...], LogTables] = {}
        self._releases: list[Callable[[], object]] = []  # drop what the selections stored

    def _open(self) -> tuple[Any, LogTables]:
        """The Ibis backend and the log's tables, for an engine created without them."""
        raise NotImplementedError(f"{type(self).__name__} was created without its Ibis tables")

    @property
    def backend(self) -> Any:
        """The Ibis backend the tables are bound to (opened on first use)."""
        if self._backend is None:
            self._backend, self._log_tables = self._open()
        return self._backend

    @property
    def _tables(self) -> LogTables:
        """The whole log's tables as the engine holds them (opened on first use)."""
        if self._log_tables is None:
            self._backend, self._log_tables = self._open()
        return self._log_tables

    @staticmethod
    @abstractmethod
    def ordered_concat(value: ir.StringColumn, order_by: Sequence[ir.Column], sep: str) -> ir.Scalar:
        """Concatenate `value` within a group in the order of `order_by` (backend-specific)."""

    def tables(self, filters: Iterable[Filter] = ()) -> LogTables:
        """Events, steps and cases restricted to the cases the filters keep (selected once per
        engine and filter combination; an engine sees the log as it was when it selected).
        Event filters (event_filters.py) change the events first, in their order; steps and
        traces are then derived again from what they leave."""
        chosen = tuple(filters)
        if not chosen:
            return self._all()
        try:
            return self._selected[chosen]
        except KeyError:
            found = self._selected[chosen] = self._select(chosen)
        except TypeError:  # a caller's own, unhashable filter: select every time
            found = self._select(chosen)
        return found

    def _all(self) -> LogTables:
        """The tables of the whole log."""
        return self._tables

    def _select(self, chosen: tuple[Filter, ...]) -> LogTables:
        """The tables of the cases the filters keep (event filters first, see `_split`)."""
        from .filters import restrict

        changes, choices = _split(chosen)
        if changes:
            base = self._transformed(changes) if len(changes) == len(chosen) else self.tables(changes)
            return restrict(base, self._keep(choices, base)[CASE]) if choices else base
        return restrict(self._tables, self._keep(chosen)[CASE])

    def _keep(self, chosen: tuple[Filter, ...], base: LogTables | None = None) -> ir.Table:
        """The ids of the cases the filters keep, selected once into a temporary table."""
        from .filters import select_cases

        keep = select_cases(base or self._tables, chosen).name(CASE).as_table().cache()
        self._releases.append(keep.release)
        return keep

    def _transformed(self, changes: tuple[Filter, ...]) -> LogTables:
        """The log after event filters, its steps and traces derived again (cached); no
        stored KPI facts (its KPIs are computed from its events)."""
        from .filters import LogTables

        events = self._all().events
        for change in changes:
            events = change.transform(events)  # type: ignore[attr-defined]
        events = events.cache()
        self._releases.append(events.release)
        steps = derived.steps_expr(events).cache()
        cases = derived.cases_expr(steps, self.ordered_concat).cache()
        pairs = derived.variant_steps_expr(cases).cache()
        self._releases.extend(x.release for x in (steps, cases, pairs))
        return LogTables(events, steps, cases, pairs)

    def events(self, filters: Iterable[Filter] = ()) -> ir.Table:
        """The events table (all columns), restricted to the cases the filters keep."""
        return self.tables(filters).events

    def cases(self, filters: Iterable[Filter] = ()) -> ir.Table:
        """One row per case: trace (variant), first/last activity, start, end, duration_us."""
        return self.tables(filters).cases

    def steps(self, filters: Iterable[Filter] = ()) -> ir.Table:
        """One row per event with its position and the directly-following event (if any)."""
        return self.tables(filters).steps

    def execute(self, expr: ir.Expr) -> Any:
        """Run an expression: a pandas frame for tables, a Python value for scalars."""
        return expr.execute()

    def queries(
        self,
        build: Callable[[LogTables], Sequence[ir.Table]],
        filters: Iterable[Filter] = (),
        *,
        key: str | None = None,
    ) -> list[Columns]:
        """Run the queries `build` makes of the tables of the cases the filters keep; each
        result as columns. `key` names a standing query: `build` must read the tables it is
        given and nothing else, so that over the whole log its SQL can be kept compiled
        (DuckDB then runs it without Ibis; see compiled.py)."""
        return [frame_columns(self.execute(q)) for q in build(self.tables(filters))]

    def close(self) -> None:
        """Release what the engine opened (the workspace or Spark session stay with their owner)."""
        for release in self._releases:
            release()
        self._releases.clear()
        self._selected.clear()
        self._close_backend()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _close_backend(self) -> None:
        """Close a database the engine opened itself (none by default)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBEngine(Engine):
    """A workspace's DuckDB file: the derived tables were computed when the log was loaded.

    `lazy` (for logs read straight from a file) derives nothing up front: the first analysis
    derives the whole log, or, under filters, only the cases they keep. `case_type` (default:
    the workspace's) flattens the log on another object type, into temporary tables derived
    once when the Ibis side opens (on first use); its queries all run through Ibis.
    """

    name = "duckdb"

    def __init__(self, ws: Workspace, *, lazy: bool = False, case_type: str | None = None) -> None:
        ws.require_log()
        self._lazy = lazy
        native = objects.case_type(ws.con)
        self.case_type = case_type or native
        self._flattened = case_type not in (None, native)
        if self._flattened:
            if lazy:
                raise Lead2CashError(f"--case-type {case_type}: a log read from Parquet has no objects",
                                     "import it into a workspace first, or leave out --case-type")
            objects.require_case_type(ws.con, case_type)
        if not lazy and not derived.is_derived(ws.con):
            try:
                with ws.transaction() as con:  # a new version of the workspace with them
                    derived.derive(con)
            except (duckdb.Error, Lead2CashError) as exc:  # e.g. the workspace is read-only
                raise Lead2CashError(
                    f"{ws.path}: the log has no derived mining tables and they cannot be built here "
                    f"({exc.message if isinstance(exc, Lead2CashError) else exc})",
                    "re-import the log with this version, or open the workspace writable",
                ) from exc
        self.workspace = ws
        self._owned: Workspace | None = None
        self._kept: dict[tuple[Filter, ...], str] = {}  # kept case ids' table per filter combination
        super().__init__(None, None)  # the Ibis side opens on first use (`_open`)

    ordered_concat = staticmethod(derived.duckdb_concat)

    def _open(self) -> tuple[Any, LogTables]:
        """The Ibis backend on the workspace's connection and the log's tables: as stored, or
        for a lazy engine the derivations as expressions, evaluated only as far as a filter needs."""
        import ibis

        from .filters import LogTables

        backend = ibis.duckdb.from_connection(self.workspace.con)
        if self._flattened:
            return backend, self._flatten(backend)
        if not self._lazy:
            return backend, self._stored(backend, derived.NAMES)
        events = backend.table(EVENTS)
        steps = derived.steps_expr(events)
        cases = derived.cases_expr(steps, self.ordered_concat)
        return backend, LogTables(events, steps, cases, derived.variant_steps_expr(cases))

    def _flatten(self, backend: Any) -> LogTables:
        """The log flattened on `case_type` and its derived tables, stored as temporary tables
        (dropped on close); no stored KPI facts: its KPIs are computed from its events."""
        from .filters import LogTables

        con = self.workspace.con
        name = f"mining_flat_{uuid.uuid4().hex}"
        rel = objects.relations_of_type(backend.table(objects.E2O), backend.table(objects.OBJECTS),
                                        self.case_type)
        flat = objects.flatten(backend.table(objects.unique_events_table(con)), rel)
        con.execute(f"CREATE TEMP TABLE {name} AS {backend.compile(flat)}")
        self._releases.append(partial(self._drop, name))
        names = derived.derive(con, events_table=name)
        self._releases.extend(partial(self._drop, n) for n in names)
        return LogTables(backend.table(name), *(backend.table(n) for n in names))

    @staticmethod
    def _stored(backend: Any, names: tuple[str, str, str]) -> LogTables:
        """The events and the derived tables of these names, as stored in the database."""
        from .filters import LogTables

        stored = {r[0] for r in backend.con.execute(  # ibis' list_tables fails on DuckDB 2.0
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_catalog = current_database() AND table_name IN (?, ?)", list(derived.FACT_NAMES)).fetchall()}
        facts = [backend.table(n) if n in stored else None for n in derived.FACT_NAMES]
        return LogTables(backend.table(EVENTS), *(backend.table(n) for n in names), *facts)

    def _all(self) -> LogTables:
        """The whole log; a lazy engine derives it now, once."""
        if self._lazy:
            self._derive_all()
        return self._tables

    def _derive_all(self) -> None:
        """Store the whole log's derived tables (a lazy engine, on its first unfiltered use)."""
        derived.derive(self.workspace.con)
        self._lazy = False
        if self._backend is not None:
            self._log_tables = self._stored(self._backend, derived.NAMES)

    def queries(
        self,
        build: Callable[[LogTables], Sequence[ir.Table]],
        filters: Iterable[Filter] = (),
        *,
        key: str | None = None,
    ) -> list[Columns]:
        """As `Engine.queries`; a standing query runs its kept SQL, over the whole log or over
        the stored tables restricted to the filters' kept cases (see `derived.KEPT`); not on a
        flattened log: the kept SQL reads the stored tables of the workspace's case type."""
        chosen = tuple(filters)
        if key is None or self._flattened or (chosen and (self._lazy or _split(chosen)[0])):
            return super().queries(build, chosen)  # event filters: the kept SQL reads stored events
        if self._lazy:
            self._derive_all()
        if not chosen:
            sql = compiled.statements(key, lambda: derived.standing_sql(build))
            return [compiled.fetch(self.workspace.con, q) for q in sql]
        try:
            keep = self._keep_name(chosen)
        except TypeError:  # a caller's own, unhashable filter
            return super().queries(build, chosen)
        sql = compiled.statements(f"{key}-kept", lambda: derived.standing_sql(build, kept=True))
        return [compiled.fetch(self.workspace.con, derived.kept_by(q, keep)) for q in sql]

    def selection_sql(self, filters: Iterable[Filter], base: LogTables | None = None) -> str:
        """The SQL selecting the ids (one column, `SalesOpportunityId`) of the cases every
        filter keeps (of `base`, the log after event filters, if given): what a caller runs
        itself to keep a selection (see `use_selection`)."""
        from .filters import select_cases

        expr = select_cases(base or self._tables, tuple(filters)).name(CASE).as_table()
        return str(self.backend.compile(expr))

    def use_selection(self, filters: Iterable[Filter], ids: pa.Array) -> None:
        """Take `ids` as the cases the filters keep (selected before with `selection_sql` and
        kept, e.g. by a server), instead of selecting them again on this connection."""
        import pyarrow as pa

        name = f"mining_keep_{uuid.uuid4().hex}"
        self.workspace.con.complete()  # a result read with fetchone is still open: DuckDB 2 refuses
        self.workspace.con.register(name, pa.table({CASE: ids}))
        self._kept[tuple(filters)] = name
        self._releases.append(partial(self._unregister, name))

    def _keep_name(self, chosen: tuple[Filter, ...], base: LogTables | None = None) -> str:
        """The name of a table of the kept case ids (one per filter combination): given by
        `use_selection`, else selected now into a temporary table of this connection. Over
        `base` (a log after event filters) the selection is made afresh, never shared."""
        name = None if base is not None else self._kept.get(chosen)
        if name is None:
            name = f"mining_keep_{uuid.uuid4().hex}"
            self.workspace.con.execute(f"CREATE TEMP TABLE {name} AS {self.selection_sql(chosen, base)}")
            self._releases.append(partial(self._drop, name))
            if base is None:
                self._kept[chosen] = name
        return name

    def _keep(self, chosen: tuple[Filter, ...], base: LogTables | None = None) -> ir.Table:
        """The kept case ids as an Ibis table of this connection."""
        return self.backend.table(self._keep_name(chosen, base))

    def _unregister(self, name: str) -> None:
        """Forget a registered selection (gone already if its owner closed the connection)."""
        try:
            self.workspace.con.unregister(name)
        except duckdb.Error:
            pass

    def _drop(self, name: str) -> None:
        """Drop a temporary table (gone already if its owner closed the connection first)."""
        try:
            self.workspace.con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
        except duckdb.ConnectionException:
            pass

    def _transformed(self, changes: tuple[Filter, ...]) -> LogTables:
        """The log after event filters (of the events as this engine reads them: stored,
        underived or flattened), stored in temporary tables and derived again there."""
        events = self._tables.events
        for change in changes:
            events = change.transform(events)  # type: ignore[attr-defined]
        name = f"mining_events_{uuid.uuid4().hex}"
        self.workspace.con.execute(f"CREATE TEMP TABLE {name} AS {self.backend.compile(events)}")
        self._releases.append(partial(self._drop, name))
        names = derived.derive(self.workspace.con, events_table=name)
        self._releases.extend(partial(self._drop, n) for n in names)
        return replace(self._stored(self.backend, names), events=self.backend.table(name),
                       case_facts=None, stage_visits=None)

    def _select(self, chosen: tuple[Filter, ...]) -> LogTables:
        """A lazy engine selects the cases on the underived log, then derives only those."""
        if not self._lazy or _split(chosen)[0]:
            return super()._select(chosen)
        from .filters import restrict

        keep = self._keep(chosen)
        names = derived.derive(self.workspace.con, keep=keep.get_name())
        self._releases.extend(partial(self._drop, n) for n in names)
        events = restrict(self._tables, keep[CASE]).events
        return replace(self._stored(self.backend, names), events=events, case_facts=None,
                       stage_visits=None)

    @classmethod
    def from_parquet(
        cls, parquet: str | os.PathLike[str], memory_limit: str | None = None, threads: int | None = None
    ) -> DuckDBEngine:
        """Mine a Parquet log in the model's columns without importing it (in memory, spilling
        to a temp folder); the derived tables are built once, here. Close the engine when done."""
        scratch = Path(tempfile.mkdtemp(prefix="lead2cash-duckdb-"))
        ws = Workspace(":memory:", memory_limit=memory_limit, threads=threads, temp_directory=scratch)
        source = "read_parquet('" + str(parquet).replace("'", "''") + "')"
        try:
            names = {r[0] for r in ws.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
            missing = [c for c in derived.REQUIRED_COLUMNS if c not in names]
            if missing:
                ws.close()
                shutil.rmtree(scratch, ignore_errors=True)
                raise Lead2CashError(
                    f"{parquet}: not an event log in the model's columns (missing {', '.join(missing)})",
                    "export one with `lead2cash export --format parquet`, or import the file instead",
                )
            ws.con.execute(f"CREATE VIEW {EVENTS} AS SELECT * REPLACE "
                           f"(CAST(EventTime AS TIMESTAMP) AS EventTime) FROM {source}")
        except duckdb.Error as exc:
            ws.close()
            shutil.rmtree(scratch, ignore_errors=True)
            raise Lead2CashError(f"{parquet}: cannot read it as Parquet ({exc})",
                                 "check the path, or import CSV and XES files instead") from exc
        engine = cls(ws, lazy=True)
        engine._owned, engine._scratch = ws, scratch
        return engine

    def _close_backend(self) -> None:
        """Forget the kept selections (released already); close the in-memory database
        `from_parquet` opened (a caller's workspace stays open)."""
        self._kept.clear()
        if self._owned is not None:
            self._owned.close()
            self._owned = None


class SparkEngine(Engine):
    """An event log in Parquet read by Spark; Spark computes the derived tables itself and caches them."""

    name = "spark"

    def __init__(self, session: SparkSession, parquet: str | os.PathLike[str],
                 case_type: str | None = None, objects_parquet: tuple[str, str] | None = None) -> None:
        """`objects_parquet` (E2O and objects as Parquet) with `case_type`: Spark flattens the
        log (`parquet`: one row per event) on that object type itself."""
        import ibis

        from .filters import LogTables

        backend = ibis.pyspark.connect(session)
        view = f"{EVENTS}_{uuid.uuid4().hex}"  # one view per engine: sessions are shared
        session.read.parquet(str(parquet)).createOrReplaceTempView(view)
        events = backend.table(view)
        if case_type is not None and objects_parquet is not None:
            e2o, objs = (f"{t}_{uuid.uuid4().hex}" for t in (objects.E2O, objects.OBJECTS))
            session.read.parquet(objects_parquet[0]).createOrReplaceTempView(e2o)
            session.read.parquet(objects_parquet[1]).createOrReplaceTempView(objs)
            rel = objects.relations_of_type(backend.table(e2o), backend.table(objs), case_type)
            events = objects.flatten(events, rel).cache()
            self.case_type = case_type
        steps = derived.steps_expr(events).cache()
        cases = derived.cases_expr(steps, self.ordered_concat).cache()
        pairs = derived.variant_steps_expr(cases).cache()
        self.session = session
        super().__init__(backend, LogTables(events, steps, cases, pairs))

    @classmethod
    def from_workspace(cls, ws: Workspace, session: SparkSession | None = None,
                       case_type: str | None = None) -> SparkEngine:
        """Export a workspace's events to a temporary Parquet file and read it with Spark; with
        another `case_type` than the workspace's, export the events once each with the E2O
        relations and objects, and Spark flattens them."""
        native = objects.case_type(ws.con)
        if case_type not in (None, native):
            objects.require_case_type(ws.con, case_type)
        scratch = Path(tempfile.mkdtemp(prefix="lead2cash-spark-"))
        try:
            if case_type in (None, native):
                cls.write_parquet(ws, scratch / "events.parquet")
                engine = cls(session or spark_session(), scratch / "events.parquet")
                engine.case_type = native
            else:
                cls.write_parquet(ws, scratch / "events.parquet", objects.unique_events_table(ws.con))
                for table in (objects.E2O, objects.OBJECTS):
                    ws.con.execute(f"COPY (SELECT * FROM {table}) TO "
                                   f"'{scratch / table}.parquet' (FORMAT parquet)")
                engine = cls(session or spark_session(), scratch / "events.parquet", case_type,
                             (str(scratch / f"{objects.E2O}.parquet"),
                              str(scratch / f"{objects.OBJECTS}.parquet")))
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        engine._scratch = scratch
        return engine

    @staticmethod
    def write_parquet(ws: Workspace, path: str | os.PathLike[str], table: str = EVENTS) -> None:
        """Write a workspace's events as Parquet that Spark reads (INTERVAL columns become
        integer microseconds, which Spark's Parquet reader cannot take as intervals)."""
        ws.require_log()
        target = str(path).replace("'", "''")
        ws.con.execute(f"COPY ({_portable_select(ws, table)}) TO '{target}' (FORMAT parquet)")

    @staticmethod
    def ordered_concat(value: ir.StringColumn, order_by: Sequence[ir.Column], sep: str) -> ir.Scalar:
        """Spark cannot order inside an aggregate: collect structs, sort the array, keep the value."""
        import ibis

        fields = {f"k{i}": col for i, col in enumerate(order_by)} | {"v": value}
        collected = ibis.struct(fields).collect().sort()
        return collected.map(lambda s: s.v).join(sep)


def _split(chosen: tuple[Filter, ...]) -> tuple[tuple[Filter, ...], tuple[Filter, ...]]:
    """Event filters (in their order: they apply first) and case filters."""
    from .event_filters import is_event_filter

    return (tuple(f for f in chosen if is_event_filter(f)),
            tuple(f for f in chosen if not is_event_filter(f)))


def _portable_select(ws: Workspace, table: str = EVENTS) -> str:
    """SELECT of the events for Parquet that Spark reads: INTERVAL columns become microseconds."""
    columns = ws.con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "AND table_schema = 'main' ORDER BY ordinal_position", [table]).fetchall()
    cols = [
        f"CAST(epoch_us(TIMESTAMP 'epoch' + {quote(n)}) AS BIGINT) AS {quote(n)}"
        if t.startswith("INTERVAL") else quote(n)
        for n, t in columns
    ]
    return f"SELECT {', '.join(cols)} FROM {table}"


def spark_session(master: str | None = None) -> SparkSession:
    """A Spark session set up for exact, reproducible mining: UTC, no UI, few shuffle partitions."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise Lead2CashError(
            "the Spark engine needs PySpark", "pip install 'lead2cash[spark]' (and a Java 17 runtime)"
        ) from exc
    session = (
        SparkSession.builder.master(master or os.environ.get("LEAD2CASH_SPARK_MASTER", "local[2]"))
        .appName("lead2cash")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("LEAD2CASH_SPARK_PARTITIONS", "4"))
        .config("spark.driver.memory", os.environ.get("LEAD2CASH_SPARK_MEMORY", "2g"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


Source = Engine | Workspace | str | os.PathLike[str]


@contextmanager
def using(source: Source) -> Iterator[Engine]:
    """An engine for an engine, an open workspace or a workspace path (opened read-only, then closed)."""
    if isinstance(source, Engine):
        yield source
    elif isinstance(source, Workspace):
        with DuckDBEngine(source) as engine:
            yield engine
    else:
        with Workspace(source, read_only=True) as ws, DuckDBEngine(ws) as engine:
            yield engine


def frame_columns(frame: pd.DataFrame) -> Columns:
    """A pandas result as columns, missing values (NaN, NaT, NA) as None like DuckDB's."""
    return {str(c): frame[c].astype(object).where(frame[c].notna(), None).tolist()
            for c in frame.columns}
