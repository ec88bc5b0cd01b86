"""Benchmark XES import side by side: pm4py (lxml and its default), rustxes, our reader, our import.

    .venv/bin/python benchmarks/bench_xes_import.py [--file PATH.xes.gz] [--runs 3] [--only ...]

Rounds are interleaved (round 1 of every reader, then round 2, ...) so a busy machine hurts all
readers alike. Each timed read runs in a fresh Python process that first imports its library
and reads a tiny log (untimed warm-up), then times one read of the file; the process's peak
RSS and the read's CPU time (all threads; less sensitive to a busy machine) are reported too.
pm4py is AGPL and only ever runs here and in tests, never in lead2cash.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from peak_memory import peak_rss_mb

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
WARMUP = DATA / "running-example.xes"


def _pm4py(variant: str | None) -> Callable[[Path], object]:
    """pm4py.read_xes with a given variant (None: pm4py's own default choice)."""
    import pm4py

    if variant is None:
        return lambda p: pm4py.read_xes(str(p))
    return lambda p: pm4py.read_xes(str(p), variant=variant)


def _rustxes() -> Callable[[Path], object]:
    """The Rust reader of rust4pm, returning a polars DataFrame."""
    import rustxes

    return lambda p: rustxes.import_xes(str(p))


def _ours() -> Callable[[Path], object]:
    """lead2cash's reader: an Arrow table of raw strings plus types."""
    from lead2cash.io.xes import read_xes

    return read_xes


def _import() -> Callable[[Path], object]:
    """lead2cash's whole import (read, map, convert, load) into a fresh workspace file."""
    from lead2cash.io.importer import import_log
    from lead2cash.store import Workspace

    def run(path: Path) -> object:
        with tempfile.TemporaryDirectory() as tmp, Workspace(Path(tmp) / "bench.duckdb") as ws:
            return import_log(ws, path)

    return run


READERS: dict[str, tuple[str, Callable[[], Callable[[Path], object]]]] = {
    "pm4py-lxml": ("pm4py.read_xes(variant='iterparse'): lxml, pm4py's default without Rust",
                   lambda: _pm4py("iterparse")),
    "pm4py-default": ("pm4py.read_xes(): with rustxes installed pm4py delegates to it",
                      lambda: _pm4py(None)),
    "rustxes": ("rustxes.import_xes (Rust, polars)", _rustxes),
    "read_xes": ("lead2cash.io.xes.read_xes (Arrow table of raw strings + types)", _ours),
    "import_log": ("lead2cash import_log into a fresh DuckDB workspace", _import),
}


def one_run(name: str, path: Path) -> None:
    """Child process: warm up, time one read, print seconds and peak RSS as JSON."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    read = READERS[name][1]()
    read(WARMUP)
    start, cpu = time.perf_counter(), time.process_time()
    read(path)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss_mb = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mb": rss_mb}))


def main() -> None:
    """Interleave the rounds, then print medians, ratios and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DATA / "bpic2012.xes.gz")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=list(READERS), default=list(READERS))
    parser.add_argument("--one", choices=list(READERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one, args.file)
        return
    results: dict[str, list[dict[str, float]]] = {n: [] for n in args.only}
    for round_no in range(1, args.runs + 1):
        for name in args.only:
            command = [sys.executable, __file__, "--one", name, "--file", str(args.file)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[name].append(json.loads(out.strip().splitlines()[-1]))
            print(f"round {round_no}: {name:14} {results[name][-1]['seconds']:7.3f} s", flush=True)
    median = {n: statistics.median(r["seconds"] for r in runs) for n, runs in results.items()}
    print(f"\n{args.file.name}, median of {args.runs} runs (interleaved, fresh process each):")
    print(f"{'reader':14} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU s':>6} "
          f"{'peak RSS MB':>12}  what")
    for name, runs in results.items():
        secs = [r["seconds"] for r in runs]
        cpu = statistics.median(r["cpu"] for r in runs)
        print(f"{name:14} {median[name]:9.3f} {min(secs):7.3f} {max(secs):7.3f} {cpu:6.2f} "
              f"{max(r['rss_mb'] for r in runs):12.0f}  {READERS[name][0]}")
    ratios = [("pm4py-lxml / read_xes", "pm4py-lxml", "read_xes"),
              ("read_xes / rustxes", "read_xes", "rustxes"),
              ("import_log / rustxes", "import_log", "rustxes"),
              ("pm4py-lxml / import_log", "pm4py-lxml", "import_log")]
    print()
    for label, a, b in ratios:
        if a in median and b in median:
            print(f"{label:24} {median[a] / median[b]:6.2f}x")


if __name__ == "__main__":
    main()
