"""Optimal alignments of activity sequences with a Petri net (A* over the synchronous product).

Standard cost function, as in pm4py and ProM: a synchronous move costs 0, a move
on log or a move on model of a visible transition 10,000, a move on model of an
invisible transition 1; an alignment runs from the initial marking to exactly the
final marking. The search is A* with an admissible, consistent heuristic: every
remaining event whose activity no transition reachable from the current marking
carries (ignoring token counts) must become a move on log. It finds an optimal
alignment, so its cost equals any other optimal tool's.

Figures per trace, as pm4py's: `fitness = 1 - (cost // 10000) / (bwc // 10000)` where
the best worst cost `bwc` is 10,000 per event plus the cost of the model's cheapest
run on its own. A search that passes its time limit stops and says so (`None`).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter, deque
from dataclasses import dataclass

from .petri import Compiled, PetriNet

__all__ = ["Aligner", "Alignment", "Move", "DEVIATION_COST", "TAU_COST"]

DEVIATION_COST = 10_000
TAU_COST = 1
_CHECK_EVERY = 512  # expansions between two looks at the clock


@dataclass(frozen=True, slots=True)
class Move:
    """One step of an alignment: the event's activity (None: move on model) and the
    transition's label (None with `transition` set: invisible; both None never)."""

    log: str | None
    model: str | None
    transition: str | None  # the transition's name (None: move on log)

    @property
    def kind(self) -> str:
        """'sync', 'log' (move on log), 'model' (visible move on model) or 'tau'."""
        if self.transition is None:
            return "log"
        if self.log is not None:
            return "sync"
        return "model" if self.model is not None else "tau"

    def to_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "log": self.log, "model": self.model}


@dataclass(frozen=True, slots=True)
class Alignment:
    """An optimal alignment: its cost, fitness, the best worst cost, moves and search size."""

    cost: int
    fitness: float
    bwc: int
    moves: tuple[Move, ...]
    states: int

    @property
    def deviations(self) -> int:
        """Moves on log plus visible moves on model."""
        return self.cost // DEVIATION_COST

    def to_dict(self) -> dict[str, object]:
        kinds = Counter(m.kind for m in self.moves)
        return {"cost": self.cost, "fitness": self.fitness, "bwc": self.bwc,
                "moves_on_log": kinds["log"], "moves_on_model": kinds["model"],
                "sync_moves": kinds["sync"], "tau_moves": kinds["tau"],
                "moves": [m.to_dict() for m in self.moves]}


class Aligner:
    """Aligns activity sequences with one net (build once, align many variants).

    Markings get small integer ids as they are met, with their enabled transitions and
    the labels still possible from them cached, so variants share that work. When the
    net's reachable markings are few (at most `max_markings`), they are listed once and
    each gets two distances to the final marking: the fewest invisible and the fewest
    visible transitions on the way. They sharpen the heuristic (every completion fires
    at least that many) and prune markings from which the end cannot be reached.
    """

    def __init__(self, net: PetriNet, max_markings: int = 200_000) -> None:
        c: Compiled = net.compiled
        self.c = c
        n = len(c.place_names)
        self._ids: dict[tuple[int, ...], int] = {}
        self._markings: list[tuple[int, ...]] = []
        self._succ: list[list[tuple[int, str | None, Move, Move | None]] | None] = []
        self._labels: list[int] = []  # per marking: the id of its set of possible labels
        self._label_sets: list[frozenset[str]] = []
        self._label_set_ids: dict[frozenset[str], int] = {}
        self._initial = self._id(self._dense(c.initial, n))
        self._final = self._id(self._dense(c.final, n))
        self._max_markings = max_markings
        self._dist: list[tuple[int, int] | None] | None = None
        self._graph_done = False
        self._model_cost: int | None = None

    @staticmethod
    def _dense(marking: tuple[tuple[int, int], ...], n: int) -> tuple[int, ...]:
        out = [0] * n
        for p, k in marking:
            out[p] += k
        return tuple(out)

    def _id(self, m: tuple[int, ...]) -> int:
        """The id of a marking, registering it (and its possible labels) when new."""
        found = self._ids.get(m)
        if found is None:
            found = self._ids[m] = len(self._markings)
            self._markings.append(m)
            self._succ.append(None)
            labels = self._possible_labels(m)
            lid = self._label_set_ids.setdefault(labels, len(self._label_sets))
            if lid == len(self._label_sets):
                self._label_sets.append(labels)
            self._labels.append(lid)
        return found

    def _successors(self, mid: int) -> list[tuple[int, str | None, Move, Move | None]]:
        """(next marking id, label, model move, sync move) per transition enabled (cached)."""
        hit = self._succ[mid]
        if hit is not None:
            return hit
        c = self.c
        m = self._markings[mid]
        out = []
        for t, arcs in enumerate(c.pre):
            if all(m[p] >= w for p, w in arcs):
                nxt = list(m)
                for p, w in arcs:
                    nxt[p] -= w
                for p, w in c.post[t]:
                    nxt[p] += w
                label, name = c.labels[t], c.trans_names[t]
                sync = None if label is None else Move(label, label, name)
                out.append((self._id(tuple(nxt)), label, Move(None, label, name), sync))
        self._succ[mid] = out
        return out

    def _possible_labels(self, m: tuple[int, ...]) -> frozenset[str]:
        """Labels of the transitions that could still fire from m, ignoring token counts."""
        c = self.c
        marked = {p for p, k in enumerate(m) if k}
        fired = [False] * len(c.pre)
        labels: set[str] = set()
        changed = True
        while changed:
            changed = False
            for t, arcs in enumerate(c.pre):
                if not fired[t] and all(p in marked for p, _ in arcs):
                    fired[t] = changed = True
                    marked.update(p for p, _ in c.post[t])
                    if c.labels[t] is not None:
                        labels.add(c.labels[t])  # type: ignore[arg-type]
        return frozenset(labels)

    def _graph(self) -> list[tuple[int, int] | None] | None:
        """Per marking id: (fewest invisible, fewest visible) transitions to the final
        marking, None when it cannot be reached; None for all when there are too many."""
        if self._graph_done:
            return self._dist
        self._graph_done = True
        seen = {self._initial}
        frontier = [self._initial]
        back: dict[int, list[tuple[int, bool]]] = {}
        while frontier:
            m = frontier.pop()
            for nxt, label, _, _ in self._successors(m):
                back.setdefault(nxt, []).append((m, label is None))
                if nxt not in seen:
                    if len(seen) >= self._max_markings:
                        return None
                    seen.add(nxt)
                    frontier.append(nxt)
        taus = self._zero_one(back, tau_weight=1)
        visible = self._zero_one(back, tau_weight=0)
        self._dist = [(taus[m], visible[m]) if m in taus else None
                      for m in range(len(self._markings))]
        return self._dist

    def _zero_one(self, back: dict[int, list[tuple[int, bool]]], tau_weight: int) -> dict[int, int]:
        """Distances to the final marking, an invisible step weighing `tau_weight` and a
        visible one the other of 0 and 1 (0-1 breadth-first search over reversed edges)."""
        dist = {self._final: 0}
        queue = deque([self._final])
        while queue:
            m = queue.popleft()
            d = dist[m]
            for prev, is_tau in back.get(m, ()):
                w = tau_weight if is_tau else 1 - tau_weight
                if d + w < dist.get(prev, d + w + 1):
                    dist[prev] = d + w
                    if w:
                        queue.append(prev)
                    else:
                        queue.appendleft(prev)
        return dist

    def model_cost(self, time_limit: float | None = None) -> int | None:
        """Cost of the cheapest run of the model on its own (the empty trace's alignment);
        None when the final marking cannot be reached in time."""
        if self._model_cost is None:
            deadline = None if time_limit is None else time.monotonic() + time_limit
            found = self._search((), deadline)
            if found is None:
                return None
            self._model_cost = found[0]
        return self._model_cost

    def align(self, activities: tuple[str, ...] | list[str],
              time_limit: float | None = None) -> Alignment | None:
        """An optimal alignment of one activity sequence, or None when the final marking
        cannot be reached or the time limit (seconds) passes first."""
        trace = tuple(activities)
        deadline = None if time_limit is None else time.monotonic() + time_limit
        model = self.model_cost(time_limit)
        found = self._search(trace, deadline) if model is not None else None
        if found is None or model is None:
            return None
        cost, moves, states = found
        bwc = DEVIATION_COST * len(trace) + model
        den = bwc // DEVIATION_COST
        fitness = 1 - (cost // DEVIATION_COST) / den if den > 0 else 0.0
        return Alignment(cost, fitness, bwc, moves, states)

    def _search(self, trace: tuple[str, ...], deadline: float | None
                ) -> tuple[int, tuple[Move, ...], int] | None:
        """A* from (initial marking, 0) to (final marking, len(trace)); a state is reopened
        when a cheaper way to it turns up, so the result is optimal. A state is the integer
        marking id * (len(trace) + 1) + events consumed."""
        n = len(trace)
        width = n + 1
        suffix = [Counter(trace[i:]) for i in range(width)]
        dist = self._graph()
        unsync: dict[int, int] = {}  # label set id * width + i -> events that cannot sync

        def h(mid: int, i: int) -> int | None:
            lid = self._labels[mid]
            key = lid * width + i
            u = unsync.get(key)
            if u is None:
                labels = self._label_sets[lid]
                u = unsync[key] = sum(k for a, k in suffix[i].items() if a not in labels)
            if dist is None:
                return DEVIATION_COST * u
            d = dist[mid] if mid < len(dist) else None
            if d is None:
                return None  # the final marking is out of reach from here
            return DEVIATION_COST * (u + max(0, d[1] - (n - i - u))) + TAU_COST * d[0]

        start = self._initial * width
        h0 = h(self._initial, 0)
        if h0 is None:
            return None
        goal = self._final * width + n
        best = {start: 0}
        parent: dict[int, tuple[int, Move]] = {}
        tie = itertools.count()
        queue = [(h0, 0, 0, next(tie), start)]
        expanded = 0
        while queue:
            _f, _negi, g, _, state = heapq.heappop(queue)
            if g > best[state]:
                continue  # a cheaper way here was found after this entry was queued
            if state == goal:
                return g, self._moves(parent, state, start), expanded
            mid, i = divmod(state, width)
            expanded += 1
            if deadline is not None and expanded % _CHECK_EVERY == 0 and time.monotonic() > deadline:
                return None
            moves: list[tuple[int, int, int, Move]] = []
            if i < n:
                moves.append((mid, i + 1, DEVIATION_COST, Move(trace[i], None, None)))
            event = trace[i] if i < n else None
            for m2, label, model_move, sync in self._successors(mid):
                moves.append((m2, i, TAU_COST if label is None else DEVIATION_COST, model_move))
                if sync is not None and event == label:
                    moves.append((m2, i + 1, 0, sync))
            for m2, i2, cost, move in moves:
                nxt = m2 * width + i2
                g2 = g + cost
                if g2 < best.get(nxt, g2 + 1):
                    est = h(m2, i2)
                    if est is None:
                        continue
                    best[nxt] = g2
                    parent[nxt] = (state, move)
                    heapq.heappush(queue, (g2 + est, -i2, g2, next(tie), nxt))
        return None

    @staticmethod
    def _moves(parent: dict[int, tuple[int, Move]], state: int, start: int) -> tuple[Move, ...]:
        """The moves from the start to a state, following the parent links back."""
        out = []
        while state != start:
            state, move = parent[state]
            out.append(move)
        return tuple(reversed(out))
