"""Shared plumbing of the XES reader: decompressed blocks, the long attribute form, the table.

Both readers (the vectorised fast path and the exact pyexpat path) produce the same
intermediate form (one row per attribute occurrence) and `assemble` pivots it into
one row per event, so the two paths cannot drift apart in what they return.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import InputError, Location
from ..progress import Progress
from .arrow_numpy import from_numpy, strings, to_numpy

__all__ = ["TYPE_NAMES", "XesTable", "AttrRows", "assemble", "blocks", "line_text",
           "refuse_doctype"]

BLOCK = 16 << 20  # decompressed bytes handed to a reader at a time
TYPE_NAMES = ("string", "date", "int", "float", "boolean", "id")


@dataclass(frozen=True)
class XesTable:
    """An XES log as one row per event (document order), every value a raw string.

    `types` gives each column's XES type ('string', 'date', 'int', 'float', 'boolean',
    'id'; a key seen with several types is 'string') so the importer casts vectorised.
    `_trace` and `_event` are 0-based positions used for error locations and lineage.
    """

    table: pa.Table
    types: dict[str, str]


@dataclass(frozen=True)
class AttrRows:
    """Attribute occurrences in document order: owner (event or trace index), key, type, value."""

    owner: np.ndarray  # int64 index of the event or trace the attribute belongs to
    key: pa.DictionaryArray  # the attribute keys, dictionary-encoded
    kind: np.ndarray  # int8 index into TYPE_NAMES
    value: pa.Array  # raw strings

    @staticmethod
    def concat(parts: list[AttrRows]) -> AttrRows:
        """One AttrRows from several chunks (owners are already global; dictionaries unified)."""
        names: dict[str, int] = {}
        codes = []
        for part in parts:
            own = part.key.dictionary.to_pylist()
            remap = np.array([names.setdefault(k, len(names)) for k in own], np.int32)
            codes.append(remap[to_numpy(part.key.indices)])
        return AttrRows(
            np.concatenate([np.zeros(0, np.int64)] + [p.owner for p in parts]),
            pa.DictionaryArray.from_arrays(
                from_numpy(np.concatenate([np.zeros(0, np.int32)] + codes)),
                strings(list(names))),
            np.concatenate([np.zeros(0, np.int8)] + [p.kind for p in parts]),
            pa.concat_arrays([strings([])] + [p.value for p in parts]),
        )


def refuse_doctype(parser: object, path: Path) -> None:
    """Make an expat parser refuse any DOCTYPE, before it declares a single entity.

    XES and OCEL 2.0 never need one; a DOCTYPE in a log is how entity expansion (the
    "billion laughs") and external entities (general or parameter: `SYSTEM "file:///…"`,
    `%ext;`) get in. pyexpat reads no external entity by itself, but refusing the DOCTYPE
    outright means neither the expansion nor any fetch is ever attempted.
    """

    def start_doctype(name: str, system_id: str | None, public_id: str | None,
                      has_internal_subset: int) -> None:
        what = ("an external DTD " + repr(system_id) if system_id
                else "entity declarations" if has_internal_subset else "a DOCTYPE")
        raise InputError(
            Location(str(path), f"line {parser.CurrentLineNumber}"),  # type: ignore[attr-defined]
            f"the file declares a DOCTYPE with {what}; refused for safety (entity expansion "
            "and external entities), nothing of it was read",
            "event logs need no DOCTYPE: remove the <!DOCTYPE …> declaration, or export the "
            "log again from its source")

    parser.StartDoctypeDeclHandler = start_doctype  # type: ignore[attr-defined]


def blocks(path: Path, progress: Progress, step: str) -> Iterator[bytes]:
    """Decompressed blocks of `path` (gzip recognised by its magic bytes), reporting progress."""
    if not path.is_file():
        raise InputError(Location(str(path)), "no such file",
                         "check the path (and the current folder)")
    total = path.stat().st_size
    with path.open("rb") as raw:
        packed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if packed else raw
        while True:
            try:
                block = stream.read(BLOCK)
            except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
                raise InputError(
                    Location(str(path), f"compressed byte {raw.tell()} of {total}"),
                    f"the gzip stream is truncated or corrupt ({exc})",
                    "the file was cut off or damaged while copying: fetch it again, "
                    "or re-compress the original .xes with gzip",
                ) from None
            if not block:
                break
            progress(step, raw.tell(), total)
            yield block


def line_text(path: Path, line: int) -> str | None:
    """Line `line` (1-based) of the decompressed file, shortened, to show in an error."""
    done, rest = 0, b""
    try:
        for block in blocks(path, lambda *_: None, ""):
            lines = (rest + block).split(b"\n")
            if done + len(lines) - 1 >= line:
                return _shown(lines[line - 1 - done])
            done, rest = done + len(lines) - 1, lines[-1]
    except InputError:
        pass
    return _shown(rest) if done + 1 == line else None


def _shown(raw: bytes) -> str:
    """A line of input as shown in an error message."""
    return raw.decode("utf-8", "replace").strip()[:160]


def _pivot(rows: AttrRows, n: int, prefix: str) -> tuple[dict[str, pa.Array], dict[str, str]]:
    """One column per key (first-seen order), `n` rows; a later duplicate key wins."""
    codes = to_numpy(rows.key.indices)
    names = rows.key.dictionary.to_pylist()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    present, first = np.unique(codes, return_index=True)
    columns: dict[str, pa.Array] = {}
    types: dict[str, str] = {}
    for code in present[np.argsort(first)]:
        sel = order[bounds[code]:bounds[code + 1]]
        where = np.full(n, -1, np.int64)
        where[rows.owner[sel]] = np.arange(len(sel))
        name = prefix + names[code]
        columns[name] = rows.value.take(from_numpy(sel)).take(from_numpy(where, missing=where < 0))
        kinds = np.flatnonzero(np.bincount(rows.kind[sel], minlength=len(TYPE_NAMES)))
        types[name] = TYPE_NAMES[kinds[0]] if len(kinds) == 1 else "string"
    return columns, types


def assemble(event_trace: np.ndarray, events: AttrRows, traces: AttrRows) -> XesTable:
    """The event table: event attributes, then trace attributes as `case:<key>`, then positions."""
    n = len(event_trace)
    n_traces = int(event_trace.max()) + 1 if n else 0
    if len(traces.owner):
        n_traces = max(n_traces, int(traces.owner.max()) + 1)
    columns, types = _pivot(events, n, "")
    trace_cols, trace_types = _pivot(traces, n_traces, "case:")
    take = from_numpy(event_trace.astype(np.int64))
    for name, col in trace_cols.items():
        columns[name] = col.take(take)
    types.update(trace_types)
    first = np.searchsorted(event_trace, event_trace, side="left")
    columns["_trace"] = from_numpy(event_trace.astype(np.int64))
    columns["_event"] = from_numpy((np.arange(n, dtype=np.int64) - first).astype(np.int64))
    return XesTable(pa.table(columns), types)
