"""Petri nets: the model that model-based conformance replays and aligns logs against.

A `PetriNet` is plain data (places, transitions with an optional label, weighted
arcs, initial and final marking), read from PNML or BPMN or built in code. Names
are the PNML ids; a transition without a label is invisible (a "tau").
`Compiled` is the indexed form the replay and the alignments run on: integer
places and transitions, arcs in file order, so every run is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ..errors import Lead2CashError

__all__ = ["Arc", "Compiled", "PetriNet", "Transition"]


@dataclass(frozen=True, slots=True)
class Transition:
    """A transition: its name (id) and the activity it stands for (None: invisible)."""

    name: str
    label: str | None


@dataclass(frozen=True, slots=True)
class Arc:
    """An arc from a place to a transition or back, with its weight (tokens moved)."""

    source: str
    target: str
    weight: int = 1


@dataclass(frozen=True)
class PetriNet:
    """A labelled Petri net with an initial and a final marking (place name -> tokens)."""

    places: tuple[str, ...]
    transitions: tuple[Transition, ...]
    arcs: tuple[Arc, ...]
    initial: Mapping[str, int]
    final: Mapping[str, int]
    name: str = "net"
    origin: str = "built in"  # where the net was read from, for messages
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        places, names = set(self.places), {t.name for t in self.transitions}
        if len(places) != len(self.places) or len(names) != len(self.transitions):
            raise Lead2CashError(f"{self.origin}: two places or two transitions share an id",
                                 "give every place and transition its own id")
        for a in self.arcs:
            ok = (a.source in places and a.target in names) or (a.source in names and a.target in places)
            if not ok:
                raise Lead2CashError(
                    f"{self.origin}: arc {a.source} -> {a.target} does not join a place and a transition",
                    "arcs run from a place to a transition or from a transition to a place")
        for what, marking in (("initial", self.initial), ("final", self.final)):
            unknown = [p for p in marking if p not in places]
            if unknown:
                raise Lead2CashError(f"{self.origin}: the {what} marking names unknown place {unknown[0]!r}",
                                     "mark places the net declares")
        if not self.initial:
            raise Lead2CashError(f"{self.origin}: the net has no initial marking",
                                 "put a token on the start place (<initialMarking><text>1</text>)")
        if not self.final:
            raise Lead2CashError(f"{self.origin}: the net has no final marking",
                                 "add <finalmarkings> or leave exactly one place without outgoing arcs")

    @property
    def labels(self) -> frozenset[str]:
        """The activities the model knows (labels of its visible transitions)."""
        return frozenset(t.label for t in self.transitions if t.label is not None)

    @cached_property
    def compiled(self) -> Compiled:
        """The indexed form used by replay and alignments (built once per net)."""
        return Compiled.of(self)

    def to_dict(self) -> dict[str, object]:
        """A JSON summary: size, labels, markings."""
        return {
            "name": self.name, "origin": self.origin, "places": len(self.places),
            "transitions": len(self.transitions),
            "invisible_transitions": sum(t.label is None for t in self.transitions),
            "activities": sorted(self.labels), "initial_marking": dict(self.initial),
            "final_marking": dict(self.final),
        }


def sink_places(places: Iterable[str], arcs: Iterable[Arc]) -> list[str]:
    """Places with no outgoing arc (the usual end of a workflow net)."""
    sources = {a.source for a in arcs}
    return [p for p in places if p not in sources]


@dataclass(frozen=True)
class Compiled:
    """A net as integer indexes.

    `pre[t]` / `post[t]`: (place, weight) pairs of transition t, in arc order;
    `out_places[p]`: the transitions place p feeds, in arc order.
    """

    net: PetriNet
    place_names: tuple[str, ...]
    trans_names: tuple[str, ...]
    labels: tuple[str | None, ...]
    pre: tuple[tuple[tuple[int, int], ...], ...]
    post: tuple[tuple[tuple[int, int], ...], ...]
    out_trans: tuple[tuple[int, ...], ...]
    initial: tuple[tuple[int, int], ...]
    final: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, net: PetriNet) -> Compiled:
        """Index a net's places and transitions in declaration order."""
        pi = {p: i for i, p in enumerate(net.places)}
        ti = {t.name: i for i, t in enumerate(net.transitions)}
        pre: list[list[tuple[int, int]]] = [[] for _ in net.transitions]
        post: list[list[tuple[int, int]]] = [[] for _ in net.transitions]
        out: list[list[int]] = [[] for _ in net.places]
        for a in net.arcs:
            if a.source in pi:
                pre[ti[a.target]].append((pi[a.source], a.weight))
                out[pi[a.source]].append(ti[a.target])
            else:
                post[ti[a.source]].append((pi[a.target], a.weight))
        return cls(
            net, tuple(net.places), tuple(t.name for t in net.transitions),
            tuple(t.label for t in net.transitions),
            tuple(tuple(x) for x in pre), tuple(tuple(x) for x in post), tuple(tuple(x) for x in out),
            tuple((pi[p], n) for p, n in net.initial.items() if n),
            tuple((pi[p], n) for p, n in net.final.items() if n),
        )

    @cached_property
    def by_label(self) -> dict[str, tuple[int, ...]]:
        """The transitions of each label, in declaration order."""
        out: dict[str, list[int]] = {}
        for t, label in enumerate(self.labels):
            if label is not None:
                out.setdefault(label, []).append(t)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def invisible(self) -> tuple[int, ...]:
        """The invisible transitions."""
        return tuple(t for t, label in enumerate(self.labels) if label is None)
