"""BPMN 2.0 process models (as Camunda, Signavio, bpmn.io write them), read as Petri nets.

The translation is the usual one (Dijkman, Dumas and Ouyang, 2008):

- each sequence flow is a place;
- a task (any kind: task, userTask, serviceTask, ...) is a transition labelled with
  its name, taking a token from its incoming flow and putting one on every outgoing
  flow (several incoming flows merge first, as BPMN says: any one of them starts it);
- an exclusive gateway is a place with an invisible transition from each incoming
  flow and to each outgoing flow; a parallel gateway is one invisible transition
  from all incoming to all outgoing flows;
- the start event holds the initial token; every end event leads to the one end
  place (the final marking); intermediate events pass their token on unseen.

Inclusive, complex and event-based gateways, boundary events and sub-processes have
no exact place-transition meaning: they are refused with the element's line.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, Location
from .petri import Arc, PetriNet, Transition
from .xmltree import Node, read_xml

__all__ = ["read_bpmn"]

_TASKS = {"task", "userTask", "serviceTask", "manualTask", "scriptTask", "sendTask",
          "receiveTask", "businessRuleTask", "callActivity"}
_PASS = {"intermediateThrowEvent", "intermediateCatchEvent"}
_REFUSED = {"inclusiveGateway", "complexGateway", "eventBasedGateway", "boundaryEvent",
            "subProcess", "transaction", "adHocSubProcess"}
_KNOWN = _TASKS | _PASS | _REFUSED | {"startEvent", "endEvent", "exclusiveGateway",
                                      "parallelGateway", "sequenceFlow"}


class _Builder:
    """Collects places, transitions and arcs while walking the process."""

    def __init__(self) -> None:
        self.places: dict[str, None] = {}
        self.transitions: list[Transition] = []
        self.arcs: list[Arc] = []

    def place(self, name: str) -> str:
        self.places.setdefault(name)
        return name

    def transition(self, name: str, label: str | None, ins: list[str], outs: list[str]) -> None:
        self.transitions.append(Transition(name, label))
        self.arcs += [Arc(self.place(p), name) for p in ins]
        self.arcs += [Arc(name, self.place(p)) for p in outs]


def read_bpmn(path: str | Path) -> PetriNet:
    """Read the first process of a BPMN 2.0 file as a labelled Petri net."""
    path = Path(path)
    root = read_xml(path, "BPMN file")
    process = next((n for n in root.walk() if n.tag == "process"), None)
    if process is None:
        raise InputError(Location(str(path), f"line {root.line}"), "no <process> element",
                         "export the model as BPMN 2.0 XML (a .bpmn file)")

    def where(node: Node) -> Location:
        return Location(str(path), f"line {node.line}")

    nodes = {n.attrs.get("id", ""): n for n in process.children if n.tag in _KNOWN}
    flows = [n for n in process.children if n.tag == "sequenceFlow"]
    incoming: dict[str, list[str]] = {k: [] for k in nodes}
    outgoing: dict[str, list[str]] = {k: [] for k in nodes}
    for f in flows:
        src, dst, fid = f.attrs.get("sourceRef", ""), f.attrs.get("targetRef", ""), f.attrs.get("id", "")
        for end in (src, dst):
            if end not in nodes or nodes[end].tag == "sequenceFlow":
                raise InputError(where(f), f"sequence flow {fid!r} refers to unknown element {end!r}",
                                 "point sourceRef and targetRef at elements of the same process")
        outgoing[src].append(f"flow:{fid}")
        incoming[dst].append(f"flow:{fid}")
    b = _Builder()
    starts = [n for n in nodes.values() if n.tag == "startEvent"]
    if len(starts) != 1:
        raise InputError(where(process), f"the process has {len(starts)} start events",
                         "model exactly one start event")
    end = b.place("end")
    for ident, n in nodes.items():
        if n.tag == "sequenceFlow":
            continue
        if n.tag in _REFUSED:
            raise InputError(where(n), f"{n.tag} {ident!r} has no Petri-net translation here",
                             "use exclusive and parallel gateways and plain tasks "
                             "(see docs/conformance.md, models)")
        ins, outs = incoming[ident], outgoing[ident]
        if n.tag == "startEvent":
            b.transition(f"start:{ident}", None, [b.place("start")], outs)
        elif n.tag == "endEvent":
            for i, p in enumerate(ins):
                b.transition(f"end:{ident}:{i}", None, [p], [end])
        elif n.tag == "exclusiveGateway":
            hub = b.place(f"xor:{ident}")
            for i, p in enumerate(ins):
                b.transition(f"xor_in:{ident}:{i}", None, [p], [hub])
            for i, p in enumerate(outs):
                b.transition(f"xor_out:{ident}:{i}", None, [hub], [p])
        elif n.tag == "parallelGateway":
            b.transition(f"and:{ident}", None, ins, outs)
        else:
            label = (n.attrs.get("name") or "").strip() if n.tag in _TASKS else None
            if n.tag in _TASKS and not label:
                raise InputError(where(n), f"task {ident!r} has no name",
                                 "name each task after the activity it stands for")
            if not ins:
                raise InputError(where(n), f"{n.tag} {ident!r} has no incoming sequence flow",
                                 "connect it from the start event or another element")
            source = ins
            if len(ins) > 1:  # uncontrolled merge: any incoming flow starts the task
                merged = b.place(f"merge:{ident}")
                for i, p in enumerate(ins):
                    b.transition(f"merge:{ident}:{i}", None, [p], [merged])
                source = [merged]
            b.transition(f"task:{ident}", label, source, outs or [end])
    return PetriNet(tuple(b.places), tuple(b.transitions), tuple(b.arcs), {"start": 1}, {"end": 1},
                    process.attrs.get("name") or process.attrs.get("id", path.stem), str(path))
