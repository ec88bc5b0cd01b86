"""Refreshing a workspace while others read it: one writer, a new file, one atomic switch.

DuckDB lets many processes open a database file read-only at once, but a process that
opens it for writing needs it to itself (measured: read-only + read-only works across
processes; read-write is refused while any reader holds the file, and the other way round).
So a refresh never writes the workspace file in place:

1. it takes the writer lock `<db>.lock` (one refresh at a time; a second one is refused
   at once with who holds it);
2. it builds the next version in a build file beside the workspace, `<db>.next-<pid>`,
   reading the current version through a read-only attachment;
3. it commits, checkpoints and fsyncs the build file, then renames it over the workspace
   path (`os.replace`: atomic on POSIX) and fsyncs the folder.

A reader that had the old file open keeps its open file (the old inode) and answers from
the old log until it reopens; one that opens the path gets the old file before the rename
and the new one after, never a mixture. `file_version` is the cheap test a long-lived reader
uses to notice a new version. A refresh killed at any moment leaves the old file untouched;
its build file (and the build file's WAL) and lock file stay behind until the next refresh,
which removes them under the lock (`remove_strays`).

`pause_point` is a test seam: with `LEAD2CASH_TEST_PAUSE=<phase>:<marker file>` in the
environment, the refresh writes the marker when it reaches that phase and waits there, so
a test can kill it at a known moment.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..errors import Lead2CashError

__all__ = [
    "PAUSE_ENV",
    "PHASES",
    "WriterLock",
    "beside_error",
    "build_path",
    "create_empty",
    "file_version",
    "lock_path",
    "pause_point",
    "remove_strays",
    "stray_files",
    "switch",
]

PAUSE_ENV = "LEAD2CASH_TEST_PAUSE"
PHASES = ("started", "built", "committed", "switch", "switched")
"""Where a refresh can be held for a test: run started (lock taken, nothing built), build
file written but not committed, committed but not checkpointed, checkpointed and synced
just before the rename, and just after the rename (before the lock is released)."""

_BUILD = ".next-"


def lock_path(db: Path) -> Path:
    """The writer lock file of a workspace."""
    return db.with_name(db.name + ".lock")


def build_path(db: Path) -> Path:
    """The build file of this process's refresh: beside the workspace, so the rename is atomic."""
    return db.with_name(f"{db.name}{_BUILD}{os.getpid()}")


def stray_files(db: Path) -> list[Path]:
    """Build files (and their WAL files) of refreshes that did not finish."""
    if not db.parent.is_dir():
        return []
    return sorted(p for p in db.parent.iterdir() if p.name.startswith(db.name + _BUILD))


def remove_strays(db: Path) -> list[Path]:
    """Delete what killed refreshes left behind; only call while holding the writer lock."""
    gone = [p for p in stray_files(db) if not p.is_dir()]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def file_version(db: Path) -> str | None:
    """A token naming the file now at `db` (device and inode): a refresh always gives a new one.

    An open file keeps its inode, so the number of a file a reader holds cannot be reused for
    a new version while the reader holds it; None when there is no file yet.
    """
    try:
        st = os.stat(db)
    except FileNotFoundError:
        return None
    return f"{st.st_dev}:{st.st_ino}"


def pause_point(phase: str) -> None:
    """Test seam: wait here forever when LEAD2CASH_TEST_PAUSE names this phase (see module doc)."""
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    wanted, _, marker = spec.partition(":")
    if wanted != phase:
        return
    if marker:
        Path(marker).write_text(str(os.getpid()))
    while True:  # the test kills us here
        time.sleep(3600)


def _fsync(path: Path, directory: bool = False) -> None:
    """Flush a file's (or a folder's entries') data to the disk."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_empty(db: Path) -> None:
    """Put an empty workspace at `db` unless a file is there (atomic: link, never overwrite)."""
    for _ in range(3):  # a refresh cleaning strays may remove our scratch file: try again
        scratch = db.with_name(f"{db.name}{_BUILD}{os.getpid()}-empty")
        duckdb.connect(str(scratch)).close()
        try:
            os.link(scratch, db)
            return
        except FileExistsError:
            return
        except FileNotFoundError:
            continue
        finally:
            scratch.unlink(missing_ok=True)


def switch(build: Path, db: Path) -> None:
    """Make the (closed, checkpointed) build file the workspace in one atomic rename."""
    _fsync(build)
    pause_point("switch")
    os.replace(build, db)
    with contextlib.suppress(OSError):  # some file systems cannot sync a folder
        _fsync(db.parent, directory=True)
    pause_point("switched")


class WriterLock:
    """The one-writer lock of a workspace: an flock on `<db>.lock`, held for a whole refresh.

    The lock file names its holder (pid, command, since when) for the message a second
    refresh gets. It is removed on release; the holder checks after locking that the file it
    locked is still the one at the path, so removing it cannot let two writers in.
    """

    def __init__(self, db: Path, command: str) -> None:
        self.db = db
        self.path = lock_path(db)
        self.command = command
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock at once, or fail naming the refresh that holds it."""
        self.db.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise Lead2CashError(
                    f"{self.db}: another refresh of this workspace is running ({holder})",
                    "wait for it to finish, then run this one again (readers are not affected)",
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the previous holder removed the file we locked: lock the new one
        info = {"pid": os.getpid(), "command": self.command,
                "since": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        self._fd = fd

    def release(self) -> None:
        """Remove the lock file and let the next refresh in."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


def beside_error(db: Path, exc: BaseException) -> Lead2CashError:
    """A refresh cannot write the new version (or its lock) beside the workspace."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
    return Lead2CashError(
        f"{db}: cannot write the new version beside the workspace ({text})",
        f"a refresh builds the new log in {db.parent} next to the old one: make that folder "
        "writable and free disk space for a second copy, or choose another --db",
    )


def _read_holder(fd: int) -> str:
    """Who holds a lock, from the lock file's text."""
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {info['pid']}, `{info['command']}`, since {info['since']}"
    except (ValueError, KeyError, OSError):
        return "its process did not say who it is"

