"""The record of every refresh: the `runs` and `run_files` tables and the failed-runs journal.

A run is one `import` or `extract`: when, which command, every input file (size, SHA-256,
and rows read = rows used + rows set aside, with the reasons), the events and cases it
loaded, how long it took, the log's LastDataUpdate, and its outcome.

Where each outcome is written:
- ok: in the new workspace file itself, by the same transaction that writes the new log
  (so the log and its run row appear together, atomically);
- failed: a failed run must leave the workspace file as it was, so it is appended to the
  journal `<db>.runs.jsonl` beside the workspace;
- interrupted: a run killed before it finished cannot write anything at its end; its
  "running" line in the journal (written when it started) stays, and the next refresh,
  which holds the writer lock and so knows that run is dead, records it as interrupted.

The next successful refresh moves the journal's runs into the `runs` table of the version
it writes and deletes the journal. `read_runs` shows both, so nothing waits unseen.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..errors import Lead2CashError

__all__ = [
    "KEPT_TABLES",
    "RUNS",
    "RUN_FILES",
    "FileAccount",
    "Run",
    "describe_failure",
    "journal_append",
    "journal_path",
    "journal_read",
    "pending_runs",
    "read_runs",
    "record",
]

RUNS = "runs"
RUN_FILES = "run_files"
KEPT_TABLES = (RUNS, RUN_FILES)
"""The tables a refresh carries from the old version to the new one: the history of runs.
Every other table describes the log and is rebuilt by each load."""

RUNS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {RUNS} (run_id VARCHAR, kind VARCHAR, command VARCHAR, "
    "started_at TIMESTAMP, finished_at TIMESTAMP, duration_s DOUBLE, outcome VARCHAR, "
    "message VARCHAR, events BIGINT, cases BIGINT, last_data_update TIMESTAMP)"
)
FILES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {RUN_FILES} (run_id VARCHAR, file VARCHAR, size BIGINT, "
    "sha256 VARCHAR, rows_read BIGINT, rows_used BIGINT, rows_set_aside BIGINT, reasons VARCHAR)"
)

_CHUNK = 1 << 20


def _files_of(path: Path) -> list[Path]:
    """The file itself, or a folder's files (a table exported in partitions) in name order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path]


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB chunks; of a folder, of each of its files'
    path within it and bytes, in name order."""
    digest = hashlib.sha256()
    for file in _files_of(path):
        if file != path:
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def size_of(path: Path) -> int:
    """A file's size in bytes; of a folder, the sum of its files' sizes."""
    return sum(f.stat().st_size for f in _files_of(path))


@dataclass(frozen=True, slots=True)
class FileAccount:
    """One input file of a run: what it is, and where each of its rows went.

    `rows_read == rows_used + rows_set_aside` always holds (checked when built). `reasons`
    counts set-aside rows per reason; a row with two problems counts under both.
    """

    file: str
    size: int
    sha256: str
    rows_read: int
    rows_used: int
    rows_set_aside: int
    reasons: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows_read != self.rows_used + self.rows_set_aside:
            raise ValueError(
                f"{self.file}: rows read ({self.rows_read}) != rows used ({self.rows_used}) "
                f"+ rows set aside ({self.rows_set_aside}): a row went unaccounted for"
            )

    @classmethod
    def of(cls, path: Path, *, rows_read: int, rows_used: int, rows_set_aside: int,
           reasons: dict[str, int] | None = None, shown: str | None = None) -> FileAccount:
        """The account of a file (or a folder of partitions) on disk (its size and hash are
        read here)."""
        return cls(shown or str(path), size_of(path), sha256_of(path), rows_read,
                   rows_used, rows_set_aside, dict(reasons or {}))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(slots=True)
class Run:
    """One import or extract, from start to outcome (times are naive UTC)."""

    kind: str
    command: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=_now)
    pid: int | None = field(default_factory=os.getpid)  # the process (journal only)
    files: list[FileAccount] = field(default_factory=list)
    outcome: str = "running"  # running | ok | failed | interrupted
    message: str | None = None
    finished_at: datetime | None = None
    events: int | None = None
    cases: int | None = None
    last_data_update: datetime | None = None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish (None while running)."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def add_file(self, account: FileAccount) -> None:
        """Record one input file's account."""
        self.files.append(account)

    def finish(self, outcome: str, message: str | None = None) -> None:
        """Mark the run done."""
        self.outcome, self.message, self.finished_at = outcome, message, _now()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (times in ISO 8601, UTC)."""
        out = asdict(self)
        for key in ("started_at", "finished_at", "last_data_update"):
            if out[key] is not None:
                out[key] = out[key].isoformat()
        out["duration_s"] = self.duration_s
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        """The inverse of `to_dict`."""
        data = dict(data)
        data.pop("duration_s", None)
        for key in ("started_at", "finished_at", "last_data_update"):
            if data.get(key):
                data[key] = datetime.fromisoformat(data[key])
        data["files"] = [FileAccount(**f) for f in data.get("files", [])]
        return cls(**data)


def describe_failure(exc: BaseException) -> str:
    """A failure as the runs table shows it: the user's message and fix, or the error's type
    and first line."""
    if isinstance(exc, Lead2CashError):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def journal_path(db: Path) -> Path:
    """The journal of runs not (yet) recorded in the workspace file."""
    return db.with_name(db.name + ".runs.jsonl")


def journal_append(db: Path, run: Run) -> None:
    """Append the run's current state as one line (synced), best effort: never raises."""
    with contextlib.suppress(OSError):
        db.parent.mkdir(parents=True, exist_ok=True)
        with journal_path(db).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(run.to_dict()) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def journal_read(db: Path) -> list[Run]:
    """The journal's runs, each in its latest state (a torn last line is ignored)."""
    latest: dict[str, Run] = {}
    try:
        lines = journal_path(db).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        try:
            run = Run.from_dict(json.loads(line))
        except (ValueError, TypeError, KeyError):
            continue
        latest[run.run_id] = run
    return list(latest.values())


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (for display: a pid can be reused)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pending_runs(db: Path, *, holding_lock: bool, exclude: str | None = None) -> list[Run]:
    """The journal's runs as they should be recorded: a "running" run whose process is gone
    (or any other than `exclude` when we hold the writer lock) was interrupted."""
    out = []
    for run in journal_read(db):
        if run.run_id == exclude:
            continue
        if run.outcome == "running" and (holding_lock or run.pid is None or not _alive(run.pid)):
            run.outcome = "interrupted"
            run.message = ("the process ended before the run finished (killed, crashed or "
                           "lost its machine); the workspace kept its previous log")
        out.append(run)
    return out


def record(con: duckdb.DuckDBPyConnection, runs: list[Run]) -> None:
    """Insert runs (and their files) into the tables of the connection's current database,
    skipping any run already there."""
    con.execute(RUNS_DDL)
    con.execute(FILES_DDL)
    known = {r[0] for r in con.execute(f"SELECT run_id FROM {RUNS}").fetchall()}
    for run in runs:
        if run.run_id in known:
            continue
        con.execute(
            f"INSERT INTO {RUNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run.run_id, run.kind, run.command, run.started_at, run.finished_at, run.duration_s,
             run.outcome, run.message, run.events, run.cases, run.last_data_update],
        )
        if run.files:
            con.executemany(
                f"INSERT INTO {RUN_FILES} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(run.run_id, f.file, f.size, f.sha256, f.rows_read, f.rows_used,
                  f.rows_set_aside, json.dumps(f.reasons)) for f in run.files],
            )
        known.add(run.run_id)


def read_runs(con: duckdb.DuckDBPyConnection | None, db: Path) -> list[Run]:
    """Every run, oldest first: those in the workspace's tables and those still in the journal."""
    runs: dict[str, Run] = {}
    if con is not None and _has_table(con, RUNS):
        files: dict[str, list[FileAccount]] = {}
        if _has_table(con, RUN_FILES):
            for rid, *rest in con.execute(
                f"SELECT run_id, file, size, sha256, rows_read, rows_used, rows_set_aside, "
                f"reasons FROM {RUN_FILES} ORDER BY rowid"
            ).fetchall():
                files.setdefault(rid, []).append(FileAccount(*rest[:6], json.loads(rest[6])))
        for row in con.execute(
            f"SELECT run_id, kind, command, started_at, finished_at, outcome, message, events, "
            f"cases, last_data_update FROM {RUNS}"
        ).fetchall():
            rid, kind, command, started, finished, outcome, message, events, cases, ldu = row
            runs[rid] = Run(kind, command, rid, started, None, files.get(rid, []), outcome,
                            message, finished, events, cases, ldu)
    for run in pending_runs(db, holding_lock=False):
        runs.setdefault(run.run_id, run)
    return sorted(runs.values(), key=lambda r: r.started_at)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the connection's current database has this table."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND table_catalog = current_database()", [name]
    ).fetchone()
    return bool(row and row[0])
