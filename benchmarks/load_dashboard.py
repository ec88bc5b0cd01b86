"""A bounded load test of the served dashboard on loopback: N clients for S seconds.

    .venv/bin/python benchmarks/load_dashboard.py --db WS [--clients 50] [--seconds 60]

Starts `lead2cash serve` on a free 127.0.0.1 port (a real server process), then runs
`--clients` threads, each asking the dashboard's views in turn (pages and JSON, with and
without filters, a few filters each) until `--seconds` have passed; every request has a
timeout, and the run stops by itself. Prints, per view, the requests, errors and the p50/p95
of the response time seen by the clients, and exits 1 on any error. Traffic goes to loopback
only.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

VIEWS = {
    "overview": "/",
    "process map": "/map",
    "map JSON (slider)": "/api/map?paths=0.25",
    "variants": "/variants",
    "funnel": "/funnel",
    "discounts": "/discounts",
    "order to cash": "/o2c",
    "compare": "/compare",
    "case list": "/cases?set=won",
    "explorer search": "/fragments/search?text=Inc",
    "data quality": "/quality",
    "KPIs JSON": "/api/kpis",
    "conformance": "/conformance",
    "drivers": "/drivers",
    "objects": "/objects",
}
SCOPES = ["", "region=EMEA", "region=APAC&outcome=won", "amount=10k-50k"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(q * (len(v) - 1)))] if v else float("nan")


def run(db: Path, clients: int, seconds: float, timeout: float = 120.0,
        warm_first: bool = False) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Serve `db`, load it, stop; returns response times and error counts per view.

    With `warm_first`, wait until the server has computed its unfiltered views (at most 10
    minutes) and ask every view and scope once before the clock starts: the figures are then
    those of a dashboard in use, not of its first minute."""
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "lead2cash", "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/api/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        if warm_first:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and not httpx.get(base + "/api/health", timeout=10).json()["warm"]:
                time.sleep(1)
            with httpx.Client(base_url=base, timeout=600) as http:
                for path in VIEWS.values():
                    for scope in SCOPES:
                        http.get(path + (("&" if "?" in path else "?") + scope if scope else ""))
        stop = time.monotonic() + seconds

        def client(k: int) -> None:
            names = list(VIEWS)
            i = k
            with httpx.Client(base_url=base, timeout=timeout) as http:
                while time.monotonic() < stop:
                    name = names[i % len(names)]
                    scope = SCOPES[(i // len(names)) % len(SCOPES)]
                    path = VIEWS[name] + (("&" if "?" in VIEWS[name] else "?") + scope if scope else "")
                    t = time.perf_counter()
                    try:
                        ok = http.get(path).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    took = time.perf_counter() - t
                    with lock:
                        times[name].append(took)
                        if not ok:
                            errors[name] += 1
                    i += 1

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return times, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warm-first", action="store_true",
                    help="let the server warm up and ask every view once before timing")
    args = ap.parse_args()
    times, errors = run(args.db, args.clients, args.seconds, warm_first=args.warm_first)
    total = sum(len(v) for v in times.values())
    print(f"{args.clients} clients, {args.seconds:g} s{' after a warm-up' if args.warm_first else ''}: "
          f"{total:,} requests, "
          f"{sum(errors.values())} errors ({total / args.seconds:.1f} requests/s)\n")
    print("| view | requests | errors | p50 | p95 |")
    print("|---|---|---|---|---|")
    for name in VIEWS:
        v = times.get(name, [])
        print(f"| {name} | {len(v)} | {errors.get(name, 0)} | {_percentile(v, 0.5) * 1000:,.0f} ms | "
              f"{_percentile(v, 0.95) * 1000:,.0f} ms |")
    if sum(errors.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
