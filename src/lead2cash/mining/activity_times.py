"""Activity durations and waiting times, from a log whose events carry start times.

With `lifecycle pairs` (event_filters.py) each event is one activity instance with a
`StartTime` and its completion (`EventTime`). Per activity:

- processing time: StartTime to EventTime of each instance;
- waiting time: from the previous instance's completion in the case to this one's start
  (the first instance of a case has none); negative when instances overlap, in which
  case the overlap is not counted as waiting (the instance counts as not waiting).

Without a `StartTime` column every instance is instantaneous: processing times are
zero and waiting times are the gaps between events (the process map's durations).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ibis

from .engine import Engine
from .event_filters import START_TIME
from .filters import CASE, Filter
from .stats import DurationStats, duration_aggs, stats_list

__all__ = ["ActivityTime", "activity_times"]


@dataclass(frozen=True, slots=True)
class ActivityTime:
    """One activity: instances, processing time and waiting time before it."""

    activity: str
    instances: int
    processing: DurationStats
    waiting: DurationStats

    def to_dict(self) -> dict[str, Any]:
        return ({"activity": self.activity, "instances": self.instances}
                | self.processing.to_dict("processing_") | self.waiting.to_dict("waiting_"))


def activity_times(engine: Engine, filters: Iterable[Filter] = ()) -> tuple[ActivityTime, ...]:
    """Processing and waiting time per activity of the filtered log (most instances first)."""
    t = engine.tables(filters)
    e = t.events
    start = e[START_TIME] if START_TIME in e.columns else e.EventTime
    x = e.select(CASE, "ActivityName", "EventTime", "event_id", begun=start)
    w = ibis.window(group_by=x[CASE], order_by=[x.EventTime, x.event_id])
    prev_end = x.EventTime.lag().over(w)
    x = x.mutate(
        proc=x.EventTime.delta(x.begun, unit="microsecond"),
        wait=ibis.ifelse(prev_end.isnull(), ibis.null("int64"), ibis.greatest(
            x.begun.delta(prev_end, unit="microsecond"), ibis.literal(0, "int64"))),
    )
    agg = x.group_by("ActivityName").aggregate(
        n=x.count(), **duration_aggs(x.proc, "p_"), **duration_aggs(x.wait, "w_"))
    frame = engine.execute(agg)
    rows = [ActivityTime(a, int(n), p, w_)
            for a, n, p, w_ in zip(frame.ActivityName.tolist(), frame.n.tolist(),
                                   stats_list(frame, "p_"), stats_list(frame, "w_"))]
    return tuple(sorted(rows, key=lambda r: (-r.instances, r.activity)))
