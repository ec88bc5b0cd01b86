"""Benchmark the simulator: events per second and peak memory for a target number of events.

    .venv/bin/python benchmarks/bench_simulate.py --events 1000000 [--out DIR] [--landscape L]

Runs in this process (peak memory = VmHWM of the whole run, see peak_memory.py) and deletes its output.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from lead2cash.simulate import simulate
from peak_memory import peak_rss_mb

EVENTS_PER_CASE = 8.4  # measured on the default landscape; sizes the case count


def main() -> None:
    """Simulate about `--events` events and print one result line."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--landscape", default="salesforce+sap-s4hana")
    ap.add_argument("--out", type=Path, default=None, help="folder (default: a temporary one)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="l2c-bench-"))
    cases = int(args.events / EVENTS_PER_CASE)
    start = time.perf_counter()
    result = simulate(out, cases, 1, args.landscape)
    seconds = time.perf_counter() - start
    peak_mb = peak_rss_mb()
    size_mb = sum(f.stat().st_size for f in result.files) / 2**20
    print(f"{args.landscape}: {cases:,} cases, {result.events:,} events in {seconds:.1f} s = "
          f"{result.events / seconds:,.0f} events/s ({result.events / seconds * 60 / 1e6:.1f} M/min), "
          f"peak RSS {peak_mb:,.0f} MB, files {size_mb:,.0f} MB")
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
