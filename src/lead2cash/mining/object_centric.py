"""Object-centric statistics: per object type its lifecycle, fan-out between types, what
flattening on the case type does to the events, and one process map per object type.

- Lifecycle: each type's log (the log flattened on it, as `--case-type` gives) read with
  the usual analyses: objects with events, lifecycle durations, start/end activities,
  the most frequent lifecycles.
- Fan-out: for each pair of types related by O2O, how many objects of one relate to each
  object of the other (all objects count, those with none too), with the distribution.
- Flattening on the case type (van der Aalst's convergence and divergence): events that
  touch several case objects are repeated once per object (convergence); events that touch
  none are left out (deficiency); a directly-follows pair in a case whose two events both
  touch objects of another type but not the same one puts one object's step before
  another's (divergence, "misordered").
- Process map: one map per object type (its flattened log's activities and edges), joined
  on the activities, where events shared by objects of several types meet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import ibis

from .. import objects as ob
from ..errors import Lead2CashError
from ..store import Workspace
from . import derived, dfg, variants
from .engine import DuckDBEngine
from .performance import case_durations
from .stats import DurationStats

__all__ = ["CountStats", "FanOut", "Flattening", "ObjectReport", "TypeLifecycle", "report"]

_HISTOGRAM = 10  # counts 0..10 one by one, then "more"


@dataclass(frozen=True, slots=True)
class CountStats:
    """A distribution of counts per object: how many objects, how many with none, the usual
    statistics, and how many objects have 0, 1, ... 10 and more."""

    objects: int
    none: int
    mean: float | None
    median: float | None
    p90: float | None
    max: int | None
    histogram: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"objects": self.objects, "none": self.none, "mean": self.mean,
                "median": self.median, "p90": self.p90, "max": self.max,
                "histogram": self.histogram}


@dataclass(frozen=True, slots=True)
class TypeLifecycle:
    """One object type: how many objects, how many have events, and their lifecycles."""

    object_type: str
    objects: int
    objects_with_events: int
    events: int
    relations: int
    events_per_object: CountStats
    duration: DurationStats
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    lifecycles: tuple[tuple[tuple[str, ...], int], ...]
    attributes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "object_type": self.object_type, "objects": self.objects,
            "objects_with_events": self.objects_with_events, "events": self.events,
            "event_object_relations": self.relations,
            "events_per_object": self.events_per_object.to_dict(),
            **self.duration.to_dict("lifecycle_duration_"),
            "start_activities": self.start_activities, "end_activities": self.end_activities,
            "lifecycles": [{"activities": list(a), "objects": n} for a, n in self.lifecycles],
            "attributes": list(self.attributes),
        }


@dataclass(frozen=True, slots=True)
class FanOut:
    """How many `target_type` objects each `source_type` object relates to (O2O, either way)."""

    source_type: str
    target_type: str
    relations: int
    qualifiers: tuple[str, ...]
    per_source: CountStats

    def to_dict(self) -> dict[str, Any]:
        return {"source_type": self.source_type, "target_type": self.target_type,
                "relations": self.relations, "qualifiers": list(self.qualifiers),
                f"{self.target_type}_per_{self.source_type}": self.per_source.to_dict()}


@dataclass(frozen=True, slots=True)
class Divergence:
    """Directly-follows pairs of the flattened log between two objects of another type."""

    object_type: str
    cases_with_several: int
    pairs_between_objects: int
    misordered_pairs: int
    cases_misordered: int

    def to_dict(self) -> dict[str, Any]:
        return {"object_type": self.object_type, "cases_with_several": self.cases_with_several,
                "pairs_between_objects": self.pairs_between_objects,
                "misordered_pairs": self.misordered_pairs, "cases_misordered": self.cases_misordered}


@dataclass(frozen=True, slots=True)
class Flattening:
    """What flattening on `case_type` does: events kept, repeated (convergence), left out
    (deficiency), and the directly-follows pairs that misorder other objects (divergence)."""

    case_type: str
    events: int
    events_kept: int
    events_left_out: int
    convergent_events: int
    flattened_events: int
    duplicated_rows: int
    max_case_objects_per_event: int
    divergence: tuple[Divergence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"case_type": self.case_type, "events": self.events, "events_kept": self.events_kept,
                "events_left_out": self.events_left_out,
                "convergent_events": self.convergent_events,
                "flattened_events": self.flattened_events, "duplicated_rows": self.duplicated_rows,
                "max_case_objects_per_event": self.max_case_objects_per_event,
                "misordered_pairs": sum(d.misordered_pairs for d in self.divergence),
                "divergence": [d.to_dict() for d in self.divergence]}


@dataclass(frozen=True, slots=True)
class ObjectReport:
    """Everything `lead2cash mine objects` shows, JSON first."""

    case_type: str
    types: tuple[TypeLifecycle, ...]
    fan_out: tuple[FanOut, ...]
    flattening: Flattening
    maps: dict[str, dfg.ProcessMap]
    activities: dict[str, tuple[int, tuple[str, ...]]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_type": self.case_type,
            "object_types": [t.to_dict() for t in self.types],
            "fan_out": [f.to_dict() for f in self.fan_out],
            "flattening": self.flattening.to_dict(),
            "process_map": {
                "activities": [{"activity": a, "events": n, "object_types": list(ts)}
                               for a, (n, ts) in self.activities.items()],
                "object_types": {t: m.to_dict() for t, m in self.maps.items()},
            },
        }


def _counts(values: list[int], total: int) -> CountStats:
    """CountStats of per-object counts (`values` only for objects with at least one; the rest
    of `total` have none)."""
    full = sorted([0] * (total - len(values)) + values)
    if not full:
        return CountStats(0, 0, None, None, None, None, {})

    def quantile(q: float) -> float:  # linear interpolation, as DuckDB's quantile_cont
        pos = q * (len(full) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        return float(full[lo] + (full[hi] - full[lo]) * (pos - lo))

    hist: dict[str, int] = {}
    for v in full:
        key = str(v) if v <= _HISTOGRAM else f">{_HISTOGRAM}"
        hist[key] = hist.get(key, 0) + 1
    return CountStats(len(full), total - len(values), sum(full) / len(full), quantile(0.5),
                      quantile(0.9), full[-1], hist)


def report(ws: Workspace, case_type: str | None = None, top: int = 5) -> ObjectReport:
    """The object-centric statistics of a workspace, the flattening judged on `case_type`
    (default: the workspace's case type)."""
    ws.require_log()
    con = ws.con
    if not ob.has_objects(con):
        raise Lead2CashError(f"{ws.path}: the workspace holds no objects (loaded by an older version)",
                             "re-import or re-extract the log with this version")
    con.execute("SET enable_progress_bar = false")  # the core never draws
    chosen = case_type or ob.case_type(con)
    ob.require_case_type(con, chosen)
    counts = ob.object_type_counts(con)
    types, maps = [], {}
    for object_type, n in counts.items():
        with DuckDBEngine(ws, case_type=object_type) as engine:
            maps[object_type] = dfg.discover(engine)
            types.append(_lifecycle(con, engine, object_type, n, maps[object_type], top))
    return ObjectReport(chosen, tuple(types), _fan_out(con, counts), _flattening(ws, chosen),
                        maps, _activities(con))


def _lifecycle(con: Any, engine: DuckDBEngine, object_type: str, n: int, pm: dfg.ProcessMap,
               top: int) -> TypeLifecycle:
    """One type's numbers, from its flattened log and the object tables."""
    per_object = [int(r[0]) for r in con.execute(
        f"SELECT count(DISTINCT r.event_id) FROM {ob.E2O} r JOIN {ob.OBJECTS} o USING (object_id) "
        f"WHERE o.object_type = ? GROUP BY r.object_id", [object_type]).fetchall()]
    events, relations = con.execute(
        f"SELECT count(DISTINCT r.event_id), count(*) FROM {ob.E2O} r JOIN {ob.OBJECTS} o "
        f"USING (object_id) WHERE o.object_type = ?", [object_type]).fetchall()[0]
    attrs = tuple(r[0] for r in con.execute(
        f"SELECT attribute FROM {ob.ATTRIBUTE_TYPES} WHERE object_type = ? ORDER BY 1",
        [object_type]).fetchall())
    v = variants.discover(engine, top=top)
    return TypeLifecycle(
        object_type, n, len(per_object), int(events), int(relations), _counts(per_object, n),
        case_durations(engine).duration, pm.start_activities, pm.end_activities,
        tuple((x.activities, x.cases) for x in v.variants), attrs)


def _fan_out(con: Any, counts: dict[str, int]) -> tuple[FanOut, ...]:
    """For each ordered pair of O2O-related types, targets per source object."""
    rows = con.execute(f"""
        WITH r AS (
          SELECT s.object_type AS a, s.object_id AS a_id, t.object_type AS b, t.object_id AS b_id,
                 qualifier FROM {ob.O2O} x JOIN {ob.OBJECTS} s ON s.object_id = x.source_id
          JOIN {ob.OBJECTS} t ON t.object_id = x.target_id
          UNION ALL
          SELECT t.object_type, t.object_id, s.object_type, s.object_id, qualifier FROM {ob.O2O} x
          JOIN {ob.OBJECTS} s ON s.object_id = x.source_id
          JOIN {ob.OBJECTS} t ON t.object_id = x.target_id)
        SELECT a, b, count(*), list(DISTINCT qualifier ORDER BY qualifier),
               (SELECT list(n) FROM (SELECT count(DISTINCT r2.b_id) AS n FROM r r2
                WHERE r2.a = r.a AND r2.b = r.b GROUP BY r2.a_id))
        FROM r GROUP BY a, b ORDER BY a, b""").fetchall()
    return tuple(FanOut(a, b, int(n) // (2 if a == b else 1), tuple(q), _counts(list(per), counts[a]))
                 for a, b, n, q, per in rows)


def _flattening(ws: Workspace, case_type: str) -> Flattening:
    """Convergence, deficiency and divergence of the log flattened on `case_type`."""
    con = ws.con
    events = ob.unique_events_table(con)
    typed = (f"SELECT r.event_id, r.object_id, o.object_type FROM {ob.E2O} r JOIN {ob.OBJECTS} o "
             "USING (object_id)")
    total, kept, convergent, rows_flat, widest = con.execute(f"""
        WITH k AS (SELECT event_id, count(DISTINCT object_id) AS n FROM ({typed})
                   WHERE object_type = ? GROUP BY 1)
        SELECT (SELECT count(*) FROM {events}), count(*), count(*) FILTER (WHERE n > 1),
               coalesce(sum(n), 0), coalesce(max(n), 0) FROM k""", [case_type]).fetchall()[0]
    # the flattening's directly-follows pairs, on the event ids E2O refers to
    backend = ibis.duckdb.from_connection(con)
    flat = ob.flatten(backend.table(events), ob.relations_of_type(
        backend.table(ob.E2O), backend.table(ob.OBJECTS), case_type))
    steps = backend.compile(derived.steps_expr(flat).select("SalesOpportunityId", "event_id",
                                                            "target_id"))
    rows = con.execute(f"""
        WITH s AS ({steps}), t AS ({typed} WHERE object_type <> ?),
        pairs AS (
          SELECT a.object_type, s.SalesOpportunityId AS c, s.event_id, s.target_id,
                 count(*) FILTER (WHERE b.object_id = a.object_id) > 0 AS shared
          FROM s JOIN t a ON a.event_id = s.event_id
          JOIN t b ON b.event_id = s.target_id AND b.object_type = a.object_type
          WHERE s.target_id IS NOT NULL GROUP BY ALL)
        SELECT ty.object_type,
          (SELECT count(*) FROM (SELECT c FROM (SELECT DISTINCT f.SalesOpportunityId AS c,
             t.object_id FROM s f JOIN t ON t.event_id = f.event_id
             WHERE t.object_type = ty.object_type) GROUP BY c HAVING count(*) > 1)),
          count(p.event_id), count(p.event_id) FILTER (WHERE NOT p.shared),
          count(DISTINCT p.c) FILTER (WHERE NOT p.shared)
        FROM (SELECT DISTINCT object_type FROM t) ty LEFT JOIN pairs p USING (object_type)
        GROUP BY ty.object_type ORDER BY ty.object_type""", [case_type]).fetchall()
    divergence = [Divergence(t, int(a), int(b), int(c), int(d)) for t, a, b, c, d in rows]
    return Flattening(case_type, int(total), int(kept), int(total) - int(kept), int(convergent),
                      int(rows_flat), int(rows_flat) - int(kept), int(widest), tuple(divergence))


def _activities(con: Any) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Each activity: its events (once each) and the object types they touch."""
    events = ob.unique_events_table(con)
    rows = con.execute(f"""
        SELECT e.ActivityName, count(DISTINCT e.event_id),
               list(DISTINCT o.object_type ORDER BY o.object_type) FILTER (WHERE o.object_type IS NOT NULL)
        FROM {events} e LEFT JOIN {ob.E2O} r USING (event_id) LEFT JOIN {ob.OBJECTS} o USING (object_id)
        GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()
    return {a: (int(n), tuple(ts or ())) for a, n, ts in rows}
