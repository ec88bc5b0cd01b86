"""The exact XES reader: pyexpat over the whole document, with line numbers in every error.

Slower than the vectorised fast path (`xes_fast`), it reads any well-formed XES
(any encoding, attribute order, quoting, comments, nested attributes) and is the
path that locates and explains errors. Nested `list`/`container` attributes: the
top-level attribute is kept only if it has a `value`; its children are ignored.
"""

from __future__ import annotations

from pathlib import Path
from xml.parsers import expat

import numpy as np

from ..errors import InputError, Location
from ..progress import Progress
from .arrow_numpy import strings
from .xes_source import (
    TYPE_NAMES,
    AttrRows,
    XesTable,
    assemble,
    blocks,
    line_text,
    refuse_doctype,
)

__all__ = ["read_exact", "ATTRIBUTE_TAGS", "xml_error"]

ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id", "list", "container"})
_KIND = {name: code for code, name in enumerate(TYPE_NAMES)}  # list, container: 0 (string)


class _Collector:
    """Expat handlers: keep trace and event attributes, check the log/trace/event nesting."""

    def __init__(self, path: Path, parser: expat.XMLParserType) -> None:
        self.path, self.parser = path, parser
        self.stack: list[str] = []
        self.trace = -1
        self.event_trace: list[int] = []
        self.rows: dict[str, tuple[list[int], list[str], list[int], list[str]]] = {
            "event": ([], [], [], []), "trace": ([], [], [], [])}

    def _fail(self, problem: str, hint: str, column: str | None = None) -> InputError:
        """An error at the parser's current line."""
        line = self.parser.CurrentLineNumber
        return InputError(Location(str(self.path), f"line {line}", column), problem, hint,
                          value=line_text(self.path, line))

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """An element opens: count traces and events, keep attributes of traces and events."""
        parent = self.stack[-1] if self.stack else None
        self.stack.append(name)
        if parent is None and name != "log":
            raise self._fail(f"the root element is <{name}>, not <log>",
                             "an XES file has one <log> element holding <trace> elements")
        if name == "trace":
            if parent != "log":
                raise self._fail(f"a <trace> inside <{parent}>",
                                 "put every <trace> directly in <log>")
            self.trace += 1
        elif name == "event":
            if parent != "trace":
                raise self._fail(f"an <event> outside a <trace> (inside <{parent}>)",
                                 "put every <event> inside the <trace> of its case")
            self.event_trace.append(self.trace)
        elif name in ATTRIBUTE_TAGS and parent in ("event", "trace") and "value" in attrs:
            key = attrs.get("key")
            if key is None:
                raise self._fail(f"a <{name}> attribute without a key",
                                 'give it a name: <string key="..." value="..."/>', column="key")
            owner, keys, types, values = self.rows[parent]
            owner.append(len(self.event_trace) - 1 if parent == "event" else self.trace)
            keys.append(key)
            types.append(_KIND.get(name, 0))
            values.append(attrs["value"])

    def end(self, name: str) -> None:
        """An element closes (expat has checked it matches)."""
        self.stack.pop()

    def attr_rows(self, owner: str) -> AttrRows:
        """The kept attributes of events or traces."""
        owners, keys, types, values = self.rows[owner]
        return AttrRows(np.array(owners, np.int64), strings(keys).dictionary_encode(),
                        np.array(types, np.int8), strings(values))


def xml_error(path: Path, exc: expat.ExpatError) -> InputError:
    """A malformed-XML error with line, character and the offending line's text."""
    return InputError(
        Location(str(path), f"line {exc.lineno}, character {exc.offset + 1}"),
        f"malformed XML: {expat.ErrorString(exc.code)}",
        "fix the XML at that place (unclosed or mismatched tags, a bare '&' or '<' in a value), "
        "or export the log again from its source",
        value=line_text(path, exc.lineno),
    )


def read_exact(path: Path, progress: Progress) -> XesTable:
    """Read an XES file with pyexpat; every problem is an InputError naming its line."""
    parser = expat.ParserCreate()
    refuse_doctype(parser, path)
    collector = _Collector(path, parser)
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    try:
        for block in blocks(path, progress, "reading XES"):
            parser.Parse(block, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise xml_error(path, exc) from None
    return assemble(np.array(collector.event_trace, np.int64),
                    collector.attr_rows("event"), collector.attr_rows("trace"))
