"""A short description of the workspace's log: size, span, activities, freshness."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from .store import Workspace

__all__ = ["LogSummary", "summarize"]


@dataclass(frozen=True, slots=True)
class LogSummary:
    """What is in the log at a glance."""

    cases: int
    events: int
    activities: dict[str, int]
    first_event: datetime | None
    last_event: datetime | None
    last_data_update: datetime | None
    source_systems: dict[str, int]
    variants: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (times as ISO 8601 UTC)."""
        out = asdict(self)
        for key in ("first_event", "last_event", "last_data_update"):
            value = getattr(self, key)
            out[key] = value.isoformat() + "Z" if value else None
        return out


def summarize(ws: Workspace) -> LogSummary:
    """Count cases, events and activities of the workspace's log."""
    ws.require_log()
    con = ws.con
    cases, events, first, last, ldu = con.execute(
        "SELECT count(DISTINCT SalesOpportunityId), count(*), min(EventTime), max(EventTime), "
        "max(LastDataUpdate) FROM events"
    ).fetchone()  # type: ignore[misc]
    activities = dict(con.execute(
        "SELECT ActivityName, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC, 1").fetchall())
    systems = dict(con.execute(
        "SELECT coalesce(SourceSystem, '(none)'), count(*) AS n FROM events GROUP BY 1 "
        "ORDER BY n DESC, 1").fetchall())
    variants = con.execute(
        "SELECT count(DISTINCT v) FROM (SELECT string_agg(ActivityName, chr(31) "
        "ORDER BY EventTime, event_id) AS v FROM events GROUP BY SalesOpportunityId)"
    ).fetchone()[0]  # type: ignore[index]
    return LogSummary(int(cases), int(events), activities, first, last, ldu, systems, int(variants))
