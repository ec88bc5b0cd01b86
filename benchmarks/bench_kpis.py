"""Benchmark `mine kpis` on a synthetic log of N events (default 1M) in a DuckDB workspace.

    .venv/bin/python benchmarks/bench_kpis.py [--events 1000000] [--memory 2GB] [--spark]

Generates the log with one SQL statement (won, lost and open deals; reopen and regression loops;
amounts, discounts, terms, regions), loads it as a workspace, then times the KPIs: whole log, by
region, by amount bands, filtered, and in working time with per-region calendars. Best of 3.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lead2cash.mining import DuckDBEngine, SparkEngine, parse_filters
from lead2cash.mining.calendar import BUILTIN_CALENDARS, CalendarSet
from lead2cash.mining.kpis import report
from lead2cash.store import CORE_COLUMNS, Workspace

WON_PATH = ["Opportunity Created", "Opportunity Qualified", "Requirements Gathered",
            "Solution Proposed", "Quote Issued", "Quote Accepted", "Contract Signed",
            "Opportunity Won", "Sales Order Created", "Order Fulfilled", "Invoice Generated",
            "Payment Received"]
LOST_PATH = [*WON_PATH[:5], "Opportunity Lost"]
OPEN_PATH = WON_PATH[:3]
REWORK = ["Solution Proposed", "Requirements Gathered"]  # a regression after the quote


def _steps_sql() -> str:
    """VALUES of (path, position, activity) for the three paths."""
    rows = [(p, i, a) for p, acts in (("won", WON_PATH), ("lost", LOST_PATH), ("open", OPEN_PATH))
            for i, a in enumerate(acts)]
    rows += [("rework", i, a) for i, a in enumerate(REWORK)]
    return ", ".join(f"('{p}', {i}, '{a}')" for p, i, a in rows)


def generate(ws: Workspace, events: int) -> int:
    """Write a synthetic log of about `events` events into the workspace; return the exact count."""
    cases = events * 10 // 85  # about 8.5 events per case with this mix
    select = f"""
    WITH c AS (
      SELECT i, CAST(hash(i) % 1000000007 AS BIGINT) AS h,
        CASE WHEN hash(i) % 100 < 45 THEN 'won' WHEN hash(i) % 100 < 80 THEN 'lost' ELSE 'open' END AS path,
        TIMESTAMP '2023-01-01' + to_microseconds(CAST(hash(i * 7) % 31536000000000 AS BIGINT)) AS t0
      FROM range({cases}) r(i)
    ), s AS (SELECT * FROM (VALUES {_steps_sql()}) v(path, k, act)),
    e AS (
      SELECT c.i, c.h, c.path, s.k AS k, s.act, c.t0 FROM c JOIN s USING (path)
      UNION ALL
      SELECT c.i, c.h, c.path, 4 + s.k AS k, s.act, c.t0 + INTERVAL 1 DAY FROM c JOIN s ON s.path = 'rework'
      WHERE c.h % 10 = 0 AND c.path <> 'open'
    )
    SELECT row_number() OVER () AS event_id,
      'OPP-' || lpad(CAST(i AS VARCHAR), 9, '0') AS SalesOpportunityId, act AS ActivityName,
      t0 + to_microseconds(CAST(k * 86400000000 * (1 + h % 7) + hash(i, k) % 3600000000 AS BIGINT))
        AS EventTime,
      'Salesforce CRM' AS SourceSystem, TIMESTAMP '2024-06-01' AS LastDataUpdate,
      CAST(1000 + h % 200000 AS DOUBLE) AS OpportunityAmount, 'Customer ' || (h % 5000) AS CustomerName,
      (h % 40) / 100.0 AS DiscountPercentage, 'Rep ' || (h % 50) AS OpportunityOwner,
      ['North America', 'EMEA', 'APAC', 'LATAM'][1 + h % 4] AS SalesRegion,
      NULL AS OpportunityOutcome, ['Website', 'Partner Referral', 'Trade Show'][1 + h % 3] AS LeadSource,
      NULL AS SalesStage, NULL AS ProductCategory,
      ['Net 30', 'Net 60', 'Due on Receipt', '50% upfront / 50% on delivery'][1 + h % 4] AS PaymentTerms,
      NULL AS SalesCycleDuration, NULL AS OpportunityType, 'explicit' AS event_type, NULL AS source_record
    FROM e"""
    with ws.transaction():
        ws.replace_log(select, {}, {"input": "synthetic benchmark log"})
    row = ws.con.execute("SELECT count(*) FROM events").fetchone()
    assert row and tuple(ws.columns()[i][0] for i in range(len(CORE_COLUMNS))) == CORE_COLUMNS
    return int(row[0])


def best_of(runs: int, fn: Callable[[], Any]) -> float:
    """Fastest wall-clock time of `runs` calls, in seconds."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    """Generate, load, time each KPI variant, print a markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--memory", default="2GB")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--spark", action="store_true", help="also time the whole-log KPIs on Spark local")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "bench.duckdb", memory_limit=args.memory)
        t = time.perf_counter()
        n = generate(ws, args.events)
        engine = DuckDBEngine(ws)
        print(f"{n:,} events generated and derived in {time.perf_counter() - t:.1f} s")
        regional = CalendarSet(BUILTIN_CALENDARS["default"],
                               {"EMEA": BUILTIN_CALENDARS["de"], "North America": BUILTIN_CALENDARS["us"]})
        emea = parse_filters(["SalesRegion = 'EMEA'"])
        cases: dict[str, Callable[[], Any]] = {
            "whole log": lambda: report(engine),
            "--by SalesRegion": lambda: report(engine, by="SalesRegion"),
            "--amount-bands 10000,50000,100000": lambda: report(
                engine, amount_bands=[10000, 50000, 100000]),
            "--filter \"SalesRegion = 'EMEA'\"": lambda: report(engine, emea),
            "--working-time (per-region calendars)": lambda: report(engine, calendar=regional),
        }
        print(f"\n| KPIs on {n:,} events (DuckDB, memory_limit {args.memory}) | best of {args.runs} |")
        print("|---|---|")
        for name, fn in cases.items():
            print(f"| {name} | {best_of(args.runs, fn):.2f} s |")
        if args.spark:
            t = time.perf_counter()
            spark = SparkEngine.from_workspace(ws)
            print(f"| Spark local: export + session start | {time.perf_counter() - t:.1f} s |")
            print(f"| Spark local: whole log | {best_of(args.runs, lambda: report(spark)):.2f} s |")
        ws.close()


if __name__ == "__main__":
    main()
