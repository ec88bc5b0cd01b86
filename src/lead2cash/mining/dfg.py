"""The process map: activities, directly-follows edges with durations, start and end activities.

Simplification works like Disco's two sliders. `activities` keeps the most
frequent share of activities and recomputes the map on the log projected onto
them (so removed steps do not break paths); `paths` keeps the most frequent
share of edges, then adds back the strongest edges needed so that every kept
activity lies on a path from the start to the end.

The map of the whole log in calendar time is a standing query (`Engine.queries`
with a key): on DuckDB its SQL is kept compiled and no Ibis is imported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .compiled import Columns
from .derived import SEP, steps_expr
from .engine import Engine, frame_columns
from .stats import DurationStats, duration_aggs, stats_list

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from .calendar import CalendarSet
    from .filters import Filter, LogTables

__all__ = ["ActivityCount", "Edge", "ProcessMap", "discover", "simplify_paths"]

START, END = "\u25b6", "\u25a0"  # the virtual start and end nodes used while simplifying


@dataclass(frozen=True, slots=True)
class ActivityCount:
    """How often an activity occurs (events) and in how many cases."""

    activity: str
    events: int
    cases: int

    def to_dict(self) -> dict[str, Any]:
        return {"activity": self.activity, "events": self.events, "cases": self.cases}


@dataclass(frozen=True, slots=True)
class Edge:
    """A directly-follows relation: how often, in how many cases, and how long it takes."""

    source: str
    target: str
    frequency: int
    cases: int
    duration: DurationStats

    def to_dict(self) -> dict[str, Any]:
        head = {"source": self.source, "target": self.target,
                "frequency": self.frequency, "cases": self.cases}
        return head | self.duration.to_dict("duration_")


@dataclass(frozen=True, slots=True)
class ProcessMap:
    """Activities, edges (most frequent first), start and end activities with case counts."""

    activities: tuple[ActivityCount, ...]
    edges: tuple[Edge, ...]
    start_activities: dict[str, int] = field(default_factory=dict)
    end_activities: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "activities": [a.to_dict() for a in self.activities],
            "edges": [e.to_dict() for e in self.edges],
            "start_activities": dict(self.start_activities),
            "end_activities": dict(self.end_activities),
        }


def _counts(names: Any, counts: Any) -> dict[str, int]:
    """A {name: count} dict of the non-zero counts, most frequent first, then by name."""
    rows = sorted(((k, int(n)) for k, n in zip(names, counts) if n), key=lambda kv: (-kv[1], kv[0]))
    return dict(rows)


def _case_counts(t: LogTables) -> tuple[ir.Table, ir.Table]:
    """Cases per activity and per edge, from the variant counts of the (filtered) cases."""
    per_variant = t.cases.group_by("variant_id").aggregate(k=t.cases.count())
    vs = t.variant_steps.join(per_variant, "variant_id")
    acts = vs.select("variant_id", "ActivityName", "k").distinct()
    pairs = vs.filter(vs.target.notnull())
    return (acts.group_by("ActivityName").aggregate(cases=acts.k.sum()),
            pairs.group_by(["ActivityName", "target"]).aggregate(cases=pairs.k.sum()))


def _projected_case_counts(steps: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Cases per activity and per edge of a projected log (no precomputed variants there)."""
    acts = steps.select("SalesOpportunityId", "ActivityName").distinct()
    moves = steps.filter(steps.target_id.notnull())
    pairs = moves.select("SalesOpportunityId", "ActivityName", "target").distinct()
    return (acts.group_by("ActivityName").aggregate(cases=acts.count()),
            pairs.group_by(["ActivityName", "target"]).aggregate(cases=pairs.count()))


def _map_queries(steps: ir.Table, case_counts: tuple[ir.Table, ir.Table]) -> tuple[ir.Table, ir.Table]:
    """The two queries of a process map over a steps table: activities and edges, each joined
    with its case counts."""
    acts = steps.group_by("ActivityName").aggregate(
        n=steps.count(), starts=(steps.pos == 0).sum(), ends=steps.target_id.isnull().sum()
    ).join(case_counts[0], "ActivityName")
    return acts, _edges_query(steps, case_counts[1])


def _edges_query(steps: ir.Table, pair_cases: ir.Table) -> ir.Table:
    """Each directly-follows edge of a steps table: how often, how long, in how many cases."""
    moves = _moves(steps)
    return moves.group_by(["ActivityName", "target"]).aggregate(
        frequency=moves.count(), **duration_aggs(moves.duration_us)
    ).join(pair_cases, ["ActivityName", "target"])


def _log_map_queries(t: LogTables) -> tuple[ir.Table, ir.Table]:
    """The process map queries of the (filtered) log's stored steps, cases and variants: the
    activities from the cases alone (what `_map_queries` counts over the steps: a case's
    variant holds each of its events' activity, its first and last), the edges' durations
    from the steps."""
    case_counts = _case_counts(t)
    c = t.cases
    per_variant = c.group_by("variant_id").aggregate(k=c.count(), variant=c.variant.arbitrary())
    occ = per_variant.select("k", ActivityName=per_variant.variant.split(SEP).unnest())
    n = occ.group_by("ActivityName").aggregate(n=occ.k.sum())
    starts = c.group_by(ActivityName=c.first_activity).aggregate(starts=c.count())
    ends = c.group_by(ActivityName=c.last_activity).aggregate(ends=c.count())
    acts = n.left_join(starts, "ActivityName").select(n.ActivityName, n.n,
                                                       starts=starts.starts.fill_null(0))
    acts = acts.left_join(ends, "ActivityName").select(acts.ActivityName, acts.n, acts.starts,
                                                        ends=ends.ends.fill_null(0))
    return acts.join(case_counts[0], "ActivityName"), _edges_query(t.steps, case_counts[1])


def _moves(steps: ir.Table) -> ir.Table:
    """The steps that have a directly-following event."""
    return steps.filter(steps.target_id.notnull())


def _map_from_steps(engine: Engine, steps: ir.Table, case_counts: tuple[ir.Table, ir.Table],
                    t: LogTables, calendar: CalendarSet | None = None) -> ProcessMap:
    """Run the two queries of a process map over a steps table (edge durations in working
    time under `calendar`)."""
    acts, edges = _map_queries(steps, case_counts)
    a, e = engine.execute(acts), engine.execute(edges)
    if calendar is not None:
        from . import working

        moves = _moves(steps)
        pairs = moves.select("SalesOpportunityId", "ActivityName", "target", start=moves.EventTime,
                             us=moves.duration_us)
        e = working.restat(engine, e, pairs, t, calendar, ["ActivityName", "target"])
    return _assemble(frame_columns(a), frame_columns(e))


def _assemble(a: Columns, e: Columns) -> ProcessMap:
    """The process map from the results of its two queries."""
    names = a["ActivityName"]
    activities = sorted(
        (ActivityCount(n, int(ev), int(c)) for n, ev, c in zip(names, a["n"], a["cases"])),
        key=lambda x: (-x.events, x.activity),
    )
    edge_list = sorted(
        (Edge(s_, t_, int(f), int(c), d) for s_, t_, f, c, d in
         zip(e["ActivityName"], e["target"], e["frequency"], e["cases"], stats_list(e))),
        key=lambda x: (-x.frequency, x.source, x.target),
    )
    return ProcessMap(tuple(activities), tuple(edge_list),
                      _counts(names, a["starts"]), _counts(names, a["ends"]))


def discover(
    engine: Engine, filters: Iterable[Filter] = (), activities: float = 1.0, paths: float = 1.0,
    calendar: CalendarSet | None = None,
) -> ProcessMap:
    """The process map of the filtered log, simplified to a share of activities and of paths;
    edge durations in working time under `calendar` (calendar time without)."""
    for name, share in (("activities", activities), ("paths", paths)):
        if not 0.0 < share <= 1.0:
            raise ValueError(f"{name} share must be in (0, 1], got {share}")
    chosen = tuple(filters)
    if calendar is None:
        full = _assemble(*engine.queries(_log_map_queries, chosen, key="dfg"))
    else:
        tables = engine.tables(chosen)
        full = _map_from_steps(engine, tables.steps, _case_counts(tables), tables, calendar)
    if activities < 1.0:
        n_keep = max(1, math.ceil(activities * len(full.activities)))
        kept = [a.activity for a in full.activities[:n_keep]]
        tables = engine.tables(chosen)
        ev = tables.events
        projected = steps_expr(ev.filter(ev.ActivityName.isin(kept)))
        full = _map_from_steps(engine, projected, _projected_case_counts(projected), tables, calendar)
    return simplify_paths(full, paths) if paths < 1.0 else full


def simplify_paths(pm: ProcessMap, paths: float) -> ProcessMap:
    """Keep the most frequent share of edges, then reconnect every activity from start to end."""
    weighted: dict[tuple[str, str], int] = {(e.source, e.target): e.frequency for e in pm.edges}
    weighted |= {(START, a): n for a, n in pm.start_activities.items()}
    weighted |= {(a, END): n for a, n in pm.end_activities.items()}
    ranked = sorted(weighted, key=lambda k: (-weighted[k], k))
    kept = set(ranked[: max(1, math.ceil(paths * len(ranked)))])
    nodes = {a.activity for a in pm.activities} | {START, END}
    _connect(kept, ranked, nodes, forward=True)
    _connect(kept, ranked, nodes, forward=False)
    return replace(
        pm,
        edges=tuple(e for e in pm.edges if (e.source, e.target) in kept),
        start_activities={a: n for a, n in pm.start_activities.items() if (START, a) in kept},
        end_activities={a: n for a, n in pm.end_activities.items() if (a, END) in kept},
    )


def _connect(kept: set[tuple[str, str]], ranked: list[tuple[str, str]], nodes: set[str],
             forward: bool) -> None:
    """Add the strongest edges until every node is reachable from START (or reaches END)."""
    root = START if forward else END
    while True:
        reached = {root}
        frontier = [root]
        while frontier:
            node = frontier.pop()
            for s, t in kept:
                nxt = t if forward and s == node else s if not forward and t == node else None
                if nxt is not None and nxt not in reached:
                    reached.add(nxt)
                    frontier.append(nxt)
        if reached >= nodes:
            return
        bridge = next(
            ((s, t) for s, t in ranked
             if (s in reached and t not in reached if forward else t in reached and s not in reached)),
            None,
        )
        if bridge is None:  # the remaining nodes are unreachable even in the full map
            return
        kept.add(bridge)
