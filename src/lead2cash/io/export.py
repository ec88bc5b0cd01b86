"""Export the workspace's log to CSV, Parquet or XES, with the model's column names."""

from __future__ import annotations

from pathlib import Path

from ..errors import Lead2CashError
from ..progress import NO_PROGRESS, Progress
from ..store import Workspace, quote
from .convert import sql_literal

__all__ = ["EXPORT_FORMATS", "export_log", "export_format"]

EXPORT_FORMATS = ("csv", "parquet", "xes")
_ORDER = "ORDER BY SalesOpportunityId, EventTime, event_id"


def export_format(path: Path, explicit: str | None) -> str:
    """The export format from `--format` or the file name's ending."""
    if explicit:
        if explicit not in EXPORT_FORMATS:
            raise Lead2CashError(f"unknown export format '{explicit}'",
                                 f"use one of: {', '.join(EXPORT_FORMATS)}")
        return explicit
    name = path.name.lower()
    for fmt, endings in (("xes", (".xes", ".xes.gz")), ("parquet", (".parquet", ".pq")),
                         ("csv", (".csv", ".csv.gz"))):
        if name.endswith(endings):
            return fmt
    raise Lead2CashError(f"{path}: cannot tell the export format from the file name",
                         "end it with .csv, .parquet, .xes or .xes.gz, or pass --format")


def _select(ws: Workspace, fmt: str) -> str:
    """All columns in model order; CSV writes times as ISO 8601 UTC, Parquet as UTC instants."""
    cols = []
    for name, sql_type in ws.columns():
        q = quote(name)
        if sql_type == "TIMESTAMP":
            cols.append(f"strftime({q}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {q}" if fmt == "csv"
                        else f"timezone('UTC', {q}) AS {q}")
        else:
            cols.append(q)
    return f"SELECT {', '.join(cols)} FROM events {_ORDER}"


def export_log(ws: Workspace, path: str | Path, fmt: str | None = None,
               progress: Progress = NO_PROGRESS) -> int:
    """Write the whole log to `path`; returns the number of events written."""
    ws.require_log()
    path = Path(path)
    fmt = export_format(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xes":
        from .xes import write_xes

        return write_xes(ws.con, path, progress=progress)
    total = ws.con.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
    progress(f"writing {path.name}", 0, total)
    options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet, COMPRESSION zstd"
    if fmt == "csv" and path.name.lower().endswith(".gz"):
        options += ", COMPRESSION gzip"
    ws.con.execute(f"COPY ({_select(ws, fmt)}) TO {sql_literal(str(path))} ({options})")
    progress(f"writing {path.name}", total, total)
    return int(total)
