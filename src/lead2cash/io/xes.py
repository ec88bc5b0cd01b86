"""IEEE XES (1849-2016) for lead2cash: a fast reader into Arrow and a streaming writer.

`read_xes` returns one row per event with every value as its raw string and each
column's XES type, so the import pipeline casts vectorised in DuckDB. It tries the
vectorised fast path (`xes_fast`, the layout every XES writer emits) and falls back
to the exact pyexpat reader (`xes_exact`) for any other layout; the exact reader is
also the one that names the line of a malformed document. Nested `list` and
`container` attributes keep only their top-level value (when they have one).
"""

from __future__ import annotations

from pathlib import Path

from ..progress import NO_PROGRESS, Progress
from .xes_exact import read_exact
from .xes_fast import NotFast, read_fast
from .xes_source import XesTable
from .xes_write import write_xes

__all__ = ["XesTable", "read_xes", "write_xes"]


def read_xes(path: str | Path, progress: Progress = NO_PROGRESS) -> XesTable:
    """Read a `.xes` or `.xes.gz` file: events in document order, trace attributes as `case:`."""
    path = Path(path)
    try:
        return read_fast(path, progress)
    except NotFast:
        return read_exact(path, progress)
