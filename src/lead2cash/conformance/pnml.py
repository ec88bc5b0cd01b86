"""PNML (ISO/IEC 15909-2) Petri nets: read a file into a `PetriNet`, write one back.

Reads what ProM, pm4py, WoPeD and most editors write: places with an
`initialMarking`, transitions whose `name/text` is the activity (invisible when a
`toolspecific` element says `activity="$invisible$"`, or `invisible` is true),
arcs with an optional `inscription` (the weight), and the final marking in
`<finalmarkings>`. Without one, the single place that has no outgoing arc is
the final place. Every error names the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from ..errors import InputError, Location
from .petri import Arc, PetriNet, Transition, sink_places
from .xmltree import Node, read_xml

__all__ = ["read_pnml", "to_pnml", "write_pnml"]

_FIX = "see docs/conformance.md (models) for what a PNML file holds"


def _int(node: Node | None, path: Path, what: str) -> int:
    """The integer text of an element such as <initialMarking><text>1</text>."""
    text = node.child_text("text") if node is not None else None
    if text is None:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise InputError(Location(str(path), f"line {node.line}"), f"{what} is not a whole number",  # type: ignore[union-attr]
                         "write a whole number of tokens, e.g. <text>1</text>", value=text) from None
    if value < 0:
        raise InputError(Location(str(path), f"line {node.line}"), f"{what} is negative",  # type: ignore[union-attr]
                         "write zero or more tokens", value=text)
    return value


def _invisible(node: Node) -> bool:
    """Whether a transition is marked invisible by a tool-specific element."""
    for ts in node.all("toolspecific"):
        if "invisible" in ts.attrs.get("activity", ""):
            return True
        if any(c.attrs.get("key") == "invisible" and c.text.strip().lower() == "true"
               for c in ts.children):
            return True
    return False


def read_pnml(path: str | Path) -> PetriNet:
    """Read a PNML file (the last <net> in it, all its pages) as a labelled Petri net."""
    path = Path(path)
    root = read_xml(path, "PNML file")
    nets = root.all("net") if root.tag == "pnml" else []
    if not nets:
        raise InputError(Location(str(path), f"line {root.line}"), "no <pnml><net> element",
                         _FIX)
    net = nets[-1]
    elements = [n for page in [net, *(p for p in net.walk() if p.tag == "page")]
                for n in page.children]
    places: dict[str, int] = {}
    transitions: dict[str, Transition] = {}
    arcs: list[Arc] = []
    lines: dict[str, int] = {}
    for n in elements:
        ident = n.attrs.get("id")
        if n.tag in ("place", "transition"):
            if not ident:
                raise InputError(Location(str(path), f"line {n.line}"), f"a {n.tag} has no id",
                                 f'give it one: <{n.tag} id="...">')
            if ident in lines:
                raise InputError(Location(str(path), f"line {n.line}"),
                                 f"id {ident!r} is already used on line {lines[ident]}",
                                 "give every place and transition its own id")
            lines[ident] = n.line
        if n.tag == "place":
            places[ident] = _int(n.find("initialMarking"), path, "the initial marking")  # type: ignore[index]
        elif n.tag == "transition":
            label = n.child_text("name", "text") or ident
            transitions[ident] = Transition(ident, None if _invisible(n) else label)  # type: ignore[arg-type]
    for n in elements:
        if n.tag != "arc":
            continue
        src, dst = n.attrs.get("source"), n.attrs.get("target")
        ok = (src in places and dst in transitions) or (src in transitions and dst in places)
        if not ok:
            raise InputError(Location(str(path), f"line {n.line}"),
                             f"arc {src!r} -> {dst!r} does not join a declared place and transition",
                             "point source and target at the ids of a place and a transition")
        weight = _int(n.find("inscription"), path, "the arc inscription") or 1
        arcs.append(Arc(src, dst, weight))  # type: ignore[arg-type]
    final: dict[str, int] = {}
    fms = net.find("finalmarkings")
    markings = fms.all("marking") if fms is not None else []
    if markings:
        for ref in markings[0].all("place"):
            pid = ref.attrs.get("idref", "")
            if pid not in places:
                raise InputError(Location(str(path), f"line {ref.line}"),
                                 f"the final marking names unknown place {pid!r}", _FIX)
            tokens = _int(ref, path, "the final marking")
            if tokens:
                final[pid] = tokens
    else:
        sinks = sink_places(places, arcs)
        if len(sinks) != 1:
            raise InputError(Location(str(path), f"line {net.line}"),
                             f"no <finalmarkings>, and {len(sinks)} places have no outgoing arc",
                             "add <finalmarkings><marking><place idref=\"end\"><text>1</text>"
                             "</place></marking></finalmarkings> to the net")
        final = {sinks[0]: 1}
    name = net.child_text("name", "text") or net.attrs.get("id", path.stem)
    return PetriNet(tuple(places), tuple(transitions.values()), tuple(arcs),
                    {p: n for p, n in places.items() if n}, final, name, str(path))


def to_pnml(net: PetriNet) -> str:
    """The net as PNML text (pm4py and ProM read it back; invisible transitions marked as ProM does)."""
    q = quoteattr
    out = ["<?xml version='1.0' encoding='UTF-8'?>", "<pnml>",
           f'  <net id={q(net.name)} type="http://www.pnml.org/version-2009/grammar/pnmlcoremodel">',
           f"    <name><text>{_esc(net.name)}</text></name>", '    <page id="n0">']
    for p in net.places:
        mark = net.initial.get(p, 0)
        body = f"<initialMarking><text>{mark}</text></initialMarking>" if mark else ""
        out.append(f"      <place id={q(p)}><name><text>{_esc(p)}</text></name>{body}</place>")
    for t in net.transitions:
        text = t.label if t.label is not None else t.name
        tool = ('<toolspecific tool="ProM" version="6.4" activity="$invisible$"/>'
                if t.label is None else "")
        out.append(f"      <transition id={q(t.name)}><name><text>{_esc(text)}</text></name>{tool}"
                   "</transition>")
    for i, a in enumerate(net.arcs):
        ins = f"<inscription><text>{a.weight}</text></inscription>" if a.weight != 1 else ""
        out.append(f'      <arc id="a{i}" source={q(a.source)} target={q(a.target)}>{ins}</arc>')
    out.append("    </page>")
    out.append("    <finalmarkings><marking>")
    out += [f"      <place idref={q(p)}><text>{n}</text></place>" for p, n in net.final.items()]
    out += ["    </marking></finalmarkings>", "  </net>", "</pnml>", ""]
    return "\n".join(out)


def _esc(text: str) -> str:
    """Text content escaped for XML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_pnml(net: PetriNet, path: str | Path) -> None:
    """Write the net as a PNML file."""
    Path(path).write_text(to_pnml(net), encoding="utf-8")
