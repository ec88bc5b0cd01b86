"""Export the workspace's log to CSV, Parquet or XES, with the model's column names, or with its
objects to OCEL 2.0 (io/ocel_write.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from ..errors import Lead2CashError
from ..progress import NO_PROGRESS, Progress
from ..store import Workspace, quote
from .convert import sql_literal

__all__ = ["EXPORT_FORMATS", "export_log", "export_format"]

EXPORT_FORMATS = ("csv", "parquet", "xes", "ocel2")
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
                         ("csv", (".csv", ".csv.gz")),
                         ("ocel2", (".jsonocel", ".xmlocel", ".sqlite"))):
        if name.endswith(endings):
            return fmt
    raise Lead2CashError(f"{path}: cannot tell the export format from the file name",
                         "end it with .csv, .parquet, .xes or .xes.gz, or pass --format "
                         "(--format ocel2 writes OCEL 2.0 to .json, .xml or .sqlite)")


def _select(ws: Workspace, fmt: str) -> tuple[str, list[str]]:
    """All columns in model order, and the interval columns written as microseconds.

    CSV writes times as ISO 8601 UTC; Parquet writes UTC instants and Arrow durations.
    """
    cols, durations = [], []
    for name, sql_type in ws.columns():
        q = quote(name)
        if sql_type == "TIMESTAMP":
            cols.append(f"strftime({q}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {q}" if fmt == "csv"
                        else f"timezone('UTC', {q}) AS {q}")
        elif sql_type == "INTERVAL" and fmt == "parquet":
            cols.append(f"CAST(round(epoch({q}) * 1000000) AS BIGINT) AS {q}")
            durations.append(name)
        else:
            cols.append(q)
    return f"SELECT {', '.join(cols)} FROM events {_ORDER}", durations


def _write_parquet(ws: Workspace, select: str, durations: list[str], path: Path,
                   progress: Progress, total: int) -> None:
    """Stream the log into Parquet, typing interval columns as Arrow durations (µs)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    reader = ws.con.sql(select).to_arrow_reader(100_000)  # no extra copy (nor DuckDB's warning)
    fields = [pa.field(f.name, pa.duration("us")) if f.name in durations else f
              for f in reader.schema]
    schema = pa.schema(fields)
    done = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch.cast(schema))
            done += batch.num_rows
            progress(f"writing {path.name}", done, total)


def export_log(ws: Workspace, path: str | Path, fmt: str | None = None,
               progress: Progress = NO_PROGRESS) -> int:
    """Write the whole log to `path`; returns the number of events written."""
    ws.require_log()
    path = Path(path)
    fmt = export_format(path, fmt)
    existed = path.exists()
    try:
        return _export(ws, path, fmt, progress)
    except (OSError, duckdb.IOException, duckdb.PermissionException) as exc:
        if not existed:  # no half-written file of ours stays behind
            with contextlib.suppress(OSError):
                path.unlink()
        detail = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise Lead2CashError(f"{path}: cannot write the export ({detail})",
                             "choose a path in a folder you can write to, with room for the "
                             "file") from None


def _export(ws: Workspace, path: Path, fmt: str, progress: Progress) -> int:
    """export_log's work, once the format is known."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xes":
        from .xes import write_xes

        return write_xes(ws.con, path, progress=progress)
    if fmt == "ocel2":
        from .ocel_write import write_ocel

        return write_ocel(ws, path, progress).events
    total = ws.con.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
    progress(f"writing {path.name}", 0, total)
    select, durations = _select(ws, fmt)
    if fmt == "parquet":
        _write_parquet(ws, select, durations, path, progress, total)
        return int(total)
    options = "FORMAT csv, HEADER true"
    if path.name.lower().endswith(".gz"):
        options += ", COMPRESSION gzip"
    ws.con.execute(f"COPY ({select}) TO {sql_literal(str(path))} ({options})")
    progress(f"writing {path.name}", total, total)
    return int(total)
