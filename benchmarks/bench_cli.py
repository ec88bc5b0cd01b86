"""Whole-process timings of the `lead2cash` command against pm4py processes (start-up included).

    .venv/bin/python benchmarks/bench_cli.py [--events 1000000] [--runs 5] [--workdir DIR]
        [--xes PATH] [--no-pm4py]

Every figure is a fresh process, as a user meets it: Python start, imports, work, exit. Like
hyperfine, each command runs once untimed first (a warm-up: the OS file cache, and the mining
SQL that `lead2cash` compiles on its first run after an install, see mining/compiled.py), then
`--runs` times, rounds interleaved so that a busy machine hurts every command alike. Reports
the median and minimum wall time, the median CPU time (user + system of the process, less
sensitive to other load) and the ratios against the pm4py processes of the same run:

- `lead2cash --help` (target: under 0.3 s);
- `lead2cash mine dfg --json` on an imported workspace of about `--events` events (target:
  under 0.7 s), `mine variants --json`, and the two together against one pm4py script doing
  both from the same Parquet file (read, format, DFG with performance, variants; target 3x);
- `lead2cash import bpic2012.xes.gz` into a fresh workspace against
  `python -c "import pm4py; pm4py.read_xes(...)"` (target 5x).

The log is simulated with `lead2cash simulate` (Salesforce landscape) into `--workdir` (default
bench-data/cli, git-ignored) and imported once; later runs reuse it. pm4py (AGPL) only ever runs
here and in tests, never in lead2cash.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
XES = REPO.parent / "shared" / "data" / "bpic2012.xes.gz"
EVENTS_PER_CASE = 8.2  # what the simulator's Salesforce landscape produces on average
L2C = str(Path(sys.executable).with_name("lead2cash"))

PM4PY_MINE = """
import sys
import pandas as pd, pm4py
df = pd.read_parquet(sys.argv[1], columns=["SalesOpportunityId", "ActivityName", "EventTime",
                                           "event_id"]).sort_values("event_id", kind="stable")
df = pm4py.format_dataframe(df, case_id="SalesOpportunityId", activity_key="ActivityName",
                            timestamp_key="EventTime")
dfg, starts, ends = pm4py.discover_dfg(df)
pm4py.discover_performance_dfg(df)
print(sum(dfg.values()), len(pm4py.get_variants(df)))
"""
PM4PY_XES = "import sys, pm4py; print(len(pm4py.read_xes(sys.argv[1])))"


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process; fails loudly if the command fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def prepare(workdir: Path, events: int, env: dict[str, str]) -> tuple[Path, Path]:
    """The simulated log as Parquet and its imported workspace (made once, then reused)."""
    parquet, db = workdir / "log.parquet", workdir / "ws.duckdb"
    if not parquet.exists():
        cases = round(events / EVENTS_PER_CASE)
        subprocess.run([L2C, "simulate", "--out", str(workdir / "sim"), "--cases", str(cases),
                        "--landscape", "salesforce"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        import duckdb  # lead2cash's own dependency

        truth = workdir / "sim" / "ground_truth.parquet"
        # As bench_mining.py: the ground truth's SalesCycleDuration is not what the importer
        # reads, and mining does not need it.
        duckdb.execute(f"COPY (SELECT * EXCLUDE (SalesCycleDuration) FROM read_parquet('{truth}'))"
                       f" TO '{parquet}' (FORMAT parquet)")
        shutil.rmtree(workdir / "sim")
        db.unlink(missing_ok=True)
    if not db.exists():
        subprocess.run([L2C, "import", str(parquet), "--db", str(db)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return parquet, db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=REPO / "bench-data" / "cli")
    ap.add_argument("--xes", type=Path, default=XES)
    ap.add_argument("--no-pm4py", dest="pm4py", action="store_false")
    args = ap.parse_args()
    workdir = args.workdir / f"{args.events}"
    workdir.mkdir(parents=True, exist_ok=True)
    cache = workdir / "sql-cache"
    env = {**os.environ, "LEAD2CASH_CACHE_DIR": str(cache), "TQDM_DISABLE": "1"}
    parquet, db = prepare(workdir, args.events, env)
    scratch = workdir / "import.duckdb"

    def fresh_import() -> list[str]:
        scratch.unlink(missing_ok=True)
        return [L2C, "import", str(args.xes), "--db", str(scratch)]

    commands = {
        "lead2cash --help": lambda: [L2C, "--help"],
        "lead2cash mine dfg --json": lambda: [L2C, "mine", "dfg", "--json", "--db", str(db)],
        "lead2cash mine variants --json": lambda: [L2C, "mine", "variants", "--json", "--db",
                                                   str(db)],
        f"lead2cash import {args.xes.name}": fresh_import,
    }
    if args.pm4py:
        commands["pm4py script: read Parquet, DFG + performance DFG + variants"] = lambda: [
            sys.executable, "-c", PM4PY_MINE, str(parquet)]
        commands[f"pm4py.read_xes({args.xes.name})"] = lambda: [
            sys.executable, "-c", PM4PY_XES, str(args.xes)]
    shutil.rmtree(cache, ignore_errors=True)  # the first mining run after an install compiles
    cold = run(commands["lead2cash mine dfg --json"](), env)[0]
    load = os.getloadavg()
    for make in commands.values():  # warm-up
        run(make(), env)
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for r in range(args.runs):
        for name, make in commands.items():
            wall, cpu = run(make(), env)
            walls[name].append(wall)
            cpus[name].append(cpu)
        print(f"round {r + 1}/{args.runs} done", file=sys.stderr)
    pair = "lead2cash mine dfg + mine variants (two processes)"
    walls[pair] = [a + b for a, b in zip(walls["lead2cash mine dfg --json"],
                                         walls["lead2cash mine variants --json"], strict=True)]
    cpus[pair] = [a + b for a, b in zip(cpus["lead2cash mine dfg --json"],
                                        cpus["lead2cash mine variants --json"], strict=True)]
    scratch.unlink(missing_ok=True)
    report(args, walls, cpus, cold, load)


def report(args: argparse.Namespace, walls: dict[str, list[float]], cpus: dict[str, list[float]],
           cold: float, load: tuple[float, float, float]) -> None:
    """Print the markdown table and the ratios the targets are about."""
    med = {k: statistics.median(v) for k, v in walls.items()}
    rust = importlib.util.find_spec("rustxes") is not None
    print(f"\n{args.events:,} simulated events (Salesforce landscape), {args.runs} runs after a "
          f"warm-up, load average {load[0]:.1f} at the start; pm4py.read_xes "
          f"{'delegates to rustxes' if rust else 'uses lxml (rustxes not installed)'}\n")
    print("| command (whole process) | median wall s | min wall s | median CPU s |")
    print("|---|---|---|---|")
    for name in walls:
        print(f"| {name} | {med[name]:.2f} | {min(walls[name]):.2f} | "
              f"{statistics.median(cpus[name]):.2f} |")
    print(f"\nFirst `mine dfg --json` after an install (compiles and keeps its SQL): {cold:.2f} s")
    print(f"- `lead2cash --help`: {med['lead2cash --help']:.2f} s (target < 0.3 s)")
    print(f"- `mine dfg --json`: {med['lead2cash mine dfg --json']:.2f} s (target < 0.7 s)")
    ratios = [("pm4py script: read Parquet, DFG + performance DFG + variants",
               "lead2cash mine dfg + mine variants (two processes)", 3),
              (f"pm4py.read_xes({args.xes.name})", f"lead2cash import {args.xes.name}", 5)]
    for base, ours, target in ratios:
        if base in med:
            cpu = statistics.median(cpus[base]) / statistics.median(cpus[ours])
            print(f"- {base} / {ours}: {med[base] / med[ours]:.1f}x wall, {cpu:.1f}x CPU "
                  f"(target >= {target}x)")


if __name__ == "__main__":
    main()
