"""What the connectors' documents (objects, E2O, O2O, attribute history) cost an extraction.

Usage: .venv/bin/python benchmarks/bench_extract_objects.py [--cases 121000] [--runs 1]
       [--landscape salesforce+sap-s4hana] [--workdir /tmp/l2c-objects] [--keep]

The landscape is simulated once (not measured; 121,000 opportunities of the mixed landscape
give about 1M events). Then, rounds interleaved, each in a fresh child process (start-up not
timed; the extract call and its transaction are), the folders are extracted

- `objects`: as shipped, every connector's documents and relations beside the events;
- `cases only`: the documents not read (`sources.objects.collect` and `object_log` switched
  off in that child), so the load derives only the Opportunities, as before the connectors
  built objects.

Reported per mode: extract seconds (median), peak RSS of the child, the workspace file size,
and the object-table row counts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from peak_memory import child_env

_SIMULATE = """
import sys
from pathlib import Path
from lead2cash.simulate import LANDSCAPES, simulate
r = simulate(Path(sys.argv[1]), int(sys.argv[2]), 7, sys.argv[3])
print(r.events)
"""

_EXTRACT = """
import json, sys, time
from peak_memory import peak_rss_mb
from pathlib import Path
from lead2cash.simulate import LANDSCAPES
from lead2cash.sources import objects as docs
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace
root, db, landscape, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
if mode == "cases only":  # the connectors' documents not read: Opportunities derived only
    docs.collect = lambda *a, **k: None
    docs.object_log = lambda: None
folders = {m.KEY: root / m.KEY for m in LANDSCAPES[landscape].systems}
t0 = time.perf_counter()
with Workspace(db, memory_limit="2GB") as ws:
    extract(ws, folders)
    seconds = time.perf_counter() - t0
    counts = {t: ws.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
              for t in ("events", "objects", "event_objects", "object_objects", "object_attributes")}
print(json.dumps({"seconds": seconds, "rss_mb": peak_rss_mb(),
                  "bytes": db.stat().st_size, **counts}))
"""

MODES = ("objects", "cases only")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=121_000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--landscape", default="salesforce+sap-s4hana")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/l2c-objects"))
    ap.add_argument("--keep", action="store_true", help="reuse (and keep) the simulation")
    args = ap.parse_args()
    sim = args.workdir / "sim"
    if not (args.keep and sim.is_dir()):
        shutil.rmtree(args.workdir, ignore_errors=True)
        sim.mkdir(parents=True)
        subprocess.run([sys.executable, "-c", _SIMULATE, str(sim), str(args.cases), args.landscape],
                       check=True, capture_output=True)
    results: dict[str, list[dict]] = {m: [] for m in MODES}
    for i in range(args.runs):
        for mode in MODES:
            db = args.workdir / f"bench-{mode.replace(' ', '-')}-{i}.duckdb"
            db.unlink(missing_ok=True)
            out = subprocess.run([sys.executable, "-c", _EXTRACT, str(sim), str(db), args.landscape, mode],
                                 check=True, capture_output=True, text=True, env=child_env())
            results[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
            db.unlink(missing_ok=True)
    print(f"{args.landscape}, {args.cases:,} opportunities, {args.runs} run(s) per mode")
    print("| mode | events | objects | E2O | O2O | attribute values | extract (median) | "
          "peak RSS | workspace |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mode, runs in results.items():
        r = runs[-1]
        secs = statistics.median(x["seconds"] for x in runs)
        print(f"| {mode} | {r['events']:,} | {r['objects']:,} | {r['event_objects']:,} | "
              f"{r['object_objects']:,} | {r['object_attributes']:,} | {secs:.1f} s | "
              f"{max(x['rss_mb'] for x in runs):,.0f} MB | {r['bytes'] / 2**20:,.1f} MB |")
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
