"""Benchmark conformance: token replay and alignments against pm4py, rules and drivers at scale.

    .venv/bin/python benchmarks/bench_conformance.py [--log bpic2012.xes.gz] [--align-log receipt.csv]
        [--events 1000000] [--runs 1] [--spark] [--no-pm4py] [--keep DIR]

1. Token replay: the real log (`--log`, in ../shared/data) imported into a workspace,
   pm4py's inductive-miner net (noise 0.2) written to PNML and read by our reader;
   `replay_log` (variants from DuckDB, one replay per variant) against pm4py's
   `fitness_token_based_replay` on its own frame. Same log fitness required.
2. Alignments: the same on `--align-log`: `align_log` against pm4py's
   `conformance_diagnostics_alignments`; equal costs required, case by case.
3. Rules and drivers: a simulated company of about `--events` events with injected
   deviations; the built-in rules and the drivers of lost, slow and late-payment on
   DuckDB (and on Spark with `--spark`).
Prints markdown tables; figures taken on a busy machine are only indicative.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from lead2cash.conformance import align_log, check_rules, read_pnml, replay_log
from lead2cash.io.importer import import_log
from lead2cash.mining import DuckDBEngine, Engine, SparkEngine
from lead2cash.mining.drivers import drivers
from lead2cash.simulate import SimulationParams, simulate
from lead2cash.store import Workspace

from bench_mining import timed  # the same timing as the mining benchmark (run from benchmarks/)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pm4py_logs import pm4py_frame  # noqa: E402 - pm4py's reading of a log, as the tests' oracle

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EVENTS_PER_CASE = 8.7  # what the simulator's Salesforce landscape gives on average


def prepare(name: str, tmp: Path) -> tuple[Workspace, pd.DataFrame, tuple[Any, Any, Any], Path]:
    """The log in a workspace, pm4py's frame of it, pm4py's net and its PNML file."""
    import pm4py

    path = SHARED / name
    ws = Workspace(tmp / f"{path.stem}.duckdb", memory_limit="2GB")
    import_log(ws, path)
    frame = pm4py_frame(path)
    net, im, fm = pm4py.discover_petri_net_inductive(frame, noise_threshold=0.2)
    pnml = tmp / f"{path.stem}.pnml"
    pm4py.write_pnml(net, im, fm, str(pnml))
    return ws, frame, (net, im, fm), pnml


def bench_replay(name: str, tmp: Path, runs: int, with_pm4py: bool) -> None:
    import pm4py

    ws, frame, (net, im, fm), pnml = prepare(name, tmp)
    with DuckDBEngine(ws) as engine:
        ours_s, ours = timed(runs, lambda: replay_log(engine, model=read_pnml(pnml)))
    print(f"\n### Token replay on {name} ({ours.cases:,} cases, {ours.total_variants:,} variants)\n")
    print("| method | seconds | log fitness | perc fit traces | average trace fitness |")
    print("|---|---:|---:|---:|---:|")
    print(f"| lead2cash `replay_log` (variants from DuckDB, replay per variant) | {ours_s:.2f} | "
          f"{ours.log_fitness:.12f} | {ours.perc_fit_traces:.6f} | {ours.average_trace_fitness:.12f} |")
    if with_pm4py:
        ref_s, ref = timed(1, lambda: pm4py.fitness_token_based_replay(frame, net, im, fm))
        print(f"| pm4py `fitness_token_based_replay` | {ref_s:.2f} | {ref['log_fitness']:.12f} | "
              f"{ref['perc_fit_traces']:.6f} | {ref['average_trace_fitness']:.12f} |")
        same = abs(ref["log_fitness"] - ours.log_fitness) < 1e-9
        print(f"\nspeed-up {ref_s / ours_s:.1f}x; same fitness (1e-9): {same}")
        assert same, "the fitness differs from pm4py's"
    ws.close()


def bench_alignments(name: str, tmp: Path, with_pm4py: bool) -> None:
    import pm4py

    ws, frame, (net, im, fm), pnml = prepare(name, tmp)
    with DuckDBEngine(ws) as engine:
        ours_s, ours = timed(1, lambda: align_log(engine, model=read_pnml(pnml), time_limit=120.0,
                                                  per_case=True))
    print(f"\n### Alignments on {name} ({ours.cases:,} cases, {ours.total_variants:,} variants)\n")
    print("| method | seconds | log fitness | variants past the time limit |")
    print("|---|---:|---:|---:|")
    print(f"| lead2cash `align_log` (A*, per variant) | {ours_s:.2f} | {ours.log_fitness:.12f} | "
          f"{ours.variants_timed_out} |")
    if with_pm4py:
        log = pm4py.convert_to_event_log(frame)
        ref_s, ref = timed(1, lambda: pm4py.conformance_diagnostics_alignments(log, net, im, fm))
        fit = pm4py.fitness_alignments(log, net, im, fm)
        print(f"| pm4py `conformance_diagnostics_alignments` | {ref_s:.2f} | "
              f"{fit['log_fitness']:.12f} | - |")
        names = [t.attributes["concept:name"] for t in log]
        same = all(ours.per_case[c]["cost"] == r["cost"]  # type: ignore[index]
                   for c, r in zip(names, ref))
        print(f"\nspeed-up {ref_s / ours_s:.1f}x; equal costs, case by case: {same}")
        assert same, "an alignment cost differs from pm4py's"
    ws.close()


def bench_rules(events: int, tmp: Path, runs: int, spark: bool) -> None:
    cases = max(100, round(events / EVENTS_PER_CASE))
    folder = tmp / "company"
    t = time.perf_counter()
    simulate(folder, cases, 5, landscape="salesforce", params=SimulationParams(
        order_for_lost_rate=0.02, order_before_win_rate=0.02, payment_before_invoice_rate=0.02))
    ws = Workspace(tmp / "company.duckdb", memory_limit="2GB")
    result = import_log(ws, folder / "ground_truth.parquet")
    print(f"\n### Rules and drivers on {result.events:,} events, {cases:,} cases "
          f"(simulated and imported in {time.perf_counter() - t:.1f} s)\n")
    print("| engine | analysis | seconds | result |")
    print("|---|---|---:|---|")

    def run(engine: Engine) -> None:
        s, r = timed(runs, lambda: check_rules(engine))
        print(f"| {engine.name} | built-in rules ({len(r.rules)}) | {s:.2f} | "
              f"{r.cases - r.conforming_cases:,} cases break a rule |")
        for target in ("lost", "slow", "late-payment"):
            s, d = timed(runs, lambda target=target: drivers(engine, target=target))
            top = d.drivers[0] if d.drivers else None
            print(f"| {engine.name} | drivers of {target} | {s:.2f} | {d.segments_tested} "
                  f"segments; top: {top.feature + ' = ' + top.value if top else '-'} |")

    with DuckDBEngine(ws) as engine:
        run(engine)
    if spark:
        with SparkEngine.from_workspace(ws) as engine:
            run(engine)
    ws.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--log", default="bpic2012.xes.gz", help="real log for token replay")
    ap.add_argument("--align-log", default="receipt.csv", help="real log for alignments")
    ap.add_argument("--events", type=int, default=1_000_000, help="events for rules and drivers")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--spark", action="store_true", help="also run rules and drivers on Spark")
    ap.add_argument("--no-pm4py", action="store_true", help="skip pm4py (ours only)")
    ap.add_argument("--keep", type=Path, help="keep the work files in this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-conformance-") as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        bench_replay(args.log, tmp, args.runs, not args.no_pm4py)
        bench_alignments(args.align_log, tmp, not args.no_pm4py)
        bench_rules(args.events, tmp, args.runs, args.spark)


if __name__ == "__main__":
    main()
