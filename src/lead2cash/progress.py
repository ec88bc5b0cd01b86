"""Progress reporting seam: the core reports, the CLI draws (the core never touches a terminal)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Progress", "NO_PROGRESS"]


class Progress(Protocol):
    """Receives progress of long work: a named step, units done so far, and the total if known."""

    def __call__(self, step: str, done: int, total: int | None = None) -> None: ...


def _silent(step: str, done: int, total: int | None = None) -> None:
    """Progress sink that ignores everything (the default for the Python API)."""


NO_PROGRESS: Progress = _silent
