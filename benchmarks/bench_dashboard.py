"""Benchmark the dashboard: server time per view, with and without a filter, and the report.

    .venv/bin/python benchmarks/bench_dashboard.py [--events 1000000] [--runs 5] [--db WS]

Builds a workspace from a simulated company (about 8.4 events per opportunity, Salesforce +
SAP S/4HANA through the connectors, as `lead2cash demo` does) unless --db names one, then asks
every page of the dashboard in-process (FastAPI TestClient: routing, the views, the template),
each N times:

- cold: the pages, the views' results, the scopes' case facts and the filters' selected cases
  are forgotten before each request, so the view computes everything it needs under its filter
  (the filter's cases on DuckDB, their facts taken from the whole log's facts in memory, the
  KPIs, the map, ...): what the first analyst asking for that view and a new filter waits.
  What the server reads once when it starts, in the background, stays (timed apart): the log's
  case ids, the whole log's case facts and the per-case values the unfiltered KPIs computed
  over them, the filter bar's menus, the data-quality checks and the object statistics
  (whole-log data, the same under every filter);
- warm: the same request again (the finished page or JSON, cached per workspace version and
  URL).

For the filtered cold requests it also prints the process's CPU time during the request (every
thread's: the request's and DuckDB's workers): on a machine busy with other work, the wall time
includes waiting for a core, the CPU time does not.

Prints a markdown table of the median server time per view, unfiltered and filtered
(`SalesRegion = 'EMEA'`, about a third of the cases), then the report's generation time and
size. The machine's load shows in the figures: compare runs, not single numbers.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from lead2cash.app.scope import Scope
from lead2cash.app.views import Dashboard
from lead2cash.web import create_app
from lead2cash.web.report import render_report

EVENTS_PER_CASE = 8.4
VIEWS = {
    "overview": "/",
    "process map (40 % paths)": "/map?paths=0.4",
    "map JSON, slider moved (20 % paths)": "/api/map?paths=0.2",
    "variants": "/variants",
    "funnel & stages": "/funnel",
    "discount effectiveness": "/discounts",
    "order to cash": "/o2c",
    "compare (won vs lost)": "/compare",
    "case list (late payments)": "/cases?set=late",
    "edge click: case fragment": "/fragments/cases?follows=Quote%20Issued&to=Opportunity%20Won",
    "case explorer search": "/fragments/search?text=Global",
    "animation data (400 cases)": "/api/animation",
    "data quality": "/quality",
    "conformance (rules, replay, map)": "/conformance",
    "drivers (of lost)": "/drivers",
    "objects (whole log)": "/objects",
}
FILTER = {"region": "EMEA"}


def build(out: Path, events: int) -> Path:
    """A simulated company's workspace of about `events` events; returns its path."""
    from lead2cash.simulate import simulate
    from lead2cash.simulate.landscape import landscape
    from lead2cash.sources.registry import extract
    from lead2cash.store import Workspace

    cases = max(100, round(events / EVENTS_PER_CASE))
    t = time.perf_counter()
    sim = simulate(out, cases, 7, "salesforce+sap-s4hana")
    print(f"simulated {sim.cases:,} opportunities, {sim.events:,} events in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    with Workspace(out / "bench.duckdb", memory_limit="2GB") as ws:
        extract(ws, {m.KEY: out / m.KEY for m in landscape("salesforce+sap-s4hana").systems})
    print(f"extracted and loaded (derived tables and case facts included) in {time.perf_counter() - t:.1f} s")
    return out / "bench.duckdb"


def timed(client: TestClient, dash: Dashboard, path: str, params: dict[str, str],
          cold: bool) -> tuple[float, float]:
    """Server time of one request and the process's CPU time during it (every thread: the
    request's and DuckDB's), in seconds (caches emptied first when `cold`)."""
    if cold:  # forget every page, result, scope's facts and filter's cases; keep the whole log's data
        if hasattr(client.app.state, "response_cache"):
            client.app.state.response_cache.clear()
        dash.cache.clear()
        dash._facts.clear()
        dash.selection.forget()
    t, cpu = time.perf_counter(), time.process_time()
    r = client.get(path, params=params)
    took, used = time.perf_counter() - t, time.process_time() - cpu
    if r.status_code != 200:
        raise SystemExit(f"{path}: HTTP {r.status_code}: {r.text[:300]}")
    return took, used


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", type=Path, help="an existing workspace instead of a simulated one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        db = args.db or build(Path(tmp), args.events)
        t = time.perf_counter()
        dash = Dashboard(db)
        print(f"dashboard opened in {time.perf_counter() - t:.2f} s")
        print("read once per server start, in the background (Dashboard.prewarm):")
        t0 = time.perf_counter()
        for label, step in (("the filter bar's menus", dash.choices),
                            ("the log's case ids", dash.selection.cases),
                            ("the whole log's case facts", dash.all_facts),
                            ("the unfiltered overview (per-case values)", lambda: dash.overview(Scope())),
                            ("the unfiltered order to cash (groups)", lambda: dash.order_to_cash(Scope())),
                            ("the data-quality checks", dash.quality),
                            ("the object statistics", dash.objects)):
            t = time.perf_counter()
            step()
            print(f"  {label}: {time.perf_counter() - t:.2f} s")
        print(f"  in all {time.perf_counter() - t0:.2f} s")
        client = TestClient(create_app(dash))
        print(f"\n| view (median of {args.runs}) | all cases, cold | all, warm | EMEA, cold "
              "| EMEA, cold: CPU | EMEA, warm |")
        print("|---|---|---|---|---|---|")
        for name, path in VIEWS.items():
            cells = []
            for params in ({}, FILTER):
                for cold in (True, False):
                    runs = [timed(client, dash, path, params, cold) for _ in range(args.runs)]
                    cells.append(f"{statistics.median(r[0] for r in runs) * 1000:,.0f} ms")
                    if cold and params:
                        cells.append(f"{statistics.median(r[1] for r in runs) * 1000:,.0f} ms")
            print(f"| {name} | {' | '.join(cells)} |")
        for label, filters in (("all cases", []), ("EMEA", ["SalesRegion = 'EMEA'"])):
            dash.cache.clear()
            dash._facts.clear()
            dash.selection.forget()
            t = time.perf_counter()
            html = render_report(dash, filters)
            took = time.perf_counter() - t
            print(f"\nreport ({label}): {took:.2f} s, {len(html.encode()) / 1e6:.2f} MB")
        dash.close()


if __name__ == "__main__":
    main()
