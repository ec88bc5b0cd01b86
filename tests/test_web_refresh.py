"""A served dashboard while the log is refreshed: `lead2cash serve` keeps answering during an
`import` run by another process, from the old log, then from the new one, never with an
error, and lets the old version's file go once no request reads it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from mining_log import synthetic_frame
from web_support import server_process

OLD_CASES, NEW_CASES = 30, 45


def _log(path: Path, cases: int, seed: int) -> tuple[int, int]:
    """A synthetic log as CSV in the model's column names; its (cases, events)."""
    frame = synthetic_frame(cases=cases, seed=seed)
    frame.drop(columns=["event_id"]).to_csv(path, index=False)
    return cases, len(frame)


def _import(csv: Path, db: Path) -> subprocess.CompletedProcess[str]:
    """`lead2cash import` in a process of its own."""
    return subprocess.run([sys.executable, "-m", "lead2cash", "import", str(csv), "--db", str(db)],
                          capture_output=True, text=True, timeout=300, check=False)


def _held_deleted(pid: int, db: Path) -> list[str]:
    """Files named like the workspace that the process holds open although they were replaced."""
    held = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(db)) and target.endswith("(deleted)"):
            held.append(target)
    return held


def test_serve_answers_from_the_old_log_then_the_new_one_and_never_fails(tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    old = _log(tmp_path / "old.csv", OLD_CASES, seed=3)
    new = _log(tmp_path / "new.csv", NEW_CASES, seed=4)
    first = _import(tmp_path / "old.csv", db)
    assert first.returncode == 0, first.stdout + first.stderr
    # OPP-0040 .. OPP-0044 exist only in the new log
    found_by_version = {old: 0, new: NEW_CASES - 40}
    answers: list[tuple[str, int, object]] = []
    stop = threading.Event()

    def ask(base: str) -> None:
        """Ask the KPIs and a search in turn, each URL new (no finished page to reuse)."""
        i = 0
        with httpx.Client(base_url=base, timeout=120) as client:
            while not stop.is_set():
                i += 1
                r = client.get("/api/kpis", params={"ask": i})
                value: object = (r.json()["cases"], r.json()["events"]) if r.status_code == 200 else r.text
                answers.append(("kpis", r.status_code, value))
                r = client.get("/api/search", params={"text": "OPP-004", "ask": i})
                answers.append(("search", r.status_code, len(r.json()) if r.status_code == 200 else r.text))

    with server_process(db) as (base, proc):
        reader = threading.Thread(target=ask, args=(base,), daemon=True)
        reader.start()
        while not answers:
            time.sleep(0.1)
        before = len(answers)
        refresh = _import(tmp_path / "new.csv", db)  # another process, the server still running
        during = len(answers) - before
        assert refresh.returncode == 0, refresh.stdout + refresh.stderr
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(v == new for k, _, v in answers[before:]):
            time.sleep(0.2)
        time.sleep(1.0)  # a few answers more from the new version
        stop.set()
        reader.join(timeout=120)
        deadline = time.monotonic() + 30  # the old version closes with its last request
        while _held_deleted(proc.pid, db) and time.monotonic() < deadline:
            time.sleep(0.2)
        held = _held_deleted(proc.pid, db)

    assert during > 0, "the reader got no answer while the import ran"
    assert all(status == 200 for _, status, _ in answers), [a for a in answers if a[1] != 200][:3]
    kpis = [v for k, _, v in answers if k == "kpis"]
    assert set(kpis) <= {old, new}, set(kpis)
    assert kpis[0] == old and kpis[-1] == new
    switched = kpis.index(new)
    assert all(v == new for v in kpis[switched:]), "an answer from the old log after the new one"
    searches = [v for k, _, v in answers if k == "search"]
    assert set(searches) <= set(found_by_version.values()) and searches[-1] == NEW_CASES - 40
    assert not held, held
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(db.name)) in (
        [db.name], [db.name, db.name + ".tmp"])
