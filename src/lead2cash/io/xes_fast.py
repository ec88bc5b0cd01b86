"""The fast XES reader: the usual XES layout, scanned with vectorised NumPy/Arrow kernels.

Why: a Python callback per XML element (pyexpat, lxml) costs seconds on a 262k-event
log. Here the document (after the header, which pyexpat checks) is cut at every `"`;
in the layout every XES writer emits (`<string key="k" value="v"/>`, tags without
attributes between them) the pieces alternate tag text, key, ` value=`, value. Each
piece of tag text is validated by one RE2 pattern per nesting level, the <trace> and
<event> tags in it are counted, and cumulative sums give every attribute its trace,
event and level. Anything outside that layout (comments, nested or reordered
attributes, single quotes, other encodings, bad entities, invalid UTF-8) raises
`NotFast` and the caller reads the file with the exact pyexpat reader instead, which
also produces the located error messages; the fast path never guesses.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from xml.parsers import expat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..progress import Progress
from .arrow_numpy import binary_scalar, from_numpy, strings, to_numpy
from .xes_exact import xml_error
from .xes_source import TYPE_NAMES as TYPES
from .xes_source import AttrRows, XesTable, assemble, blocks, refuse_doctype

__all__ = ["NotFast", "read_fast"]

_WS = r"[ \t\r\n]*"  # XML whitespace (RE2's and re's \s also accept \f and \v, which XML forbids)
_ATTR_OPEN = _WS + r"<(?:string|date|int|float|boolean|id) key=$"
_LOOPS = r"(?:" + _WS + r"(?:<event>" + _WS + r"</event>|</trace>" + _WS + r"<trace>))*"
# Tag text between two attributes, valid when the previous attribute sat in a trace
# (level 1) or in an event (level 2); empty events and traces are allowed in between.
_FROM_TRACE = "^" + _WS + "/>" + _LOOPS + _WS + "(?:<event>)?" + _ATTR_OPEN
_FROM_EVENT = "^" + _WS + "/>" + _WS + "(?:</event>" + _LOOPS + _WS + "(?:<event>)?)?" + _ATTR_OPEN
_VALUE_SEP = "^[ \t\r\n]+value=$"
_VALUE_EQ = binary_scalar(b" value=")  # the usual separator, compared as bytes
_STRUCT = re.compile(rb"[ \t\r\n]*<(/?)(trace|event)>")
_HEAD_END = re.compile(rb"[ \t\r\n]*<(string|date|int|float|boolean|id) key=\Z")
_TAIL_START = re.compile(rb"[ \t\r\n]*/>")
_LOG_END = re.compile(rb"[ \t\r\n]*</log>[ \t\r\n]*\Z")
# (closing slash, tag) -> (level before, level after): 0 in <log>, 1 in <trace>, 2 in <event>
_MOVES = {(b"", b"trace"): (0, 1), (b"/", b"trace"): (1, 0),
          (b"", b"event"): (1, 2), (b"/", b"event"): (2, 1)}
# Values an XML parser would change (whitespace, references) or reject (control characters).
_SPECIAL = r"[&<\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\x{FFFE}\x{FFFF}]"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_SPACES = str.maketrans({"\t": " ", "\n": " "})
_UTF8 = {None, "utf-8", "utf8", "us-ascii", "ascii"}
_WORKERS = min(4, os.cpu_count() or 1)  # chunks scanned at once


class NotFast(Exception):
    """The document leaves the layout the fast path handles; read it exactly instead."""


def _char(code: int) -> str:
    """A character reference, if it names a character XML 1.0 allows."""
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD \
            or 0x10000 <= code <= 0x10FFFF:
        return chr(code)
    raise NotFast(f"character reference {code}")


def _unescape(raw: str) -> str:
    """An attribute value as an XML parser returns it: whitespace normalised, entities resolved."""
    if "<" in raw or _ILLEGAL.search(raw):
        raise NotFast("a character XML forbids in an attribute value")
    text = raw.replace("\r\n", "\n").replace("\r", "\n").translate(_SPACES)
    found = 0

    def resolve(m: re.Match[str]) -> str:
        nonlocal found
        found += 1
        name, dec, hexa = m.groups()
        return _NAMED[name] if name else _char(int(dec) if dec else int(hexa, 16))

    text = _ENTITY.sub(resolve, text)
    if found != raw.count("&"):
        raise NotFast("bare '&' in an attribute value")
    return text


def _decoded(raw: pa.Array) -> pa.Array:
    """Attribute keys or values as text, with the rare escaped or multi-line ones resolved."""
    try:
        text = raw.cast(pa.string())
    except pa.ArrowInvalid as exc:
        raise NotFast("invalid UTF-8") from exc
    mask = pc.match_substring_regex(text, _SPECIAL)
    if not pc.any(mask).as_py():
        return text
    fixed = [_unescape(s) for s in text.filter(mask).to_pylist()]
    return pc.replace_with_mask(text, mask, strings(fixed))


def _check_header(path: Path, head: bytes) -> None:
    """Let pyexpat check everything before the first trace: root <log>, UTF-8, well formed."""
    parser = expat.ParserCreate()
    refuse_doctype(parser, path)
    depth = 0
    encoding: str | None = None

    def declaration(version: str, enc: str | None, standalone: int) -> None:
        """Note the declared encoding: the fast path reads UTF-8 (and ASCII) only."""
        nonlocal encoding
        encoding = enc

    def start(name: str, attrs: dict[str, str]) -> None:
        """Track depth; the root must be <log>."""
        nonlocal depth
        if depth == 0 and name != "log":
            raise NotFast("root is not <log>")
        depth += 1

    def end(name: str) -> None:
        """Track depth."""
        nonlocal depth
        depth -= 1

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.XmlDeclHandler = declaration
    try:
        parser.Parse(head, False)
    except expat.ExpatError as exc:
        raise xml_error(path, exc) from None
    if depth != 1 or (encoding or "utf-8").lower() not in _UTF8:
        raise NotFast("header")


def _pieces(text: bytes, quotes: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """Cut at the quotes (zero-copy) into the cycle tag text, key, ` value=`, value.

    Tag text is returned for every attribute but the first (whose tags precede the first quote).
    """
    bounds = np.empty(2 * len(quotes) + 2, np.int32)
    bounds[0], bounds[-1] = 0, len(text)
    bounds[1:-1:2], bounds[2:-1:2] = quotes, quotes + 1  # the quotes become 1-byte pieces
    pieces = pa.BinaryArray.from_buffers(pa.binary(), len(bounds) - 1,
                                         [None, pa.py_buffer(bounds), pa.py_buffer(text)])
    end = 2 * len(quotes)  # 8 pieces per attribute: 4 texts, each followed by a quote

    def every(first: int) -> pa.Array:
        """Every 8th piece from `first` on."""
        return pieces.take(from_numpy(np.arange(first, end, 8, dtype=np.int32)))

    return every(8), every(2), every(4), every(6)


class _Scanner:
    """Scans chunks that each end after a </trace>, carrying trace and event counts."""

    def __init__(self) -> None:
        self.trace = -1
        self.events = 0
        self.event_trace: list[np.ndarray] = []
        self.rows: dict[int, list[AttrRows]] = {1: [], 2: []}

    def walk(self, text: bytes, pos: int, level: int) -> tuple[int, int]:
        """Follow the <trace>/<event> tags at `pos`; returns the position after them, the level."""
        opened: list[int] = []
        while (m := _STRUCT.match(text, pos)) is not None:
            before, after = _MOVES[m.groups()]
            if level != before:
                raise NotFast("tag out of place")
            level, pos = after, m.end()
            if m.groups() == (b"", b"trace"):
                self.trace += 1
            elif m.groups() == (b"", b"event"):
                opened.append(self.trace)
        self.event_trace.append(np.array(opened, np.int64))
        self.events += len(opened)
        return pos, level

    def scan(self, text: bytes, final: bool) -> None:
        """Read one chunk: head and tail tags in Python, the attributes between them vectorised."""
        if len(text) >= 2**31:
            raise NotFast("chunk too large")
        quotes = np.flatnonzero(np.frombuffer(text, np.uint8) == 34)
        if len(quotes) % 4:
            raise NotFast("unpaired quotes")
        if len(quotes) == 0:
            self._tail(text, 0, 0, final)
            return
        pos, level = self.walk(text, 0, 0)
        head = _HEAD_END.match(text, pos, int(quotes[0]))
        if head is None or level == 0:
            raise NotFast("head")
        tags, keys, seps, values = _pieces(text, quotes)
        if not pc.all(pc.equal(seps, _VALUE_EQ)).as_py() and \
                not pc.all(pc.match_substring_regex(seps, _VALUE_SEP)).as_py():
            raise NotFast("attribute layout")
        levels, traces, event_at = self._middle(tags, level)
        kinds = np.zeros(len(keys), np.int8)
        kinds[0] = TYPES.index(head.group(1).decode())
        for code, name in enumerate(TYPES[1:], start=1):
            kinds[1:][to_numpy(pc.ends_with(tags, f"<{name} key="))] = code
        keys, values = pc.dictionary_encode(_decoded(keys)), _decoded(values)
        for lvl, owner in ((2, event_at), (1, traces)):
            mask = levels == lvl
            if mask.any():
                sel = from_numpy(mask)
                self.rows[lvl].append(AttrRows(owner[mask], keys.filter(sel), kinds[mask],
                                               values.filter(sel)))
        tail = _TAIL_START.match(text, int(quotes[-1]) + 1)
        if tail is None:
            raise NotFast("tail")
        self._tail(text, tail.end(), int(levels[-1]), final)

    def _middle(self, tags: pa.Array, head_level: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Level, trace and event index of every attribute after the first, from the tag text."""
        opens = to_numpy(pc.count_substring(tags, "<event>"))
        closes = to_numpy(pc.count_substring(tags, "</event>"))
        starts = to_numpy(pc.count_substring(tags, "<trace>"))
        levels = np.concatenate([[head_level], head_level + np.cumsum(opens - closes)])
        before = levels[:-1]
        if not np.isin(levels, (1, 2)).all():
            raise NotFast("levels")
        in_trace = before == 1
        if (opens > 1).any() or (closes[in_trace] > 0).any() or (closes > 1).any():
            raise NotFast("empty event between attributes")
        for pattern, where in ((_FROM_TRACE, in_trace), (_FROM_EVENT, ~in_trace)):
            subset = tags.filter(from_numpy(where)) if not where.all() else tags
            if len(subset) and not pc.all(pc.match_substring_regex(subset, pattern)).as_py():
                raise NotFast("tag text")
        traces = self.trace + np.concatenate([[0], np.cumsum(starts)])
        event_at = self.events - 1 + np.concatenate([[0], np.cumsum(opens)])
        middle_events = traces[1:][opens == 1]
        self.event_trace.append(middle_events.astype(np.int64))
        self.events += len(middle_events)
        self.trace = int(traces[-1])
        return levels, traces, event_at

    def _tail(self, text: bytes, pos: int, level: int, final: bool) -> None:
        """The tags after the last attribute: all traces closed, then </log> if the file ends."""
        pos, level = self.walk(text, pos, level)
        done = _LOG_END.match(text, pos) is not None if final else pos == len(text)
        if level != 0 or not done:
            raise NotFast("tail")

    def result(self) -> XesTable:
        """The assembled table."""
        return assemble(np.concatenate(self.event_trace), AttrRows.concat(self.rows[2]),
                        AttrRows.concat(self.rows[1]))


def _scanned(text: bytes, final: bool) -> _Scanner:
    """One chunk scanned on its own (it starts after a </trace>): its traces and events are
    numbered from 0, and `_merge` moves them after the chunks before it."""
    scanner = _Scanner()
    scanner.scan(text, final)
    return scanner


def _merge(parts: list[_Scanner]) -> _Scanner:
    """The chunks' scanners as one, each chunk's trace and event numbers shifted past the
    traces and events of the chunks before it."""
    whole = _Scanner()
    for part in parts:
        traces, events = whole.trace + 1, whole.events
        whole.event_trace += [t + traces for t in part.event_trace]
        for level, base in ((2, events), (1, traces)):
            whole.rows[level] += [replace(r, owner=r.owner + base) for r in part.rows[level]]
        whole.trace, whole.events = traces + part.trace, events + part.events
    return whole


def read_fast(path: Path, progress: Progress) -> XesTable:
    """Read an XES file in the usual layout, or raise NotFast (errors in the header are raised).

    Chunks end after a </trace>, so each is scanned on its own: in a second thread while this
    one decompresses and cuts the next (NumPy, Arrow and zlib release the GIL), which takes
    about a third off a 262k-event log on two cores."""
    buffer, header = b"", False
    pending: list[Future[_Scanner]] = []
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="lead2cash-xes") as pool:
        try:
            for block in blocks(path, progress, "reading XES"):
                buffer += block
                if not header:
                    start = buffer.find(b"<trace")
                    if start < 0:
                        continue
                    _check_header(path, buffer[:start])
                    header, buffer = True, buffer[start:]
                cut = buffer.rfind(b"</trace>")
                if cut >= 0:
                    pending.append(pool.submit(_scanned, buffer[:cut + 8], False))
                    buffer = buffer[cut + 8:]
                    if len(pending) > _WORKERS and not pending[-_WORKERS - 1].done():
                        pending[-_WORKERS - 1].result()  # at most a few chunks in memory
            if not header:
                raise NotFast("no trace")
            pending.append(pool.submit(_scanned, buffer, True))
            parts = [f.result() for f in pending]  # raises the first chunk's NotFast
        except BaseException:
            for f in pending:
                f.cancel()
            raise
    return _merge(parts).result()
