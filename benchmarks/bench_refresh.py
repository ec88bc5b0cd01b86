"""Refresh while people look: import time alone and with a reader, and what the reader meets.

Usage: .venv/bin/python benchmarks/bench_refresh.py [--events 1000000] [--workdir /tmp/l2c-refresh]

Writes a CSV log of `--events` events (8 per case), imports it with the CLI (whole process,
start-up included) into an empty workspace, then imports it again while a reader process asks
a question in a loop, each time opening the workspace read-only as a CLI call does. Prints
JSON: both import times, the file sizes, and the reader's answers during the refresh (how
many, latency percentiles, errors). Every answer must be the old or the new log's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

_READER = """
import json, sys, time
from pathlib import Path
from lead2cash.store import Workspace
db, out, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
with out.open("w") as fh:
    while not stop.exists():
        t0 = time.perf_counter()
        try:
            with Workspace(db, read_only=True) as ws:
                row = ws.con.execute(
                    "SELECT count(*), count(DISTINCT SalesOpportunityId) FROM events").fetchone()
            seconds = time.perf_counter() - t0
            fh.write(json.dumps({"t": time.time(), "s": seconds, "answer": list(row)}) + "\\n")
        except Exception as exc:
            fh.write(json.dumps({"t": time.time(), "error": repr(exc)}) + "\\n")
        fh.flush()
"""


def write_log(path: Path, events: int) -> None:
    """A CSV log: 8 events per case, one day apart."""
    duckdb.sql(
        f"COPY (SELECT 'C' || (i // 8) AS case_id, 'A' || (i % 8) AS act, "
        f"TIMESTAMP '2024-01-01' + to_days(CAST(i % 8 AS INTEGER)) + to_seconds(i // 8) AS ts "
        f"FROM range({events}) t(i)) TO '{path}' (HEADER)"
    )


def cli_import(log: Path, db: Path) -> float:
    """Seconds for one `lead2cash import` as a user runs it."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from lead2cash.cli import main; main()", "import",
                    str(log), "--case", "case_id", "--activity", "act", "--time", "ts",
                    "--db", str(db)], check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/l2c-refresh"))
    args = parser.parse_args()
    work: Path = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log, db = work / "log.csv", work / "bench.duckdb"
    write_log(log, args.events)
    alone = cli_import(log, db)
    out, stop = work / "answers.jsonl", work / "stop"
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(db), str(out), str(stop)])
    time.sleep(2.0)  # let the reader get going
    start = time.time()
    with_reader = cli_import(log, db)
    end = time.time()
    time.sleep(1.0)
    stop.write_text("stop")
    reader.wait(timeout=120)
    answers = [json.loads(line) for line in out.read_text().splitlines()]
    during = [a for a in answers if start <= a["t"] <= end]
    seconds = sorted(a["s"] for a in during if "s" in a)
    expected = [args.events, args.events // 8]
    print(json.dumps({
        "events": args.events,
        "csv_mb": round(log.stat().st_size / 1e6, 1),
        "workspace_mb": round(db.stat().st_size / 1e6, 1),
        "import_alone_s": round(alone, 2),
        "import_with_reader_s": round(with_reader, 2),
        "reader_answers_during_refresh": len(during),
        "reader_errors": sum("error" in a for a in answers),
        "reader_wrong_answers": sum(a.get("answer", expected) != expected for a in answers),
        "reader_latency_p50_ms": round(1000 * statistics.median(seconds), 1) if seconds else None,
        "reader_latency_max_ms": round(1000 * seconds[-1], 1) if seconds else None,
        "leftover_files": sorted(p.name for p in work.iterdir()
                                 if p.name.startswith(db.name) and p != db),
    }, indent=2))


if __name__ == "__main__":
    main()
