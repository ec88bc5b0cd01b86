"""Issue 10, section 1: the defects that are not one bad input file (the corpus in
tests/test_bad_inputs.py holds those): Ctrl-C, filters that match nothing, the demo's own
suggested filter, DST counts in `check`, the Parquet export's warning, the XES export's
extensions, config sections in messages, and the README's --db promise."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lead2cash.errors import Location

BAD = Path(__file__).parent / "data" / "bad"
REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400"}
    full = [*args, "--db", str(db)] if db else list(args)
    done = subprocess.run([sys.executable, "-m", "lead2cash", *full], capture_output=True,
                          text=True, env=env, timeout=300)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the corpus's good log (2 cases), with an owner per event."""
    path = tmp_path_factory.mktemp("fixes") / "ws.duckdb"
    log = path.parent / "owned.csv"
    rows = (BAD / "good_log.csv").read_text().splitlines()
    log.write_text("\n".join([rows[0] + ",OpportunityOwner"]
                             + [r + ",Ann" for r in rows[1:]]) + "\n")
    assert _cli("import", str(log), db=path).returncode == 0
    return path


def test_a_filter_that_matches_nothing_says_so_and_suggests(db: Path) -> None:
    done = _cli("mine", "dfg", "--filter", "has 'Quote Issud'", db=db)
    assert "matched 0 of 2 cases; did you mean 'Quote Issued'?" in done.stderr
    done = _cli("mine", "variants", "--json", "--filter", "OpportunityType = 'New Busines'", db=db)
    assert "did you mean 'New Business'?" in done.stderr
    json.loads(done.stdout)  # the warning stays off stdout: --json output is still JSON
    done = _cli("mine", "dfg", "--filter", "has 'Quote Issued'", db=db)
    assert "matched 0" not in done.stderr


def test_a_filter_comparing_a_number_with_text_is_a_clear_error(db: Path) -> None:
    done = _cli("mine", "dfg", "--filter", "OpportunityAmount >= '50000'", db=db)
    assert done.returncode == 2
    assert "OpportunityAmount >= 50000 (no quotes)" in done.stderr


def test_the_demo_suggests_a_filter_that_matches(company_db: Path) -> None:
    """The demo prints `--filter "OpportunityType = '<first simulated type>'"`: it must select
    cases of the simulated company (it said 'New Business', which the simulator never writes)."""
    from lead2cash.app.session import open_engine
    from lead2cash.simulate.params import SimulationParams

    kind = next(iter(SimulationParams().opportunity_types))
    assert f"OpportunityType = '{{kind}}'" in (REPO / "src/lead2cash/cli/demo.py").read_text()
    with open_engine(company_db, "duckdb", [f"OpportunityType = '{kind}'"]) as (eng, filters):
        assert int(eng.execute(eng.cases(filters).count())) > 0


def test_dst_gaps_are_said_at_import_and_counted_by_check(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    done = _cli("import", str(BAD / "dst_gap.csv"), "--timezone", "Europe/Paris", db=path)
    assert "daylight-saving gap" in done.stdout
    report = json.loads(_cli("check", "--json", db=path).stdout)
    found = [f for f in report["findings"] if f["rule"] == "dst-ambiguous-times"]
    assert found and found[0]["count"] == 1


def test_parquet_export_prints_no_warning(db: Path, tmp_path: Path) -> None:
    done = _cli("export", str(tmp_path / "log.parquet"), db=db)
    assert done.returncode == 0
    assert "Warning" not in done.stderr


def test_xes_export_has_resource_and_lifecycle_on_events(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "log.xes"
    assert _cli("export", str(out), db=db).returncode == 0
    ns = {"x": "http://www.xes-standard.org/"}
    events = ET.parse(out).getroot().findall(".//x:event", ns)
    assert len(events) == 5
    for event in events:
        keys = {a.get("key"): a.get("value") for a in event}
        assert keys["org:resource"] == "Ann"
        assert keys["lifecycle:transition"] == "complete"
    again = tmp_path / "again.duckdb"  # and the log comes back as it was, no extra column
    done = _cli("import", str(out), db=again)
    assert "OpportunityOwner ← org:resource" in done.stdout
    assert "lifecycle" not in done.stdout


def test_ctrl_c_says_interrupted(db: Path) -> None:
    """SIGINT ends any command with a word and exit code 130 (here: a running server)."""
    proc = subprocess.Popen([sys.executable, "-m", "lead2cash", "serve", "--db", str(db),
                             "--port", "18765"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in out + err


def test_config_sections_show_in_messages() -> None:
    """`[salesforce]` in a message is text, not rich markup (it printed `file, , column`)."""
    from io import StringIO

    from rich.console import Console

    from lead2cash.cli import console as cli_console
    from lead2cash.errors import InputError

    buffer = StringIO()
    saved = cli_console.err_console
    cli_console.err_console = Console(file=buffer, width=300)
    try:
        cli_console.print_error(InputError(Location("c.toml", "[salesforce]", "stages"), "bad"))
    finally:
        cli_console.err_console = saved
    assert "c.toml, [salesforce], column 'stages': bad" in buffer.getvalue()
    assert str(Location("f.csv", "", "x")) == "f.csv, column 'x'"


def test_readme_promises_db_only_where_commands_take_it() -> None:
    """The README said every command takes --db; model, simulate and demo do not."""
    readme = (REPO / "README.md").read_text()
    assert not re.search(r"every command (takes|accepts) `?--db", readme, re.I)
    for command in ("model", "simulate", "demo"):
        done = _cli(command, "--help")
        assert "--db" not in done.stdout


def test_kpis_fit_an_80_column_terminal(db: Path) -> None:
    """The demo's KPI table was cut at 80 columns ("30...", "3,0..."): a table too wide for the
    terminal is printed one row per KPI, and no figure is cut."""
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-m", "lead2cash", "mine", "kpis", "--db", str(db),
                           "--by", "OpportunityType"], capture_output=True, text=True, env=env,
                          timeout=300)
    head = done.stdout.split("Funnel")[0]
    assert "win rate" in head and "50.0%" in head and "100.0%" in head
    assert "…" not in head


def test_kpis_on_a_log_that_is_not_lead_to_cash_say_why(tmp_path: Path) -> None:
    log = tmp_path / "other.csv"
    log.write_text("SalesOpportunityId,ActivityName,EventTime\nC1,Register,2024-01-02 09:00\n"
                   "C1,Approve,2024-01-05 10:00\n")
    path = tmp_path / "ws.duckdb"
    assert _cli("import", str(log), db=path).returncode == 0
    done = _cli("mine", "kpis", db=path)
    assert "none of the 15 Lead-to-Cash activities (its activities are 'Approve', 'Register')" \
        in done.stdout


def test_ctrl_c_during_a_query_is_an_interrupt_not_a_defect() -> None:
    """Ctrl-C while DuckDB runs a query comes back as DuckDB's own error (seen when SIGINT
    hit `serve` while it opened the workspace): the CLI must read it as Ctrl-C (exit 130)."""
    import threading

    import duckdb

    from lead2cash.cli import _is_interrupt

    con = duckdb.connect()
    caught: list[BaseException] = []

    def run() -> None:
        try:
            con.execute("SELECT count(*) FROM range(10000000000) a, range(1000) b WHERE a.range % 7 = b.range").fetchall()
        except BaseException as exc:  # noqa: BLE001 - the interrupt is what is tested
            caught.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.5)
    con.interrupt()
    worker.join(60)
    assert caught, "the query was not interrupted"
    assert _is_interrupt(caught[0]), repr(caught[0])
    assert not _is_interrupt(RuntimeError("Binder Error: no such column"))


def test_running_out_of_memory_names_the_setting_to_change(db: Path) -> None:
    """DuckDB past its memory_limit (here 2MB) is the user's setting, not a defect: exit 2,
    the limit in use and the variable to raise, no 'report this' paragraph."""
    env = {**os.environ, "COLUMNS": "400", "LEAD2CASH_MEMORY_LIMIT": "2MB"}
    done = subprocess.run([sys.executable, "-m", "lead2cash", "mine", "variants", "--db", str(db)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "DuckDB ran out of memory (memory_limit 2MB" in done.stderr
    assert "LEAD2CASH_MEMORY_LIMIT=8GB" in done.stderr and "defect" not in done.stderr


def test_spark_out_of_memory_is_explained() -> None:
    """Spark's error arrives through py4j; only its text says out of memory (seen at 10M events
    with the default 2g driver memory). Other errors stay unexplained (a defect report)."""
    from lead2cash.errors import out_of_memory

    class Py4JJavaError(Exception):  # py4j's class, by name: the CLI must not import PySpark
        pass

    seen = Py4JJavaError("An error occurred while calling o65.collectToPython.\n: "
                         "org.apache.spark.SparkException: Job aborted due to stage failure: "
                         "org.apache.spark.memory.SparkOutOfMemoryError: "
                         "[UNABLE_TO_ACQUIRE_MEMORY] Unable to acquire 52 bytes of memory, got 0.")
    explained = out_of_memory(seen)
    assert explained is not None and "LEAD2CASH_SPARK_MEMORY" in str(explained)
    assert out_of_memory(Py4JJavaError("AnalysisException: column not found")) is None
    assert out_of_memory(ValueError("Out of range")) is None
