"""What never changes between queries, computed once per loaded log: steps and case traces.

`steps`: one row per event with its position in the case (ordered by EventTime,
then event_id), the directly-following activity and the microseconds until it.
`cases`: one row per case with its trace (the variant) and the trace's id,
first and last activity, start, end and duration in microseconds.
`variant_steps`: the distinct (activity, next activity) pairs of each variant.
All are defined once as Ibis expressions; DuckDB stores them as tables at load
time (`derive`), Spark computes and caches them when the engine starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb
import ibis
import ibis.expr.types as ir

from ..store import EVENTS

__all__ = [
    "CASES", "NAMES", "REQUIRED_COLUMNS", "SEP", "STEPS", "VARIANT_STEPS", "cases_expr", "derive",
    "duckdb_concat", "is_derived", "steps_expr", "variant_steps_expr",
]

STEPS = "mining_steps"
CASES = "mining_cases"
VARIANT_STEPS = "mining_variant_steps"
NAMES = (STEPS, CASES, VARIANT_STEPS)
SEP = "\x1f"
"""Separator of activities inside a stored trace (the ASCII unit separator: never in a name)."""

CASE, ACT, TIME, EID = "SalesOpportunityId", "ActivityName", "EventTime", "event_id"
REQUIRED_COLUMNS: tuple[str, ...] = (CASE, ACT, TIME, EID)
"""The columns mining reads from any events source; the rest are optional attributes."""

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
    """One row per case: trace and its id, first/last activity, start, end, events, duration_us."""
    agg = steps.group_by(CASE).aggregate(
        variant=ordered_concat(steps[ACT], [steps.pos], SEP),
        events=steps.count(),
        first_activity=steps[ACT].max(where=steps.pos == 0),
        last_activity=steps[ACT].max(where=steps.target_id.isnull()),
        start_time=steps[TIME].min(),
        end_time=steps[TIME].max(),
    )
    return agg.mutate(
        duration_us=agg.end_time.delta(agg.start_time, unit="microsecond"),
        variant_id=ibis.dense_rank().over(ibis.window(order_by=agg.variant)),
    )


def variant_steps_expr(cases: ir.Table) -> ir.Table:
    """Each variant's distinct (activity, next activity) pairs, read off the variant strings
    (few) rather than the events (many); per-activity and per-edge case counts then come
    from variant counts instead of a count(distinct) over all events."""
    v = cases.group_by("variant_id").aggregate(variant=cases.variant.max())
    acts = v.select("variant_id", act=v.variant.split(SEP)).unnest("act", offset="i")
    after = acts.select(vid=acts.variant_id, target=acts.act, j=acts.i - 1)
    pairs = acts.left_join(after, [acts.variant_id == after.vid, acts.i == after.j])
    return pairs.select("variant_id", **{ACT: pairs.act}, target=pairs.target).distinct()


def duckdb_concat(value: ir.StringColumn, order_by: Sequence[ir.Column], sep: str) -> ir.Scalar:
    """DuckDB's native ordered string aggregation (`string_agg ... ORDER BY`)."""
    return value.group_concat(sep, order_by=list(order_by))


# The store's contract for the columns the derivation reads (see store.events_ddl).
_EVENTS_SCHEMA = ibis.schema(dict(zip(REQUIRED_COLUMNS, ("string", "string", "timestamp(6)", "int64"))))


def derive(con: duckdb.DuckDBPyConnection, keep: str | None = None,
           source: str = EVENTS) -> tuple[str, str, str]:
    """(Re)build the derived tables from the events table; called by every load path.

    With `keep` (a table of case ids), derive only those cases, into temporary tables named
    after it; with `source` (a table of events, e.g. after event filters), derive that table
    into temporary tables named after it. Returns the names of the steps, cases and
    variant-steps tables.
    """
    events = ibis.table(_EVENTS_SCHEMA, name=source)
    if keep is not None:
        events = events.filter(events[CASE].isin(ibis.table({CASE: "string"}, name=keep)[CASE]))
    tag = keep if keep is not None else (None if source == EVENTS else source)
    names = NAMES if tag is None else (f"{STEPS}_{tag}", f"{CASES}_{tag}", f"{VARIANT_STEPS}_{tag}")
    create = "CREATE OR REPLACE TABLE" if tag is None else "CREATE OR REPLACE TEMP TABLE"
    steps = steps_expr(events)
    con.execute(f"{create} {names[0]} AS {ibis.to_sql(steps, dialect='duckdb')}")
    cases = cases_expr(ibis.table(steps.schema(), name=names[0]), duckdb_concat)
    con.execute(f"{create} {names[1]} AS {ibis.to_sql(cases, dialect='duckdb')}")
    pairs = variant_steps_expr(ibis.table(cases.schema(), name=names[1]))
    con.execute(f"{create} {names[2]} AS {ibis.to_sql(pairs, dialect='duckdb')}")
    return names


def is_derived(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the derived tables exist (logs loaded by older versions lack them)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN (?, ?, ?)",
        [STEPS, CASES, VARIANT_STEPS],
    ).fetchone()
    return bool(row and row[0] == 3)
