"""Extraction speed and peak memory on a simulated mixed landscape (Salesforce CRM + SAP S/4HANA).

Usage: .venv/bin/python benchmarks/bench_extract.py [--cases 121000] [--workdir /tmp/l2c-bench]

The simulation runs first in its own process (not measured); the extraction then runs in a
fresh child process, which reports its own peak resident memory (VmHWM, see peak_memory.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from peak_memory import child_env

_SIMULATE = """
import sys
from pathlib import Path
from lead2cash.simulate import simulate
simulate(Path(sys.argv[1]), int(sys.argv[2]), 7, "salesforce+sap-s4hana")
"""

_COUNT = """
import sys, duckdb
what = sys.argv[2] if len(sys.argv) > 2 else "*"
print(duckdb.sql(f"SELECT count({what}) FROM '{sys.argv[1]}'").fetchall()[0][0])
"""

_EXTRACT = """
import json, sys, time
from peak_memory import peak_rss_mb
from pathlib import Path
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace
root = Path(sys.argv[1])
t0 = time.perf_counter()
with Workspace(root / "bench.duckdb", memory_limit=sys.argv[2]) as ws:
    meta = extract(ws, {"salesforce": root / "salesforce", "sap-s4hana": root / "sap-s4hana"})
seconds = time.perf_counter() - t0
peak = peak_rss_mb()
print(json.dumps({"events": int(meta["events"]), "seconds": seconds, "peak_mb": peak}))
"""


def _child(code: str, *args: str) -> str:
    """Run Python code in a child process and return its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True,
        env=child_env(),
    )
    return done.stdout.strip()


def main() -> None:
    """Simulate once, extract once, print events/s and the extraction's peak memory."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=121_000, help="opportunities (~8.3 events each)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/l2c-bench"))
    ap.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit of the workspace")
    ap.add_argument(
        "--keep",
        action="store_true",
        help="reuse a simulation already in --workdir and keep it afterwards",
    )
    args = ap.parse_args()
    truth = args.workdir / "ground_truth.parquet"
    if not (args.keep and truth.exists()):
        shutil.rmtree(args.workdir, ignore_errors=True)
        _child(_SIMULATE, str(args.workdir), str(args.cases))
    (args.workdir / "bench.duckdb").unlink(missing_ok=True)
    truth_events = int(_child(_COUNT, str(truth)))
    result = json.loads(_child(_EXTRACT, str(args.workdir), args.memory_limit).splitlines()[-1])
    size = sum(p.stat().st_size for p in args.workdir.rglob("*.csv")) / 2**20
    cases = int(_child(_COUNT, str(truth), "DISTINCT SalesOpportunityId"))
    print(f"cases {cases:,}, input CSV {size:,.0f} MB, ground truth {truth_events:,} events")
    print(
        f"extracted {result['events']:,} events in {result['seconds']:.2f} s = "
        f"{result['events'] / result['seconds']:,.0f} events/s"
    )
    print(
        f"peak RSS of the extraction process {result['peak_mb']:,.0f} MB, "
        f"DuckDB memory_limit {args.memory_limit}"
    )
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
