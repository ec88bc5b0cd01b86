"""A workspace served for hours while refreshes replace its log: always the newest version.

A refresh (`lead2cash import` / `extract`) builds the next version in a new file and renames
it over the workspace (docs/reliability.md); a reader keeps the version it opened until it
moves. `LiveWorkspace` moves a server to each new version without ever failing a request:

- before answering, `current()` asks whether a newer version is at the path (one `stat`) and,
  if so, opens it beside the old one (each `Workspace` reads its own attachment of the file,
  so both stay readable in one process) and makes it the current one;
- a request `pinned()` to a version reads that version from start to end, even when a newer
  one arrives meanwhile: its answer is wholly the old log or wholly the new one;
- an old version is closed when the last request reading it ends (its file then leaves the
  disk), never under a running query.

Nothing here writes: every version is opened read-only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import duckdb

from ..errors import Lead2CashError
from ..store import Workspace

__all__ = ["LiveWorkspace", "Version"]

T = TypeVar("T")
log = logging.getLogger("lead2cash.app")


@dataclass(eq=False)
class Version(Generic[T]):
    """One version of the workspace, opened read-only, and what was learnt about it on opening."""

    ws: Workspace
    info: T
    users: int = 0  # requests reading it now
    retired: bool = False  # a newer version is current: close when the last user leaves
    closed: bool = field(default=False, repr=False)


class LiveWorkspace(Generic[T]):
    """The newest version of a workspace, for a long-lived reader serving many threads.

    `describe(ws)` is run on every version as it is opened (it may check the log and read
    what the reader needs, e.g. a cache key); if it fails on a new version, the reader keeps
    the one it has and tries again on the next request.
    """

    def __init__(self, path: str | Path, describe: Callable[[Workspace], T]) -> None:
        self.path = Path(path)
        self._describe = describe
        self._lock = threading.Lock()
        self._local = threading.local()
        self._listeners: list[Callable[[], None]] = []
        self._current = self._open()

    def _open(self) -> Version[T]:
        """Open the version now at the path and describe it (closed again on failure)."""
        ws = Workspace(self.path, read_only=True)
        try:
            return Version(ws, self._describe(ws))
        except BaseException:
            ws.close()
            raise

    def on_new_version(self, listener: Callable[[], None]) -> None:
        """Call `listener` (in the thread that noticed) each time a newer version becomes current."""
        self._listeners.append(listener)

    def follow(self) -> bool:
        """Make the newest version at the path the current one; True if it moved."""
        if not self._current.ws.changed():
            return False
        with self._lock:
            old = self._current
            if not old.ws.changed():  # another thread moved already
                return False
            try:
                new = self._open()
            except (Lead2CashError, duckdb.Error, OSError) as exc:
                log.warning("%s: keeping the version served (cannot open the new one: %s)",
                            self.path, exc)
                return False
            self._current = new
            old.retired = True
            self._close_if_unused(old)
        for listener in self._listeners:
            listener()
        return True

    def current(self) -> Version[T]:
        """The version this thread reads: the one it is pinned to, else the newest."""
        pinned: Version[T] | None = getattr(self._local, "version", None)
        if pinned is not None:
            return pinned
        self.follow()
        return self._current

    @contextmanager
    def pinned(self, version: Version[T] | None = None) -> Iterator[Version[T]]:
        """Read one version throughout the block (in this thread; nested blocks share it).
        `version`: the one another thread holds pinned (a worker of that thread's request)."""
        held: Version[T] | None = getattr(self._local, "version", None)
        if held is not None:
            yield held
            return
        if version is None:
            self.follow()
        with self._lock:
            version = version or self._current
            version.users += 1
        self._local.version = version
        try:
            yield version
        finally:
            self._local.version = None
            with self._lock:
                version.users -= 1
                self._close_if_unused(version)

    @contextmanager
    def cursor(self) -> Iterator[Workspace]:
        """The pinned version (or the newest) on a DuckDB cursor of its own, closed afterwards."""
        with self.pinned() as version:
            view = version.ws.cursor()
            try:
                yield view
            finally:
                view.close()

    def _close_if_unused(self, version: Version[T]) -> None:
        """Close a retired version nobody reads any more (call with the lock held)."""
        if version.retired and not version.users and not version.closed:
            version.closed = True
            version.ws.close()

    def close(self) -> None:
        """Close the current version (retired ones close with their last reader)."""
        with self._lock:
            self._current.retired = True
            self._close_if_unused(self._current)
