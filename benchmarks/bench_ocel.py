"""Benchmark OCEL 2.0 export and import against pm4py's writer and reader on the same files,
and what the object tables cost a load.

    .venv/bin/python benchmarks/bench_ocel.py [--opportunities 20000] [--runs 3] [--only ...]
    .venv/bin/python benchmarks/bench_ocel.py --flat-events 1000000   # object tables at load

A seeded synthetic object-centric Lead-to-Cash log (opportunities with 1-3 quotes; won ones an
order delivered in 1-2 parts and billed in 1-2 invoices; payments clearing one or two of a
customer's invoices) is written once as OCEL 2.0 JSON and imported into a workspace. Then,
per format (json, xml, sqlite): `export` times our writer from that workspace, `pm4py-write`
pm4py's writer from the same log (read untimed first); `import` times our import of the file
we wrote, `pm4py-read` pm4py.read_ocel2 of the same file. Rounds are interleaved and every
timed step runs in a fresh process (library imported and warmed up untimed), as in
bench_xes_import.py; CPU time (all threads) and peak RSS are reported too.

`--flat-events N` imports a flat log of N events (Parquet, the model's columns) and reports
the time the load spends building the object tables (one Opportunity per case, E2O for every
event, the case attributes' history) and the workspace size with and without them.
pm4py is AGPL and only ever runs here and in tests, never in lead2cash.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from peak_memory import peak_rss_mb

REPO = Path(__file__).resolve().parents[1]
WARMUP = REPO / "tests" / "data" / "ocel" / "lead2cash-small.json"
FORMATS = ("json", "xml", "sqlite")
STEPS = ("export", "pm4py-write", "import", "pm4py-read")


def synthetic(opportunities: int, seed: int = 7) -> dict:
    """A seeded object-centric Lead-to-Cash log as an OCEL 2.0 JSON document."""
    rnd = random.Random(seed)
    start = datetime(2024, 1, 1)
    objects: list[dict] = []
    events: list[dict] = []
    pending: dict[str, list[tuple[str, datetime]]] = {}

    def obj(oid: str, otype: str, attrs: list[tuple[str, str, datetime | None]] = (),
            rels: list[tuple[str, str]] = ()) -> None:
        objects.append({"id": oid, "type": otype, "attributes": [
            {"name": n, "value": v, "time": (t or datetime(1970, 1, 1)).isoformat() + "Z"}
            for n, v, t in attrs], "relationships": [{"objectId": o, "qualifier": q} for o, q in rels]})

    def ev(activity: str, t: datetime, rels: list[tuple[str, str]], attrs=()) -> None:
        events.append({"id": f"e{len(events)}", "type": activity, "time": t.isoformat() + "Z",
                       "attributes": [{"name": n, "value": v} for n, v in attrs],
                       "relationships": [{"objectId": o, "qualifier": q} for o, q in rels]})

    customers = max(1, opportunities // 8)
    for c in range(customers):
        obj(f"C{c}", "Customer", [("country", rnd.choice(["DE", "FR", "US", "JP"]), None)])
    for i in range(opportunities):
        t = start + timedelta(minutes=rnd.randrange(0, 525_600))
        opp, cust, amount = f"O{i}", f"C{rnd.randrange(customers)}", rnd.randrange(5, 500) * 100
        won = rnd.random() < 0.6
        obj(opp, "Opportunity", [("OpportunityAmount", str(amount), None)]
            + ([("OpportunityAmount", str(amount * 1.1), t + timedelta(days=9))] if won else []),
            [(cust, "customer")])
        ev("Opportunity Created", t, [(opp, "creates"), (cust, "concerns")], [("OpportunityOwner", f"rep{i % 40}")])
        quotes = [f"Q{i}-{k}" for k in range(rnd.randint(1, 3))]
        for k, q in enumerate(quotes):
            t += timedelta(hours=rnd.randint(2, 72))
            obj(q, "Quote", [("net", str(amount - 100 * k), None)], [(opp, "quote of")])
            ev("Quote Issued", t, [(q, "creates"), (opp, "quotes")])
        t += timedelta(days=rnd.randint(1, 9))
        if not won:
            ev("Opportunity Lost", t, [(opp, "loses")])
            continue
        ev("Quote Accepted", t, [(quotes[-1], "accepts"), (opp, "accepts")])
        ev("Opportunity Won", t + timedelta(minutes=5), [(opp, "wins")])
        order = f"SO{i}"
        t += timedelta(hours=rnd.randint(1, 48))
        obj(order, "SalesOrder", [("net", str(amount), None)], [(quotes[-1], "order of")])
        ev("Sales Order Created", t, [(order, "creates"), (quotes[-1], "orders"), (opp, "orders")])
        for d in range(rnd.randint(1, 2)):
            t += timedelta(days=rnd.randint(1, 6))
            obj(f"D{i}-{d}", "Delivery", [], [(order, "delivery of")])
            ev("Order Fulfilled", t, [(f"D{i}-{d}", "creates"), (order, "fulfils")])
        for n in range(rnd.randint(1, 2)):
            t += timedelta(days=rnd.randint(0, 3))
            inv = f"I{i}-{n}"
            obj(inv, "Invoice", [("status", "open", None), ("status", "paid", t + timedelta(days=30))],
                [(order, "invoice of")])
            ev("Invoice Generated", t, [(inv, "creates"), (order, "bills")], [("amount", str(amount // 2))])
            pending.setdefault(cust, []).append((inv, t))
        if len(pending[cust]) >= 2 or rnd.random() < 0.5:  # a payment clears what is open
            invoices = pending.pop(cust)
            pay, t_pay = f"P{i}", max(x for _, x in invoices) + timedelta(days=rnd.randint(5, 40))
            obj(pay, "Payment", [], [(x, "clears") for x, _ in invoices])
            ev("Payment Received", t_pay, [(pay, "creates"), *((x, "clears") for x, _ in invoices)])
    events.sort(key=lambda e: e["time"])
    types: dict[str, dict[str, dict[str, str]]] = {"objectTypes": {}, "eventTypes": {}}
    for key, items in (("objectTypes", objects), ("eventTypes", events)):
        for item in items:
            declared = types[key].setdefault(item["type"], {})
            for a in item["attributes"]:
                declared[a["name"]] = "float" if a["name"] in ("OpportunityAmount", "net", "amount") \
                    else "string"
    return {k: [{"name": n, "attributes": [{"name": a, "type": t} for a, t in attrs.items()]}
                for n, attrs in v.items()] for k, v in types.items()} | {
        "objects": objects, "events": events}


def _ws(path: Path):
    from lead2cash.store import Workspace

    return Workspace(path)


def _step(step: str, fmt: str, work: Path) -> Callable[[], object]:
    """The timed callable of one (step, format); untimed preparation happens here."""
    target = work / f"ours.{fmt}"
    if step == "export":
        from lead2cash.io.ocel_write import write_ocel

        ws = _ws(work / "source.duckdb")
        return lambda: write_ocel(ws, work / f"export-run.{fmt}")
    if step == "import":
        from lead2cash.io.importer import import_log

        def run() -> object:
            with tempfile.TemporaryDirectory() as tmp, _ws(Path(tmp) / "b.duckdb") as ws:
                return import_log(ws, target)
        return run
    import pm4py

    if step == "pm4py-read":
        return lambda: pm4py.read_ocel2(str(target))
    ocel = pm4py.read_ocel2(str(work / "ours.json"))
    writer = {"json": pm4py.write_ocel2_json, "xml": pm4py.write_ocel2_xml,
              "sqlite": pm4py.write_ocel2_sqlite}[fmt]
    return lambda: writer(ocel, str(work / f"pm4py-run.{fmt}"))


def one_run(step: str, fmt: str, work: Path) -> None:
    """Child process: prepare (and warm up on the small log), time one step, print JSON."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    import warnings

    warnings.simplefilter("ignore")
    if step.startswith("pm4py"):
        import pm4py

        pm4py.read_ocel2(str(WARMUP))
    else:
        from lead2cash.io.importer import import_log

        with tempfile.TemporaryDirectory() as tmp, _ws(Path(tmp) / "w.duckdb") as ws:
            import_log(ws, WARMUP)
    run = _step(step, fmt, work)
    start, cpu = time.perf_counter(), time.process_time()
    run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss_mb = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mb": rss_mb}))


def prepare(work: Path, opportunities: int) -> dict[str, int]:
    """Write the synthetic log, import it, and write our three files (the files both read)."""
    from lead2cash.io.importer import import_log
    from lead2cash.io.ocel_write import write_ocel

    doc = synthetic(opportunities)
    (work / "source.json").write_text(json.dumps(doc), encoding="utf-8")
    with _ws(work / "source.duckdb") as ws:
        import_log(ws, work / "source.json")
        for fmt in FORMATS:
            counts = write_ocel(ws, work / f"ours.{fmt}")
    return counts.to_dict() | {f"{f} MB": round((work / f"ours.{f}").stat().st_size / 2**20, 1)
                               for f in FORMATS}


def flat_objects(n_events: int) -> None:
    """Time the object tables of a flat log's load, and the workspace size with and without."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lead2cash.io.importer import import_log
    from lead2cash.model import ACTIVITY_NAMES
    from lead2cash.objects import OBJECT_TABLES, store_objects

    rng = np.random.default_rng(7)
    cases = max(1, n_events // 12)
    case = rng.integers(0, cases, n_events)
    t0 = np.datetime64("2024-01-01T00:00:00", "us")
    times = t0 + (case * 3_600_000_000 + rng.integers(0, 90 * 86_400_000_000, n_events)).astype("timedelta64[us]")
    table = pa.table({
        "SalesOpportunityId": pa.array([f"OPP-{c:07d}" for c in case]),
        "ActivityName": pa.array(np.array(ACTIVITY_NAMES)[rng.integers(0, len(ACTIVITY_NAMES), n_events)]),
        "EventTime": pa.array(times),
        "OpportunityAmount": pa.array((case % 500 + 1) * 100.0 + (rng.random(n_events) < 0.05) * 1000),
        "SalesRegion": pa.array(np.array(["EMEA", "APAC", "NA", "LATAM"])[case % 4]),
        "SalesStage": pa.array(np.array(["Qualify", "Develop", "Propose", "Close"])[rng.integers(0, 4, n_events)]),
    })
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "flat.parquet"
        pq.write_table(table, src)
        with _ws(Path(tmp) / "w.duckdb") as ws:
            start = time.perf_counter()
            import_log(ws, src)
            load = time.perf_counter() - start
            with ws.transaction() as con:
                start = time.perf_counter()
                store_objects(con, None)
                objects_s = time.perf_counter() - start
            rows = ws.con.execute("SELECT (SELECT count(*) FROM event_objects), "
                                  "(SELECT count(*) FROM object_attributes)").fetchall()[0]
            tables = [r[0] for r in ws.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                "AND NOT temporary").fetchall()]
            sizes = []
            for name, keep in (("with", tables), ("without", [t for t in tables
                                                              if t not in OBJECT_TABLES])):
                copy = Path(tmp) / f"{name}.duckdb"  # a fresh file each: no free blocks counted
                ws.con.execute(f"ATTACH '{copy}' AS c")
                for t in keep:
                    ws.con.execute(f"CREATE TABLE c.{t} AS SELECT * FROM {t}")
                ws.con.execute("DETACH c")
                sizes.append(copy.stat().st_size)
            with_objects, without = sizes
    print(f"flat log of {n_events:,} events in {cases:,} cases: whole import {load:.2f} s, of which "
          f"object tables {objects_s:.2f} s ({objects_s / load:.0%}); {rows[0]:,} E2O, "
          f"{rows[1]:,} attribute values; workspace {without / 2**20:.1f} MB without the object "
          f"tables, {with_objects / 2**20:.1f} MB with (+{(with_objects - without) / without:.0%})")


def main() -> None:
    """Prepare once, interleave the rounds, then print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=list(FORMATS), default=list(FORMATS))
    parser.add_argument("--flat-events", type=int, help="only time the object tables of a flat load")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one[0], args.one[1], Path(args.one[2]))
        return
    if args.flat_events:
        flat_objects(args.flat_events)
        return
    with tempfile.TemporaryDirectory(prefix="bench-ocel-") as tmp:
        work = Path(tmp)
        print("log:", json.dumps(prepare(work, args.opportunities)), flush=True)
        results: dict[tuple[str, str], list[dict[str, float]]] = {
            (s, f): [] for f in args.only for s in STEPS}
        for round_no in range(1, args.runs + 1):
            for key, runs in results.items():
                command = [sys.executable, __file__, "--one", key[0], key[1], str(work)]
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                runs.append(json.loads(out.strip().splitlines()[-1]))
                print(f"round {round_no}: {key[0]:12} {key[1]:6} {runs[-1]['seconds']:8.3f} s",
                      flush=True)
    median = {k: statistics.median(r["seconds"] for r in runs) for k, runs in results.items()}
    print(f"\nmedian of {args.runs} runs (interleaved, fresh process each):")
    print(f"{'step':12} {'format':6} {'median s':>9} {'min s':>7} {'CPU s':>6} {'peak RSS MB':>12}")
    for (step, fmt), runs in results.items():
        secs = [r["seconds"] for r in runs]
        print(f"{step:12} {fmt:6} {median[step, fmt]:9.3f} {min(secs):7.3f} "
              f"{statistics.median(r['cpu'] for r in runs):6.2f} "
              f"{max(r['rss_mb'] for r in runs):12.0f}")
    print()
    for fmt in args.only:
        print(f"{fmt:6} pm4py-write / export {median['pm4py-write', fmt] / median['export', fmt]:6.2f}x"
              f"   pm4py-read / import {median['pm4py-read', fmt] / median['import', fmt]:6.2f}x")


if __name__ == "__main__":
    main()
