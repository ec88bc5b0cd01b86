"""The command as a user meets it: what each command imports, usage errors, Ctrl-C.

Every command is a new process, so what it imports is part of its time: these tests run the
real entry point in a subprocess and check which heavy modules it loaded (a structural guard,
not a timing test; timings are in benchmarks/bench_cli.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Run the CLI's entry point with the given arguments, then report its exit code and the
# top-level packages and lead2cash modules it imported.
_PROBE = """
import contextlib, io, json, sys
sys.argv = ["lead2cash", *sys.argv[1:]]
from lead2cash.launch import main
code = 0
try:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main()
except SystemExit as exc:
    code = exc.code
mods = sorted(sys.modules)
print(json.dumps({"code": code, "modules": mods}))
"""

HEAVY = {"pandas", "ibis", "pyarrow", "sqlglot", "polars", "pyspark"}
"""What no everyday command on DuckDB needs once the mining SQL is compiled."""
CORE = {"duckdb", "numpy"}
SIMULATOR = {"lead2cash.simulate.runner", "lead2cash.simulate.salesforce", "lead2cash.simulate.sap"}
OBJECT_CENTRIC = {"lead2cash.io.object_import", "lead2cash.io.ocel_read", "lead2cash.io.ocel_write",
                  "lead2cash.io.sap_vbfa", "lead2cash.mining.object_centric"}
"""The OCEL 2.0 readers and writers and the object-centric statistics: a flat log needs none."""


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "LEAD2CASH_CACHE_DIR": str(cache)}


def probe(args: list[str], cache: Path) -> tuple[int, set[str]]:
    """The exit code of `lead2cash ARGS` and the modules the process imported."""
    out = subprocess.run([sys.executable, "-c", _PROBE, *args], env=_env(cache), check=True,
                         capture_output=True, text=True, timeout=300)
    found = json.loads(out.stdout.splitlines()[-1])
    return found["code"], set(found["modules"])


def tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.fixture(scope="module")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny CSV log and a folder for the compiled SQL."""
    root = tmp_path_factory.mktemp("startup")
    csv = root / "log.csv"
    csv.write_text("case,act,ts\nA,x,2024-01-01\nA,y,2024-01-02\nB,x,2024-01-03\n",
                   encoding="utf-8")
    return csv, root / "sql-cache"


@pytest.mark.parametrize("args", [["--help"], ["mine", "--help"], ["mine", "dfg", "--help"],
                                  ["mine", "kpis", "--help"], ["serve", "--help"],
                                  ["report", "--help"], ["mine", "bogus"], ["import"], ["model"]])
def test_help_and_usage_errors_load_no_core(args: list[str], tmp_path: Path) -> None:
    code, modules = probe(args, tmp_path)
    assert code in (0, 2)
    assert not tops(modules) & (HEAVY | CORE), sorted(tops(modules) & (HEAVY | CORE))
    assert not modules & SIMULATOR
    assert "lead2cash.mining.engine" not in modules and "lead2cash.store" not in modules
    assert not tops(modules) & {"fastapi", "uvicorn", "jinja2", "starlette"}
    assert "lead2cash.web" not in modules and "lead2cash.app.views" not in modules


def test_import_and_mining_load_no_ibis_or_pandas_once_compiled(
    small_log: tuple[Path, Path], tmp_path: Path
) -> None:
    csv, cache = small_log
    db = str(tmp_path / "ws.duckdb")
    keys = ["--case", "case", "--activity", "act", "--time", "ts", "--db", db]
    commands = [["import", str(csv), *keys], ["mine", "dfg", "--json", "--db", db],
                ["mine", "variants", "--json", "--db", db],
                ["mine", "dfg", "--paths", "0.5", "--json", "--db", db],
                ["mine", "variants", "--case-type", "Opportunity", "--json", "--db", db],
                ["summary", "--db", db], ["check", "--db", db]]
    for args in commands:  # the first run of each compiles its SQL (and may import Ibis)
        probe(args, cache)
    for args in commands:
        code, modules = probe(args, cache)
        assert code in (0, 1, 2), args
        assert not tops(modules) & HEAVY, (args, sorted(tops(modules) & HEAVY))
        assert "numpy" not in tops(modules), args  # durations round in plain Python
        assert not modules & SIMULATOR, args
        assert not modules & OBJECT_CENTRIC, (args, sorted(modules & OBJECT_CENTRIC))
    # An XES import reads through Arrow, built on NumPy's buffers (io/arrow_numpy.py), so that
    # pyarrow does not load pandas: neither pandas nor Ibis, on the fast and the exact reader.
    xes = tmp_path / "log.xes"
    probe(["export", str(xes), "--db", db], cache)
    code, modules = probe(["import", str(xes), "--db", db], cache)
    assert code == 0 and not tops(modules) & {"ibis", "sqlglot", "pandas"}, sorted(tops(modules))
    exact = tmp_path / "exact.xes"  # a comment after an event: the exact (pyexpat) reader's
    exact.write_text(xes.read_text(encoding="utf-8").replace("</event>", "</event><!-- c -->", 1),
                     encoding="utf-8")
    code, modules = probe(["import", str(exact), "--db", db], cache)
    assert code == 0 and not tops(modules) & {"ibis", "sqlglot", "pandas"}, sorted(tops(modules))
    assert sorted(p.name for p in cache.glob("sql-*/*.json")) == [
        "derived.json", "dfg.json", "variants.json"]


EXPORTS = Path(__file__).resolve().parent / "data" / "exports"


def test_extract_loads_duckdb_alone_once_compiled(tmp_path: Path) -> None:
    """The connectors read exports (cp1252, UTF-16, Synapse Link partitions, REST pages) with
    DuckDB alone: no Arrow, pandas or Ibis, and not the simulator."""
    cache = tmp_path / "sql-cache"
    commands = [["extract", "--source", f"{system}={EXPORTS / folder}",
                 "--db", str(tmp_path / f"{system}.duckdb")]
                for system, folder in (("salesforce", "salesforce-data-export"),
                                       ("sap-s4hana", "sap-se16n-download"),
                                       ("dynamics365", "dynamics-synapse-link-append-only"),
                                       ("oracle-cx", "oracle-rest-v3"))]
    probe(commands[0], cache)  # compiles the derived tables' SQL (and may import Ibis)
    for args in commands:
        code, modules = probe(args, cache)
        assert code == 0, args
        assert not tops(modules) & HEAVY, (args, sorted(tops(modules) & HEAVY))
        assert not modules & SIMULATOR, args
        assert not modules & OBJECT_CENTRIC, (args, sorted(modules & OBJECT_CENTRIC))


def test_filters_and_other_analyses_still_work_through_ibis(
    small_log: tuple[Path, Path], tmp_path: Path
) -> None:
    csv, cache = small_log
    db = str(tmp_path / "ws.duckdb")
    probe(["import", str(csv), "--case", "case", "--activity", "act", "--time", "ts",
           "--db", db], cache)
    code, modules = probe(["mine", "dfg", "--json", "--filter", "has 'y'", "--db", db], cache)
    assert code == 0 and "ibis" in tops(modules)


USAGE_ERRORS = [
    ["mine", "bogus"],
    ["import"],
    ["--bogus"],
    ["mine", "dfg", "--bogus"],
    ["mine", "dfg", "--activities", "7"],
    ["mine", "dfg", "--engine", "nope"],
    ["simulate", "--cases", "many"],
]


def command(python: str | Path) -> list[str]:
    """The installed `lead2cash` script beside this Python, else `python -m lead2cash`."""
    script = Path(python).parent / "lead2cash"
    return [str(script)] if script.exists() else [str(python), "-m", "lead2cash"]


def run_cli(python: str | Path, args: list[str], cache: Path) -> subprocess.CompletedProcess[str]:
    """`lead2cash ARGS`, as a user runs it."""
    return subprocess.run([*command(python), *args], env=_env(cache), capture_output=True,
                          text=True, timeout=300)


def assert_usage_error(result: subprocess.CompletedProcess[str], args: list[str]) -> None:
    """Exit 2, the usage line and the error, no traceback."""
    assert result.returncode == 2, (args, result.returncode, result.stderr)
    assert result.stderr.startswith("Usage: ") and "lead2cash" in result.stderr.splitlines()[0]
    assert "\nError: " in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_usage_errors_print_the_usage_and_exit_2(args: list[str], tmp_path: Path) -> None:
    assert_usage_error(run_cli(sys.executable, args, tmp_path), args)


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    proc = subprocess.Popen(
        [*command(sys.executable), "simulate", "--out", str(out), "--cases", "5000000"],
        env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the folder appears once the command is at work
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr + stdout
