"""Token-based replay of activity sequences on a Petri net, with the figures pm4py reports.

The algorithm is the one of Berti and van der Aalst, "Reviving Token-based Replay"
(2019), with the same choices as pm4py's `fitness_token_based_replay`, so the same
log and net give the same fitness:

- each event fires a transition with its label (one enabled in the marking if there
  is one, else the same one every time: the last by name); an event whose activity
  the net does not know is skipped (counted in `unknown`);
- when that transition is not enabled, invisible transitions on the shortest
  invisible paths from marked places to the places that lack tokens are fired first;
  tokens still lacking are added and counted as *missing*;
- after the last event, invisible paths towards the final marking are walked;
  tokens left beyond the final marking are *remaining*; the final marking is
  consumed, and whatever of it is not there counts as missing;
- fitness of a trace = 1/2 (1 - missing/consumed) + 1/2 (1 - remaining/produced);
  a trace fits when nothing was missing or remaining during the replay.

Each step is a pure function of the ordered marking and the activity, so steps are
cached: variants that share a prefix or pass through the same markings are cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

from .petri import Compiled, PetriNet

__all__ = ["TokenReplayer", "TraceReplay"]

Marking = dict[int, int]  # place -> tokens; key order matters (as in pm4py's Counter)
_MAX_PATH_DEPTH = 50  # depth bound of the invisible shortest-path search
_MAX_HIDDEN_DEPTH = 2  # recursion bound when enabling a transition through invisible ones
_FINAL_ROUNDS = 5  # rounds of each attempt to reach the final marking


@dataclass(frozen=True, slots=True)
class TraceReplay:
    """The replay of one activity sequence: token counts, fitness, and where it deviated."""

    fit: bool
    fitness: float
    missing: int
    consumed: int
    remaining: int
    produced: int
    underfed: tuple[str, ...]  # activities fired with missing tokens, in trace order
    unknown: tuple[str, ...]  # activities the model has no transition for, in trace order
    remaining_places: tuple[tuple[str, int], ...]  # places holding tokens beyond the final marking


@dataclass(slots=True)
class _Step:
    """The effect of one event (or of the end phase) from a given marking."""

    marking: Marking
    missing: int
    consumed: int
    produced: int
    underfed: bool
    known: bool


class TokenReplayer:
    """Replays activity sequences on one net (build once, replay many variants)."""

    def __init__(self, net: PetriNet) -> None:
        c: Compiled = net.compiled
        self.c = c
        self._pre_sum = [sum(w for _, w in arcs) for arcs in c.pre]
        self._post_sum = [sum(w for _, w in arcs) for arcs in c.post]
        order = sorted(range(len(c.place_names)), key=lambda p: c.place_names[p])
        self._rank = {p: i for i, p in enumerate(order)}
        # The transition each label falls back to: the last of its transitions by name.
        self._fallback: dict[str, int] = {}
        for t in sorted(range(len(c.trans_names)), key=lambda t: c.trans_names[t]):
            label = c.labels[t]
            if label is not None:
                self._fallback[label] = t
        self._paths = self._hidden_paths()
        self._initial: Marking = dict(c.initial)
        self._final: Marking = dict(c.final)
        self._steps: dict[tuple[tuple[tuple[int, int], ...], str], _Step] = {}
        self._ends: dict[tuple[tuple[int, int], ...], _Step] = {}

    # --- the net ---------------------------------------------------------------------------

    def _hidden_paths(self) -> dict[int, dict[int, tuple[int, ...]]]:
        """For each place, the shortest sequence of invisible transitions leading to each place
        reachable through invisible transitions only (depth-first, improving strictly)."""
        c = self.c
        paths: dict[int, dict[int, tuple[int, ...]]] = {}

        def visit(src: int, cur: int, path: tuple[int, ...], depth: int) -> None:
            if depth > _MAX_PATH_DEPTH:
                return
            table = paths.setdefault(src, {})
            for t in c.out_trans[cur]:
                if c.labels[t] is not None:
                    continue
                for q, _ in c.post[t]:
                    if q not in table or len(path) + 1 < len(table[q]):
                        table[q] = longer = (*path, t)
                        visit(src, q, longer, depth + 1)

        for p in range(len(c.place_names)):
            visit(p, p, (), 0)
        return paths

    def _enabled(self, t: int, m: Marking) -> bool:
        return all(m.get(p, 0) >= w for p, w in self.c.pre[t])

    def _fire(self, t: int, m: Marking) -> Marking:
        out = dict(m)
        for p, w in self.c.pre[t]:
            out[p] -= w
            if out[p] == 0:
                del out[p]
        for p, w in self.c.post[t]:
            out[p] = out.get(p, 0) + w
        return out

    def _groups(self, marked: Marking, wanted: list[int]) -> list[tuple[int, ...]]:
        """Invisible paths from each marked place to each wanted place (both by place name),
        shortest first."""
        out = []
        for p1 in sorted(marked, key=self._rank.__getitem__):
            table = self._paths.get(p1)
            if table is None:
                continue
            for p2 in sorted(wanted, key=self._rank.__getitem__):
                if p2 in table:
                    out.append(table[p2])
        out.sort(key=len)
        return out

    # --- enabling a transition through invisible ones --------------------------------------

    def _walk_groups(self, t: int, m: Marking, fired: list[int], visited: set[int],
                     groups: list[tuple[int, ...]]) -> Marking:
        """Fire the paths' invisible transitions round by round until t is enabled or a round
        changes nothing."""
        index = [0] * len(groups)
        z = 0
        while True:
            g = z % len(groups)
            changed = False
            for _ in range(index[g], len(groups[g])):
                t3 = groups[g][index[g]]
                if t3 != t and self._enabled(t3, m) and t3 not in visited:
                    m = self._fire(t3, m)
                    fired.append(t3)
                    visited.add(t3)
                    changed = True
                index[g] += 1
                if self._enabled(t, m):
                    break
            if self._enabled(t, m) or not changed:
                return m
            z += 1

    def _enable(self, t: int, m: Marking, fired: list[int], depth: int, visited: set[int]) -> Marking:
        """Try to enable t by firing invisible transitions (recursing at most twice)."""
        if depth >= _MAX_HIDDEN_DEPTH or t in visited:
            return m
        visited.add(t)
        lacking = [p for p, w in self.c.pre[t] if m.get(p, 0) < w]
        groups = self._groups(m, lacking)
        if not groups:
            return m
        m = self._walk_groups(t, m, fired, visited, groups)
        if not self._enabled(t, m):
            for group in self._groups(m, lacking):
                for t4 in group:
                    if t4 == t or t4 in visited:
                        continue
                    if not self._enabled(t4, m):
                        m = self._enable(t4, m, fired, depth + 1, visited)
                    if self._enabled(t4, m):
                        m = self._fire(t4, m)
                        fired.append(t4)
                        visited.add(t4)
        return m

    # --- one event, the end, a whole trace ------------------------------------------------

    def _step(self, m: Marking, activity: str) -> _Step:
        """Replay one event from marking m."""
        key = (tuple(m.items()), activity)
        hit = self._steps.get(key)
        if hit is not None:
            return hit
        c = self.c
        consumed = produced = missing = 0
        underfed = False
        known = activity in self._fallback
        if known:
            t = next((x for x in c.by_label[activity] if self._enabled(x, m)), self._fallback[activity])
            if not self._enabled(t, m):
                fired: list[int] = []
                m = self._enable(t, dict(m), fired, 0, set())
                consumed += sum(self._pre_sum[x] for x in fired)
                produced += sum(self._post_sum[x] for x in fired)
            if not self._enabled(t, m):
                underfed = True
                m = dict(m)
                for p, w in c.pre[t]:
                    have = m.get(p, 0)
                    if have < w:
                        missing += w - have
                        m[p] = have + w
            consumed += self._pre_sum[t]
            produced += self._post_sum[t]
            m = self._fire(t, m)
        step = self._steps[key] = _Step(m, missing, consumed, produced, underfed, known)
        return step

    def _reached(self, m: Marking) -> bool:
        """Whether every place of the final marking holds a token (pm4py's stop test)."""
        return all(p in m for p in self._final)

    def _end(self, m: Marking) -> _Step:
        """Walk invisible paths towards the final marking (two attempts, as pm4py does)."""
        key = tuple(m.items())
        hit = self._ends.get(key)
        if hit is not None:
            return hit
        consumed = produced = 0
        for _ in range(_FINAL_ROUNDS):
            if self._reached(m):
                break
            for group in self._groups(m, list(self._final)):
                for t in group:
                    if self._enabled(t, m):
                        m = self._fire(t, m)
                        consumed += self._pre_sum[t]
                        produced += self._post_sum[t]
                if self._reached(m):
                    break
        if not self._reached(m) and len(self._final) == 1:
            sink = next(iter(self._final))
            links = [self._paths[p][sink] for p in m if p in self._paths and sink in self._paths[p]]
            links.sort(key=len)
            for _ in range(_FINAL_ROUNDS):
                for path in links:
                    for t in path:
                        if not self._enabled(t, m):
                            break
                        m = self._fire(t, m)
                        consumed += self._pre_sum[t]
                        produced += self._post_sum[t]
        step = self._ends[key] = _Step(m, 0, consumed, produced, False, True)
        return step

    def replay(self, activities: tuple[str, ...] | list[str]) -> TraceReplay:
        """Replay one activity sequence from the initial marking to the final one."""
        m = self._initial
        missing = consumed = 0
        produced = sum(self._initial.values())
        underfed: list[str] = []
        unknown: list[str] = []
        for a in activities:
            s = self._step(m, a)
            m = s.marking
            missing += s.missing
            consumed += s.consumed
            produced += s.produced
            if s.underfed:
                underfed.append(a)
            if not s.known:
                unknown.append(a)
        end = self._end(m)
        m = end.marking
        consumed += end.consumed
        produced += end.produced
        final = self._final
        lacking = sum(max(0, n - m.get(p, 0)) for p, n in final.items())
        left = {p: n - final.get(p, 0) for p, n in m.items() if n - final.get(p, 0) > 0}
        remaining = sum(left.values())
        fit = missing == 0 and remaining == 0
        consumed += sum(final.values())
        missing += lacking
        fitness = (0.5 * (1.0 - missing / consumed) + 0.5 * (1.0 - remaining / produced)
                   if consumed > 0 and produced > 0 else 1.0)
        names = self.c.place_names
        return TraceReplay(fit, fitness, missing, consumed, remaining, produced, tuple(underfed),
                           tuple(unknown), tuple((names[p], n) for p, n in left.items()))
