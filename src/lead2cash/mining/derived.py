"""What never changes between queries, computed once per loaded log: steps and case traces.

`steps`: one row per event with its position in the case (ordered by EventTime,
then event_id), the directly-following activity and the microseconds until it.
`cases`: one row per case with its trace (the variant) and the trace's id,
first and last activity, start, end and duration in microseconds.
`variant_steps`: the distinct (activity, next activity) pairs of each variant.
With the whole log, the KPIs' per-case facts and stage visits are stored too
(`kpis_facts.case_facts`), so KPIs under any filter read one row per case.
All are defined once as Ibis expressions; DuckDB stores them as tables at load
time (`derive`), Spark computes and caches them when the engine starts.

Ibis is imported inside the functions that build expressions: the SQL of the
derivations and of the standing queries over the stored tables is kept compiled
(compiled.py), so loading a log or mining it on DuckDB need not import Ibis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import duckdb

from ..store import EVENTS
from . import compiled

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from .filters import LogTables

__all__ = [
    "CASES", "CASE_FACTS", "FACT_NAMES", "KEPT", "NAMES", "REQUIRED_COLUMNS", "SEP", "STAGE_VISITS",
    "STEPS", "VARIANT_STEPS", "cases_expr", "derive", "duckdb_concat", "is_derived",
    "kept_by", "standing_sql", "steps_expr", "stored_events", "stored_tables",
    "variant_steps_expr",
]

STEPS = "mining_steps"
CASES = "mining_cases"
VARIANT_STEPS = "mining_variant_steps"
NAMES = (STEPS, CASES, VARIANT_STEPS)
CASE_FACTS = "mining_case_facts"
STAGE_VISITS = "mining_stage_visits"
FACT_NAMES = (CASE_FACTS, STAGE_VISITS)
"""The KPIs' per-case facts and stage visits, stored with the whole log (see kpis_facts)."""
KEPT = "mining_kept_cases"
"""The table of kept case ids the standing queries under a filter are compiled against."""
_KEPT_SQL = f'"{KEPT}"'
SEP = "\x1f"
"""Separator of activities inside a stored trace (the ASCII unit separator: never in a name)."""

CASE, ACT, TIME, EID = "SalesOpportunityId", "ActivityName", "EventTime", "event_id"
REQUIRED_COLUMNS: tuple[str, ...] = (CASE, ACT, TIME, EID)
"""The columns mining reads from any events source; the rest are optional attributes."""

if TYPE_CHECKING:
    OrderedConcat = Callable[[ir.StringColumn, Sequence[ir.Column], str], ir.Scalar]


def steps_expr(events: ir.Table) -> ir.Table:
    """Each event with its position and its directly-following event in the case."""
    import ibis

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
    import ibis

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
_EVENTS_TYPES = dict(zip(REQUIRED_COLUMNS, ("string", "string", "timestamp(6)", "int64")))


def _derivation_sql(names: tuple[str, str, str], keep: str | None,
                    events_table: str = EVENTS) -> tuple[str, str, str]:
    """The SELECTs that build the steps, cases and variant-steps tables of these names from
    the events in `events_table`."""
    import ibis

    events = ibis.table(_EVENTS_TYPES, name=events_table)
    if keep is not None:
        events = events.filter(events[CASE].isin(ibis.table({CASE: "string"}, name=keep)[CASE]))
    steps = steps_expr(events)
    cases = cases_expr(ibis.table(steps.schema(), name=names[0]), duckdb_concat)
    pairs = variant_steps_expr(ibis.table(cases.schema(), name=names[1]))
    return (ibis.to_sql(steps, dialect="duckdb"), ibis.to_sql(cases, dialect="duckdb"),
            ibis.to_sql(pairs, dialect="duckdb"))


# Ibis types of the store's columns by model type (store.events_ddl declares them for DuckDB).
_STORE_TYPES = {"string": "string", "timestamp": "timestamp(6)", "decimal": "float64",
                "duration": "interval('us')"}


def _fact_columns() -> dict[str, str]:
    """The events columns the stored KPI facts read: event_id and every model attribute, with
    the Ibis types of the store's declaration (store.events_ddl)."""
    from ..model import ATTRIBUTES

    return {EID: "int64"} | {a.name: _STORE_TYPES[a.type.value] for a in ATTRIBUTES}


def stored_events() -> ir.Table:
    """The stored events as an unbound Ibis table with the columns the KPI facts read (see
    `_fact_columns`): the facts' SQL compiled over it runs on any workspace."""
    import ibis

    return ibis.table(_fact_columns(), name=EVENTS)


def _whole_log_sql() -> list[str]:
    """The SELECTs that build the whole log's derived tables (`NAMES`), then its KPI facts and
    stage visits (`FACT_NAMES`, from `kpis_facts.case_facts` over the stored events and steps),
    in that order: one compiled set, kept by compiled.py."""
    import ibis

    from .kpis_facts import case_facts, stored_attributes

    events = stored_events()
    steps = ibis.table(steps_expr(events).schema(), name=STEPS)
    facts, visits = case_facts(events, None, steps, stored_attributes(events))
    return [*_derivation_sql(NAMES, None), ibis.to_sql(facts, dialect="duckdb"),
            ibis.to_sql(visits, dialect="duckdb")]


def _has_fact_columns(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the events table has every column the KPI facts read (a workspace always has;
    a Parquet log mined in place may carry the required columns only)."""
    found = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "AND table_catalog = current_database()", [EVENTS]
    ).fetchall()}
    return set(_fact_columns()) <= found


def derive(con: duckdb.DuckDBPyConnection, keep: str | None = None,
           events_table: str = EVENTS) -> tuple[str, str, str]:
    """(Re)build the derived tables from the events table; called by every load path.

    The whole log also stores its KPI case facts and stage visits (`FACT_NAMES`) when its
    events have the model's columns; this is the one write path of a loaded log's tables.
    With `keep` (a table of case ids), derive only those cases; with another `events_table`
    (a log flattened on an object type), derive that log; both into temporary tables named
    after it, without facts (a filtered engine reads the whole log's facts, restricted; a
    flattened log's KPIs are computed from its events). Returns the names of the steps, cases
    and variant-steps tables. Only the whole-log statements are kept compiled (compiled.py):
    they name the stored tables, so no other log can run them; a `keep` or flattened
    derivation is compiled each time, with its own table names.
    """
    suffix = keep or (None if events_table == EVENTS else events_table)
    if suffix is None:
        names, create = NAMES, "CREATE OR REPLACE TABLE"
        sql = compiled.statements("derived", _whole_log_sql)
        tables = (*NAMES, *FACT_NAMES)
        if not _has_fact_columns(con):  # a Parquet log with the required columns only
            sql, tables = sql[: len(NAMES)], NAMES
            for name in FACT_NAMES:  # never leave another log's facts behind
                con.execute(f"DROP TABLE IF EXISTS {name}")
    else:
        names = (f"{STEPS}_{suffix}", f"{CASES}_{suffix}", f"{VARIANT_STEPS}_{suffix}")
        create = "CREATE OR REPLACE TEMP TABLE"
        sql, tables = list(_derivation_sql(names, keep, events_table)), names
    for name, select in zip(tables, sql, strict=True):
        con.execute(f"{create} {name} AS {select}")
    return names


def stored_tables() -> LogTables:
    """The events and the derived tables as unbound Ibis tables named as stored, with the
    schemas the derivations give them; `events` has the required columns only. A query over
    these compiles to SQL that runs on any workspace (see compiled.py)."""
    import ibis

    from .filters import LogTables

    events = ibis.table(_EVENTS_TYPES, name=EVENTS)
    steps = steps_expr(events)
    cases = cases_expr(ibis.table(steps.schema(), name=STEPS), duckdb_concat)
    pairs = variant_steps_expr(ibis.table(cases.schema(), name=CASES))
    return LogTables(events, ibis.table(steps.schema(), name=STEPS),
                     ibis.table(cases.schema(), name=CASES),
                     ibis.table(pairs.schema(), name=VARIANT_STEPS))


def standing_sql(build: Callable[[LogTables], Sequence[ir.Table]], kept: bool = False) -> list[str]:
    """Compile the queries `build` makes of the whole stored log (see `stored_tables`); with
    `kept`, of the stored log restricted to the case ids of a table named `KEPT`, which
    `kept_by` replaces by the name of the table of a filter's kept cases."""
    import ibis

    tables = stored_tables()
    if kept:
        from .filters import restrict

        tables = restrict(tables, ibis.table({CASE: "string"}, name=KEPT)[CASE])
    sql = [ibis.to_sql(q, dialect="duckdb") for q in build(tables)]
    if kept and not all(_KEPT_SQL in q for q in sql):
        raise AssertionError(f"a kept standing query does not read {KEPT}")  # kept_by relies on it
    return sql


def kept_by(sql: str, name: str) -> str:
    """A kept standing query (`standing_sql(..., kept=True)`) over the case ids of table `name`
    (a name the engine made: letters, digits and underscores)."""
    assert name.isidentifier(), name
    return sql.replace(_KEPT_SQL, f'"{name}"')


def is_derived(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the derived tables exist (logs loaded by older versions lack them)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN (?, ?, ?) "
        "AND table_catalog = current_database()",
        [STEPS, CASES, VARIANT_STEPS],
    ).fetchone()
    return bool(row and row[0] == 3)
