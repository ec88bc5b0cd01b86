"""A small XML tree with the line of every element, for model files (PNML, BPMN).

Namespaces are dropped from tag names (`bpmn:task` and `{ns}task` are both `task`):
model files from different tools qualify the same elements differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from ..errors import InputError, Location

__all__ = ["Node", "read_xml"]


@dataclass(slots=True)
class Node:
    """One element: local tag name, attributes, text, children and the line it starts on."""

    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> Node | None:
        """The first child with this tag."""
        return next((c for c in self.children if c.tag == tag), None)

    def all(self, tag: str) -> list[Node]:
        """The children with this tag."""
        return [c for c in self.children if c.tag == tag]

    def walk(self) -> list[Node]:
        """This element and every element below it, in document order."""
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out

    def child_text(self, *path: str) -> str | None:
        """The stripped text at a path of child tags (e.g. 'name', 'text'), or None."""
        node: Node | None = self
        for tag in path:
            node = node.find(tag) if node is not None else None
        return node.text.strip() if node is not None else None


def _local(name: str) -> str:
    """A tag or attribute name without its namespace prefix."""
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def read_xml(path: Path, what: str) -> Node:
    """Parse an XML file into a tree of Nodes; errors name the file and the line."""
    if not path.is_file():
        raise InputError(Location(str(path)), "no such file", f"check the path of the {what}")
    parser = expat.ParserCreate()
    stack: list[Node] = []
    root: list[Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = Node(_local(tag), {_local(k): v for k, v in attrs.items()}, parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        with path.open("rb") as f:
            parser.ParseFile(f)
    except expat.ExpatError as exc:
        raise InputError(Location(str(path), f"line {exc.lineno}"),
                         f"not well-formed XML ({expat.ErrorString(exc.code)})",
                         f"fix the {what} at that line (a tool's export should read as is)") from None
    if not root:
        raise InputError(Location(str(path)), "the file holds no XML element", f"write a {what}")
    return root[0]
