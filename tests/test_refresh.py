"""Refresh while people look: readers in other processes, kills at every phase, one writer.

Real processes throughout: the CLI as the writer, `refresh_reader.py` as the reader, SIGKILL
at each phase of a refresh (held there by the LEAD2CASH_TEST_PAUSE seam, see
workspace/refresh.py).
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
from extract_fixtures import salesforce_org
from refresh_reader import fingerprint

from lead2cash.errors import Lead2CashError
from lead2cash.io.importer import ImportOptions, import_log
from lead2cash.store import Workspace
from lead2cash.workspace.refresh import PAUSE_ENV, PHASES, build_path, lock_path, stray_files
from lead2cash.workspace.runs import journal_path, read_runs

TESTS = Path(__file__).resolve().parent
CLI = [sys.executable, "-c", "from lead2cash.cli import main; main()"]
KEYS = ImportOptions(case="case", activity="act", time="ts")


def write_log(path: Path, cases: int) -> Path:
    """A CSV log of `cases` cases with four events each (sizes tell two logs apart)."""
    lines = ["case,act,ts"]
    for c in range(cases):
        for i, act in enumerate(("Opportunity Created", "Quote Issued", "Opportunity Won",
                                 "Sales Order Created")):
            lines.append(f"C{c},{act},2024-01-{1 + (c + i) % 27:02d}T{i:02d}:00:00Z")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the lead2cash command line to completion."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def import_args(log: Path, db: Path) -> list[str]:
    return ["import", str(log), "--case", "case", "--activity", "act", "--time", "ts",
            "--db", str(db)]


def held_refresh(log: Path, db: Path, phase: str, tmp: Path,
                 args: list[str] | None = None) -> subprocess.Popen[str]:
    """Start an import (or the command `args`) that stops and waits at `phase`; return once it
    is there."""
    marker = tmp / f"at-{phase}"
    marker.unlink(missing_ok=True)
    proc = subprocess.Popen([*CLI, *(args or import_args(log, db))], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, PAUSE_ENV: f"{phase}:{marker}"})
    deadline = time.monotonic() + 240
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the refresh ended before {phase}: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the refresh never reached {phase}")
        time.sleep(0.05)
    return proc


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def answer(db: Path) -> list[object]:
    """What a fresh reader sees now."""
    with Workspace(db, read_only=True) as ws:
        return fingerprint(ws)


def leftovers(db: Path) -> list[str]:
    """Files beside the workspace named after it (lock, build, WAL, journal, spill folder)."""
    return sorted(p.name for p in db.parent.iterdir() if p.name.startswith(db.name) and p != db)


@pytest.mark.slow
def test_kill_at_every_phase_with_a_reader_throughout(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    logs = {"A": write_log(inputs / "a.csv", 120), "B": write_log(inputs / "b.csv", 90)}
    db = tmp_path / "ws" / "lead2cash.duckdb"
    assert cli(*import_args(logs["A"], db)).returncode == 0
    seen = {"A": answer(db)}
    out, stop = tmp_path / "answers.jsonl", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, str(TESTS / "refresh_reader.py"), str(db), str(out),
                               str(stop)])
    try:
        while not Path(f"{out}.ready").exists():
            assert reader.poll() is None, "the reader died"
            time.sleep(0.05)
        current, other = "A", "B"
        for phase in PHASES:
            proc = held_refresh(logs[other], db, phase, tmp_path)
            kill(proc)
            if phase == "switched":  # killed after the rename: the new log is in place
                current, other = other, current
            now = answer(db)
            seen.setdefault(current, now)
            assert now == seen[current], f"killed at {phase}: the log is neither old nor new"
            assert lock_path(db).exists()  # left behind by the kill ...
            if phase in ("built", "committed", "switch"):
                assert stray_files(db), f"killed at {phase}: expected the build file to stay"
        # ... and removed by the next refresh, which also records the killed ones.
        done = cli(*import_args(logs[other], db))
        assert done.returncode == 0, done.stderr
        current, other = other, current
        seen.setdefault(current, answer(db))
        assert answer(db) == seen[current]
        assert leftovers(db) == [], "a refresh after the kills left files behind"
        time.sleep(0.5)  # let the reader see the final version
    finally:
        stop.write_text("stop")
        reader.wait(timeout=60)
    answers = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(answers) >= 20, "the reader hardly read"
    errors = [a for a in answers if "error" in a]
    assert not errors, errors[:3]
    valid = [seen["A"], seen["B"]]
    assert all(a["answer"] in valid for a in answers), "a reader saw a half-written log"
    for kind in ("fresh", "long-lived"):  # both kinds of reader followed the switches
        assert {json.dumps(a["answer"]) for a in answers if a["kind"] == kind} == {
            json.dumps(v) for v in valid}
    runs = json.loads(cli("runs", "--db", str(db), "--json", "--limit", "0").stdout)
    outcomes = [r["outcome"] for r in reversed(runs)]
    # 1 ok, 4 killed before the switch, 1 killed after it (its run row was in the new file), 1 ok
    assert outcomes == ["ok", *["interrupted"] * 4, "ok", "ok"]


@pytest.mark.slow
def test_extract_killed_after_its_commit_leaves_the_old_log(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    assert cli(*import_args(write_log(tmp_path / "a.csv", 10), db)).returncode == 0
    old = answer(db)
    org = salesforce_org(tmp_path / "salesforce")
    args = ["extract", "--source", f"salesforce={org}", "--db", str(db)]
    proc = held_refresh(db, db, "committed", tmp_path, args)
    assert answer(db) == old  # a reader meanwhile: the old log
    kill(proc)
    assert answer(db) == old and stray_files(db)
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    assert answer(db)[0] == 15 and leftovers(db) == []


def test_refresh_while_another_process_reads(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    a, b = write_log(tmp_path / "a.csv", 30), write_log(tmp_path / "b.csv", 20)
    with Workspace(db) as ws:
        import_log(ws, a, KEYS)
    code = (
        "import sys, time\n"
        "from lead2cash.store import Workspace\n"
        f"ws = Workspace({str(db)!r}, read_only=True)\n"
        "q = 'SELECT count(*) FROM events'\n"
        "print(ws.con.execute(q).fetchone()[0], flush=True)\n"
        "sys.stdin.readline()\n"
        "print(ws.con.execute(q).fetchone()[0], ws.changed(), flush=True)\n"
        "print(ws.reopen_if_changed(), ws.con.execute(q).fetchone()[0], ws.changed(), flush=True)\n"
    )
    reader = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert reader.stdout is not None and reader.stdin is not None
    assert reader.stdout.readline().split() == ["120"]  # the reader holds the file open
    with Workspace(db) as ws:  # a second writer-side open and a refresh: both succeed
        result = import_log(ws, b, KEYS)
    assert result.events == 80
    reader.stdin.write("go\n")
    reader.stdin.flush()
    assert reader.stdout.readline().split() == ["120", "True"]  # still the old log, told of a new
    assert reader.stdout.readline().split() == ["True", "80", "False"]  # moved to the new one
    assert reader.wait(timeout=60) == 0
    assert leftovers(db) == []


def test_second_refresh_is_refused_while_one_runs(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    a = write_log(tmp_path / "a.csv", 10)
    first = held_refresh(a, db, "started", tmp_path)
    try:
        second = cli(*import_args(a, db))
        assert second.returncode == 2
        assert "another refresh of this workspace is running" in second.stderr
        assert f"pid {first.pid}" in second.stderr and "Traceback" not in second.stderr
        squeezed = "".join(second.stderr.split())  # the message may wrap anywhere
        assert f"`lead2cashimport{a}".replace(" ", "") in squeezed  # the holder's command
        with Workspace(db) as ws, pytest.raises(Lead2CashError, match="another refresh"):
            import_log(ws, a, KEYS)  # the Python API too
    finally:
        kill(first)
    assert cli(*import_args(a, db)).returncode == 0  # the lock dies with its holder


def test_two_workspaces_in_one_process_take_turns(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    a = write_log(tmp_path / "a.csv", 10)
    with Workspace(db) as one, Workspace(db) as two:
        with one.recording("import"):
            with pytest.raises(Lead2CashError, match="another refresh"):
                import_log(two, a, KEYS)
            import_log(one, a, KEYS)  # the holder goes on (its import joins its run)
        import_log(two, a, KEYS)  # and the other gets its turn after it
        assert two.con.execute("SELECT count(*) FROM events").fetchone() == (40,)


def test_failed_refresh_leaves_the_file_untouched_and_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    good = write_log(tmp_path / "good.csv", 10)
    bad = tmp_path / "bad.csv"
    bad.write_text("case,act,ts\nX,Quote Issued,yesterday\n", encoding="utf-8")
    with Workspace(db) as ws:
        import_log(ws, good, KEYS)
    before, inode = db.read_bytes(), db.stat().st_ino
    with Workspace(db) as ws, pytest.raises(Lead2CashError, match="line 2"):
        import_log(ws, bad, KEYS)
    assert db.read_bytes() == before and db.stat().st_ino == inode  # not even rewritten
    assert leftovers(db) == [journal_path(db).name]  # the failed run waits in the journal
    listed = json.loads(cli("runs", "--db", str(db), "--json").stdout)
    assert [r["outcome"] for r in listed] == ["failed", "ok"]
    assert "bad.csv, line 2" in listed[0]["message"]
    with Workspace(db) as ws:
        import_log(ws, good, KEYS)
        rows = ws.con.execute("SELECT kind, outcome FROM runs ORDER BY started_at").fetchall()
    assert rows == [("import", "ok"), ("import", "failed"), ("import", "ok")]
    assert leftovers(db) == []  # folded into the runs table


def test_no_room_beside_the_workspace_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with Workspace(db) as ws:
        import_log(ws, write_log(tmp_path / "a.csv", 5), KEYS)
    before = db.read_bytes()
    build_path(db).mkdir()  # where the new version would go: unwritable as a file
    with Workspace(db) as ws, pytest.raises(Lead2CashError) as err:
        import_log(ws, write_log(tmp_path / "b.csv", 3), KEYS)
    assert "cannot write the new version beside the workspace" in err.value.message
    assert "free disk space" in (err.value.hint or "")
    assert db.read_bytes() == before
    build_path(db).rmdir()
    with Workspace(db) as ws:
        import_log(ws, write_log(tmp_path / "b.csv", 3), KEYS)
        assert [r.outcome for r in read_runs(ws.con, db)] == ["ok", "failed", "ok"]


def test_failure_inside_the_transaction_removes_the_build_file(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with Workspace(db) as ws:
        import_log(ws, write_log(tmp_path / "a.csv", 5), KEYS)
        with pytest.raises(RuntimeError), ws.transaction() as con:
            con.execute("DROP TABLE events")
            assert stray_files(db)  # the next version is being built beside the workspace
            raise RuntimeError("boom")
        assert ws.con.execute("SELECT count(*) FROM events").fetchone() == (20,)
    assert leftovers(db) == []


def test_a_refresh_keeps_the_run_history_and_rebuilds_everything_else(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with Workspace(db) as ws:
        import_log(ws, write_log(tmp_path / "a.csv", 5), KEYS)
        with ws.transaction() as con:  # an edit starts from a copy of the current version
            con.execute("CREATE TABLE notes AS SELECT 'kept by edits' AS note")
        assert ws.con.execute("SELECT count(*) FROM events").fetchone() == (20,)
        import_log(ws, write_log(tmp_path / "b.csv", 3), KEYS)  # a refresh starts empty
        tables = {r[0] for r in ws.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()}
        assert "notes" not in tables and {"events", "runs", "run_files"} <= tables
        assert ws.con.execute("SELECT count(*) FROM runs").fetchone() == (2,)


def test_writes_outside_a_transaction_fail_loudly(tmp_path: Path) -> None:
    import duckdb

    with Workspace(tmp_path / "new.duckdb") as ws, pytest.raises(duckdb.Error, match="read-only"):
        ws.con.execute("CREATE TABLE t (x INTEGER)")  # not silently into a scratch database


def test_reader_in_the_same_process_follows_versions(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with Workspace(db) as writer:
        import_log(writer, write_log(tmp_path / "a.csv", 5), KEYS)
        reader = Workspace(db, read_only=True)
        first = reader.version()
        assert not reader.changed() and not reader.reopen_if_changed()
        import_log(writer, write_log(tmp_path / "b.csv", 3), KEYS)
        assert reader.con.execute("SELECT count(*) FROM events").fetchone() == (20,)
        assert reader.changed() and reader.reopen_if_changed()
        assert reader.version() != first
        assert reader.con.execute("SELECT count(*) FROM events").fetchone() == (12,)
        reader.close()
