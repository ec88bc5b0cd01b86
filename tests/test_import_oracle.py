"""Real public logs import with the same cases, events, activities, start/end activities and
directly-follows counts as pm4py computes on the same file (pm4py: test-only oracle)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from lead2cash.io.importer import import_log
from lead2cash.store import Workspace

LOGS = [
    "receipt.csv",
    "running-example.xes",
    "roadtraffic100traces.xes",
    "helpdesk.xes.gz",
    pytest.param("bpic2012.xes.gz", marks=pytest.mark.slow),
]


def pm4py_frame(path: Path) -> pd.DataFrame:
    """The log as pm4py reads it, sorted the way pm4py's discovery sorts it."""
    import pm4py

    if path.suffix == ".csv":
        df = pd.read_csv(path)
        return pm4py.format_dataframe(df, case_id="case:concept:name", activity_key="concept:name",
                                      timestamp_key="time:timestamp")
    return pm4py.read_xes(str(path))


def pm4py_facts(path: Path) -> dict[str, object]:
    """Counts pm4py computes: cases, events, activities, start/end activities, DFG."""
    import pm4py

    df = pm4py_frame(path)
    dfg, start, end = pm4py.discover_dfg(df)
    return {
        "cases": df["case:concept:name"].nunique(),
        "events": len(df),
        "activities": dict(Counter(df["concept:name"])),
        "start": dict(start),
        "end": dict(end),
        "dfg": {k: v for k, v in dfg.items()},
    }


def our_facts(ws: Workspace) -> dict[str, object]:
    """The same counts from the workspace, ordering by (EventTime, event_id)."""
    con = ws.con
    ordered = ("SELECT SalesOpportunityId AS c, ActivityName AS a, row_number() OVER w AS pos, "
               "count(*) OVER (PARTITION BY SalesOpportunityId) AS n, lead(ActivityName) OVER w AS nxt "
               "FROM events WINDOW w AS (PARTITION BY SalesOpportunityId ORDER BY EventTime, event_id)")
    return {
        "cases": con.execute("SELECT count(DISTINCT SalesOpportunityId) FROM events").fetchone()[0],
        "events": con.execute("SELECT count(*) FROM events").fetchone()[0],
        "activities": dict(con.execute("SELECT ActivityName, count(*) FROM events GROUP BY 1").fetchall()),
        "start": dict(con.execute(f"SELECT a, count(*) FROM ({ordered}) WHERE pos = 1 GROUP BY 1").fetchall()),
        "end": dict(con.execute(f"SELECT a, count(*) FROM ({ordered}) WHERE pos = n GROUP BY 1").fetchall()),
        "dfg": {(a, b): n for a, b, n in con.execute(
            f"SELECT a, nxt, count(*) FROM ({ordered}) WHERE nxt IS NOT NULL GROUP BY 1, 2").fetchall()},
    }


@pytest.mark.parametrize("name", LOGS)
def test_real_log_matches_pm4py(name: str, shared_data: Path, workspace: Workspace) -> None:
    path = shared_data / name
    result = import_log(workspace, path)
    expected = pm4py_facts(path)
    got = our_facts(workspace)
    assert result.events == expected["events"] and result.cases == expected["cases"]
    for key in ("cases", "events", "activities", "start", "end", "dfg"):
        assert got[key] == expected[key], key


def test_receipt_times_are_utc_instants(shared_data: Path, workspace: Workspace) -> None:
    """Offsets in the file are honoured: stored times equal pandas' UTC parse, to the microsecond."""
    import_log(workspace, shared_data / "receipt.csv")
    df = pd.read_csv(shared_data / "receipt.csv")
    expected = sorted(pd.to_datetime(df["time:timestamp"], utc=True, format="ISO8601")
                      .dt.tz_localize(None).astype("datetime64[us]").tolist())
    got = [r[0] for r in workspace.con.execute("SELECT EventTime FROM events ORDER BY 1").fetchall()]
    assert [pd.Timestamp(t) for t in got] == [pd.Timestamp(t) for t in expected]
