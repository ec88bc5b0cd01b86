"""Benchmark the mining core against pm4py and against a bare DuckDB query (the floor).

    .venv/bin/python benchmarks/bench_mining.py --events 1000000 [--memory 2GB] [--runs 3]
        [--no-pm4py] [--spark] [--keep DIR]

Simulates a Lead-to-Cash log of about N events (`lead2cash.simulate`, Salesforce
landscape, its ground-truth Parquet), then times the process map with durations
and the variants, unfiltered and filtered (cases in EMEA):
- ours on the imported workspace (the derived tables were built at import);
- ours end to end from the Parquet file (`DuckDBEngine.from_parquet`: read, derive lazily,
  under the filter only the kept cases, queries);
- pm4py 2.7 on its pandas frame (in memory), and end to end (read, format, queries);
- the floor: one DuckDB connection sorting and windowing the same Parquet file;
- optionally the Spark engine (local[2]) reading the same Parquet.
Prints medians and ratios as markdown, and checks that every method found the same edges.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from lead2cash.io.importer import import_log
from lead2cash.mining import (
    Attribute,
    DuckDBEngine,
    Engine,
    SparkEngine,
    derived,
    dfg,
    spark_session,
    variants,
)
from lead2cash.simulate.runner import simulate
from lead2cash.store import Workspace

EVENTS_PER_CASE = 8.7  # what the simulator's Salesforce landscape produces on average
REGION = "EMEA"


def timed(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Median wall-clock seconds of `runs` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def ours(engine: Engine, filtered: bool) -> tuple[int, int]:
    """Process map with durations plus variants; returns (transitions, variants)."""
    filters = [Attribute("SalesRegion", "=", REGION)] if filtered else []
    pm = dfg.discover(engine, filters)
    vs = variants.discover(engine, filters)
    return sum(e.frequency for e in pm.edges), vs.total_variants


def from_parquet(parquet: Path, memory: str, filtered: bool) -> tuple[int, int]:
    """Ours straight from the file: read, derive (sort, window, traces; under a filter only
    the kept cases), then the queries."""
    with DuckDBEngine.from_parquet(parquet, memory_limit=memory, threads=2) as engine:
        return ours(engine, filtered)


def floor(parquet: Path, memory: str, filtered: bool) -> tuple[int, int]:
    """The same two answers from one bare DuckDB connection over the Parquet file."""
    con = duckdb.connect(config={"memory_limit": memory, "threads": 2})
    src = "read_parquet(?)"
    where = (f"WHERE SalesOpportunityId IN (SELECT SalesOpportunityId FROM {src} "
             f"WHERE SalesRegion = ?)") if filtered else ""
    params = [str(parquet), str(parquet), REGION] if filtered else [str(parquet)]
    edges = con.execute(f"""
        WITH s AS (SELECT ActivityName a, EventTime t,
                     lead(ActivityName) OVER w AS b, lead(EventTime) OVER w AS u
                   FROM {src} {where}
                   WINDOW w AS (PARTITION BY SalesOpportunityId ORDER BY EventTime, event_id))
        SELECT a, b, count(*) n, avg(date_diff('microsecond', t, u)),
               median(date_diff('microsecond', t, u)),
               quantile_cont(date_diff('microsecond', t, u), 0.9), max(date_diff('microsecond', t, u))
        FROM s WHERE b IS NOT NULL GROUP BY a, b""", params).fetchall()
    n_variants = con.execute(f"""
        SELECT count(*) FROM (SELECT v, count(*) FROM (
          SELECT string_agg(ActivityName, '|' ORDER BY EventTime, event_id) v
          FROM {src} {where} GROUP BY SalesOpportunityId) GROUP BY v)""", params).fetchone()
    con.close()
    return sum(r[2] for r in edges), int(n_variants[0]) if n_variants else 0


def pm4py_frame(parquet: Path) -> Any:
    """pm4py's input: the Parquet read by pandas, then `format_dataframe`."""
    import pandas as pd
    import pm4py

    df = pd.read_parquet(parquet, columns=["SalesOpportunityId", "ActivityName", "EventTime",
                                            "event_id", "SalesRegion"])
    df = df.sort_values("event_id", kind="stable")
    return pm4py.format_dataframe(df, case_id="SalesOpportunityId", activity_key="ActivityName",
                                  timestamp_key="EventTime")


def pm4py_queries(df: Any, filtered: bool) -> tuple[int, int]:
    """pm4py's process map with performance, and its variants."""
    import pm4py

    if filtered:
        df = pm4py.filter_event_attribute_values(df, "SalesRegion", [REGION], level="case")
    counts, _, _ = pm4py.discover_dfg(df)
    pm4py.discover_performance_dfg(df)
    return sum(counts.values()), len(pm4py.get_variants(df))


def main() -> None:
    """Simulate, load, time every method, print a markdown table with ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--memory", default="2GB", help="DuckDB memory_limit for ours and the floor")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-pm4py", dest="pm4py", action="store_false")
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--keep", type=Path, help="keep the simulated data in this folder")
    args = ap.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench-mining-"))
    parquet = tmp / "log.parquet"
    if not parquet.exists():
        t = time.perf_counter()
        truth = simulate(tmp, round(args.events / EVENTS_PER_CASE), args.seed,
                         landscape="salesforce").ground_truth
        # SalesCycleDuration is stored as integer microseconds there, which the importer reads
        # as seconds (and overflows); the mining benchmark does not need it.
        duckdb.execute(f"COPY (SELECT * EXCLUDE (SalesCycleDuration) FROM read_parquet('{truth}'))"
                       f" TO '{parquet}' (FORMAT parquet)")
        print(f"simulated in {time.perf_counter() - t:.1f} s")
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchall()[0][0]
    rows: dict[str, dict[bool, float]] = {}
    answers: dict[str, dict[bool, tuple[int, int]]] = {}

    def record(name: str, filtered: bool, seconds: float, answer: tuple[int, int]) -> None:
        rows.setdefault(name, {})[filtered] = seconds
        answers.setdefault(name, {})[filtered] = answer
        print(f"  {name:<45} {'filtered' if filtered else 'all':>8} {seconds:8.2f} s  {answer}")

    ws_path = tmp / "bench.duckdb"

    def import_fresh() -> Workspace:
        ws_path.unlink(missing_ok=True)
        ws = Workspace(ws_path, memory_limit=args.memory, threads=2)
        import_log(ws, parquet)
        return ws

    t_import, ws = timed(1, import_fresh)
    print(f"{n:,} events; `import_log` (checks, conversion, derived tables): {t_import:.2f} s")
    t_derive, _ = timed(1, lambda: derived.derive(ws.con))
    print(f"  of which the derived tables (steps, traces): {t_derive:.2f} s")
    engine = DuckDBEngine(ws)
    for filtered in (False, True):
        record("ours, imported workspace", filtered, *timed(args.runs, lambda: ours(engine, filtered)))
        record("ours, end to end from Parquet", filtered,
               *timed(args.runs, lambda: from_parquet(parquet, args.memory, filtered)))
        s, a = timed(args.runs, lambda: floor(parquet, args.memory, filtered))
        record("floor: bare DuckDB sort+window on Parquet", filtered, s, a)
    ws.close()
    if args.pm4py:
        t_read, df = timed(1, lambda: pm4py_frame(parquet))
        for filtered in (False, True):
            s, a = timed(args.runs, lambda: pm4py_queries(df, filtered))
            record("pm4py 2.7, in memory", filtered, s, a)
            rows.setdefault("pm4py 2.7, end to end from Parquet", {})[filtered] = t_read + s
        del df
    if args.spark:
        eng, session = None, spark_session()
        t_spark, eng = timed(1, lambda: SparkEngine(session, parquet))
        for filtered in (False, True):
            record("Spark local[2] (after load)", filtered, *timed(args.runs, lambda: ours(eng, filtered)))
        print(f"Spark load and derive: {t_spark:.1f} s")
    _report(n, args, rows, answers)


def _report(n: int, args: argparse.Namespace, rows: dict[str, dict[bool, float]],
            answers: dict[str, dict[bool, tuple[int, int]]]) -> None:
    """Print the markdown table and the ratios the targets are about."""
    for filtered in (False, True):
        assert len({a[filtered] for a in answers.values()}) == 1, f"methods disagree: {answers}"
    print(f"\n{n:,} events, DuckDB memory_limit {args.memory}, 2 threads, median of {args.runs}"
          f" (DFG with durations + variants)\n")
    print("| method | all cases | cases in EMEA |\n|---|---|---|")
    for name, t in rows.items():
        print(f"| {name} | {t[False]:.2f} s | {t[True]:.2f} s |")
    pairs = [("pm4py 2.7, in memory", "ours, imported workspace", "x faster (target >= 10)"),
             ("pm4py 2.7, end to end from Parquet", "ours, end to end from Parquet",
              "x faster (target >= 3)"),
             ("ours, end to end from Parquet", "floor: bare DuckDB sort+window on Parquet",
              "x the floor (target <= 2)")]
    for a, b, what in pairs:
        if a in rows and b in rows:
            ratios = ", ".join(f"{rows[a][f] / rows[b][f]:.1f}" for f in (False, True))
            print(f"- {a} / {b}: {ratios} {what}")


if __name__ == "__main__":
    main()
