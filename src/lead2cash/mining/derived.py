"""What never changes between queries, computed once per loaded log: steps and case traces.

`steps`: one row per event with its position in the case (ordered by EventTime,
then event_id), the directly-following activity and the microseconds until it.
`cases`: one row per case with its trace (the variant), first and last
activity, start, end and duration in microseconds. Both are defined once as
Ibis expressions; DuckDB stores them as tables at load time (`derive`), Spark
computes and caches them when the engine starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb
import ibis
import ibis.expr.types as ir

from ..store import EVENTS

__all__ = ["CASES", "SEP", "STEPS", "cases_expr", "derive", "duckdb_concat", "is_derived", "steps_expr"]

STEPS = "mining_steps"
CASES = "mining_cases"
SEP = "\x1f"
"""Separator of activities inside a stored trace (the ASCII unit separator: never in a name)."""

CASE, ACT, TIME, EID = "SalesOpportunityId", "ActivityName", "EventTime", "event_id"

OrderedConcat = Callable[[ir.StringColumn, Sequence[ir.Column], str], ir.Scalar]


def steps_expr(events: ir.Table) -> ir.Table:
    """Each event with its position and its directly-following event in the case."""
    w = ibis.window(group_by=events[CASE], order_by=[events[TIME], events[EID]])
    x = events.select(
        events[CASE],
        events[ACT],
        events[TIME],
        events[EID],
        pos=ibis.row_number().over(w),
        target=events[ACT].lead().over(w),
        target_time=events[TIME].lead().over(w),
        target_id=events[EID].lead().over(w),
    )
    return x.select(
        CASE, ACT, TIME, EID, "pos", "target", "target_id",
        duration_us=x.target_time.delta(x[TIME], unit="microsecond"),
    )


def cases_expr(steps: ir.Table, ordered_concat: OrderedConcat) -> ir.Table:
    """One row per case: trace, first/last activity, start, end, events, duration_us."""
    agg = steps.group_by(CASE).aggregate(
        variant=ordered_concat(steps[ACT], [steps[TIME], steps[EID]], SEP),
        events=steps.count(),
        first_activity=steps[ACT].max(where=steps.pos == 0),
        last_activity=steps[ACT].max(where=steps.target_id.isnull()),
        start_time=steps[TIME].min(),
        end_time=steps[TIME].max(),
    )
    return agg.mutate(duration_us=agg.end_time.delta(agg.start_time, unit="microsecond"))


def duckdb_concat(value: ir.StringColumn, order_by: Sequence[ir.Column], sep: str) -> ir.Scalar:
    """DuckDB's native ordered string aggregation (`string_agg ... ORDER BY`)."""
    return value.group_concat(sep, order_by=list(order_by))


# The store's contract for the columns the derivation reads (see store.events_ddl).
_EVENTS_SCHEMA = ibis.schema({CASE: "string", ACT: "string", TIME: "timestamp(6)", EID: "int64"})


def derive(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the derived tables from the events table; called by every load path."""
    steps = steps_expr(ibis.table(_EVENTS_SCHEMA, name=EVENTS))
    con.execute(f"CREATE OR REPLACE TABLE {STEPS} AS {ibis.to_sql(steps, dialect='duckdb')}")
    cases = cases_expr(ibis.table(steps.schema(), name=STEPS), duckdb_concat)
    con.execute(f"CREATE OR REPLACE TABLE {CASES} AS {ibis.to_sql(cases, dialect='duckdb')}")


def is_derived(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the derived tables exist (logs loaded by older versions lack them)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN (?, ?)", [STEPS, CASES]
    ).fetchone()
    return bool(row and row[0] == 2)
