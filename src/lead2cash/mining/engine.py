"""The one backend seam: every analysis is an Ibis expression run on DuckDB or on Spark.

Rules that make both engines return identical results (see docs/mining.md):
durations are `delta(unit="microsecond")` only; every ordering is
(EventTime, event_id); the one ordered aggregation (a case's trace) goes
through `Engine.ordered_concat`, which each backend implements its own way.
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
import ibis
import ibis.expr.types as ir

from ..errors import Lead2CashError
from ..store import EVENTS, Workspace, quote
from . import derived
from .event_filters import is_event_filter
from .filters import CASE, Filter, LogTables, restrict, select_cases

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["DuckDBEngine", "Engine", "Source", "SparkEngine", "spark_session", "using"]


class Engine(ABC):
    """An event log on one backend: events, the per-event steps and per-case traces as Ibis tables."""

    name: ClassVar[str]

    def __init__(self, backend: Any, tables: LogTables) -> None:
        self.backend = backend
        self._tables = tables
        self._scratch: Path | None = None  # a temporary folder this engine made, removed on close
        # The tables of each filter combination asked for so far: an analysis after another
        # (process map, then variants) reuses the selected cases instead of selecting them again.
        self._selected: dict[tuple[Filter, ...], LogTables] = {}
        self._releases: list[Callable[[], object]] = []  # drop what the selections stored

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
        changes, choices = _split(chosen)
        if changes:
            base = self._transformed(changes) if len(changes) == len(chosen) else self.tables(changes)
            return restrict(base, self._keep(choices, base)[CASE]) if choices else base
        return restrict(self._tables, self._keep(chosen)[CASE])

    def _keep(self, chosen: tuple[Filter, ...], base: LogTables | None = None) -> ir.Table:
        """The ids of the cases the filters keep, selected once into a temporary table."""
        keep = select_cases(base or self._tables, chosen).name(CASE).as_table().cache()
        self._releases.append(keep.release)
        return keep

    def _transformed(self, changes: tuple[Filter, ...]) -> LogTables:
        """The log after event filters, its steps and traces derived again (cached)."""
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
    derives the whole log, or, under filters, only the cases they keep.
    """

    name = "duckdb"

    def __init__(self, ws: Workspace, *, lazy: bool = False) -> None:
        ws.require_log()
        self._lazy = lazy
        if not lazy and not derived.is_derived(ws.con):
            try:
                derived.derive(ws.con)
            except duckdb.Error as exc:
                raise Lead2CashError(
                    f"{ws.path}: the log has no derived mining tables and they cannot be built here "
                    f"({exc})",
                    "re-import the log with this version, or open the workspace writable",
                ) from exc
        backend = ibis.duckdb.from_connection(ws.con)
        self.workspace = ws
        self._owned: Workspace | None = None
        if lazy:  # the derivations as expressions, evaluated only as far as a filter needs
            events = backend.table(EVENTS)
            steps = derived.steps_expr(events)
            cases = derived.cases_expr(steps, self.ordered_concat)
            tables = LogTables(events, steps, cases, derived.variant_steps_expr(cases))
        else:
            tables = self._stored(backend, derived.NAMES)
        super().__init__(backend, tables)

    ordered_concat = staticmethod(derived.duckdb_concat)

    @staticmethod
    def _stored(backend: Any, names: tuple[str, str, str]) -> LogTables:
        """The events and the derived tables of these names, as stored in the database."""
        return LogTables(backend.table(EVENTS), *(backend.table(n) for n in names))

    def _all(self) -> LogTables:
        """The whole log; a lazy engine derives it now, once."""
        if self._lazy:
            derived.derive(self.workspace.con)
            self._tables, self._lazy = self._stored(self.backend, derived.NAMES), False
        return self._tables

    def _keep(self, chosen: tuple[Filter, ...], base: LogTables | None = None) -> ir.Table:
        """The kept case ids in a temporary table of this connection, dropped on close."""
        name = f"mining_keep_{uuid.uuid4().hex}"
        expr = select_cases(base or self._tables, chosen).name(CASE).as_table()
        self.workspace.con.execute(f"CREATE TEMP TABLE {name} AS {self.backend.compile(expr)}")
        self._releases.append(partial(self._drop, name))
        return self.backend.table(name)

    def _drop(self, name: str) -> None:
        """Drop a temporary table (gone already if its owner closed the connection first)."""
        try:
            self.workspace.con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
        except duckdb.ConnectionException:
            pass

    def _transformed(self, changes: tuple[Filter, ...]) -> LogTables:
        """The log after event filters, stored in temporary tables and derived again there."""
        events = self.backend.table(EVENTS)
        for change in changes:
            events = change.transform(events)  # type: ignore[attr-defined]
        name = f"mining_events_{uuid.uuid4().hex}"
        self.workspace.con.execute(f"CREATE TEMP TABLE {name} AS {self.backend.compile(events)}")
        self._releases.append(partial(self._drop, name))
        names = derived.derive(self.workspace.con, source=name)
        self._releases.extend(partial(self._drop, n) for n in names)
        return replace(self._stored(self.backend, names), events=self.backend.table(name))

    def _select(self, chosen: tuple[Filter, ...]) -> LogTables:
        """A lazy engine selects the cases on the underived log, then derives only those."""
        if not self._lazy or _split(chosen)[0]:
            return super()._select(chosen)
        keep = self._keep(chosen)
        names = derived.derive(self.workspace.con, keep=keep.get_name())
        self._releases.extend(partial(self._drop, n) for n in names)
        events = restrict(self._tables, keep[CASE]).events
        return replace(self._stored(self.backend, names), events=events)

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
        """Close the in-memory database `from_parquet` opened (a caller's workspace stays open)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None


class SparkEngine(Engine):
    """An event log in Parquet read by Spark; Spark computes the derived tables itself and caches them."""

    name = "spark"

    def __init__(self, session: SparkSession, parquet: str | os.PathLike[str]) -> None:
        backend = ibis.pyspark.connect(session)
        view = f"{EVENTS}_{uuid.uuid4().hex}"  # one view per engine: sessions are shared
        session.read.parquet(str(parquet)).createOrReplaceTempView(view)
        events = backend.table(view)
        steps = derived.steps_expr(events).cache()
        cases = derived.cases_expr(steps, self.ordered_concat).cache()
        pairs = derived.variant_steps_expr(cases).cache()
        self.session = session
        super().__init__(backend, LogTables(events, steps, cases, pairs))

    @classmethod
    def from_workspace(cls, ws: Workspace, session: SparkSession | None = None) -> SparkEngine:
        """Export a workspace's events to a temporary Parquet file and read it with Spark."""
        scratch = Path(tempfile.mkdtemp(prefix="lead2cash-spark-"))
        cls.write_parquet(ws, scratch / "events.parquet")
        engine = cls(session or spark_session(), scratch / "events.parquet")
        engine._scratch = scratch
        return engine

    @staticmethod
    def write_parquet(ws: Workspace, path: str | os.PathLike[str]) -> None:
        """Write a workspace's events as Parquet that Spark reads (INTERVAL columns become
        integer microseconds, which Spark's Parquet reader cannot take as intervals)."""
        ws.require_log()
        target = str(path).replace("'", "''")
        ws.con.execute(f"COPY ({_portable_select(ws)}) TO '{target}' (FORMAT parquet)")

    @staticmethod
    def ordered_concat(value: ir.StringColumn, order_by: Sequence[ir.Column], sep: str) -> ir.Scalar:
        """Spark cannot order inside an aggregate: collect structs, sort the array, keep the value."""
        fields = {f"k{i}": col for i, col in enumerate(order_by)} | {"v": value}
        collected = ibis.struct(fields).collect().sort()
        return collected.map(lambda s: s.v).join(sep)


def _split(chosen: tuple[Filter, ...]) -> tuple[tuple[Filter, ...], tuple[Filter, ...]]:
    """Event filters (in their order: they apply first) and case filters."""
    return (tuple(f for f in chosen if is_event_filter(f)),
            tuple(f for f in chosen if not is_event_filter(f)))


def _portable_select(ws: Workspace) -> str:
    """SELECT of the events for Parquet that Spark reads: INTERVAL columns become microseconds."""
    cols = [
        f"CAST(epoch_us(TIMESTAMP 'epoch' + {quote(n)}) AS BIGINT) AS {quote(n)}"
        if t.startswith("INTERVAL") else quote(n)
        for n, t in ws.columns()
    ]
    return f"SELECT {', '.join(cols)} FROM {EVENTS}"


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
