"""Test logs for the mining core: a seeded synthetic Lead-to-Cash log, and loading frames.

The synthetic log has what breaks naive engines: microsecond times, equal
times inside a case (event_id decides), rows shuffled out of time order,
repeated quotes, moves back along the happy path, reopened deals, open cases.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pandas as pd

from lead2cash.store import CORE_COLUMNS, Workspace

REGIONS = ("EMEA", "North America", "APAC")
STAGE_OF = {
    "Opportunity Created": "Prospecting", "Opportunity Qualified": "Qualification",
    "Requirements Gathered": "Needs Analysis", "Solution Proposed": "Proposal/Quote",
    "Quote Issued": "Proposal/Quote", "Quote Accepted": "Negotiation/Review",
    "Opportunity Won": "Closed Won", "Opportunity Lost": "Closed Lost",
    "Opportunity Reopened": "Negotiation/Review",
}


def _trace(rng: random.Random) -> tuple[list[str], str | None]:
    """One case's activities and its outcome (None while open)."""
    acts = ["Opportunity Created", "Opportunity Qualified"]
    if rng.random() < 0.2:
        return acts, None
    acts += ["Requirements Gathered", "Quote Issued"]
    acts += ["Quote Issued"] * rng.choice([0, 0, 1, 2])
    if rng.random() < 0.25:
        acts += ["Requirements Gathered", "Solution Proposed", "Quote Issued"]
    if rng.random() < 0.3:
        acts += ["Opportunity Lost"]
        if rng.random() < 0.5:
            return acts, "Lost"
        acts += ["Opportunity Reopened", "Quote Issued"]
    acts += ["Quote Accepted", "Opportunity Won", "Sales Order Created", "Order Fulfilled",
             "Invoice Generated", "Payment Received"]
    return acts, "Won"


def synthetic_frame(cases: int = 60, seed: int = 7) -> pd.DataFrame:
    """A shuffled L2C log with model column names and event_id in (shuffled) source order."""
    rng = random.Random(seed)
    rows = []
    for c in range(cases):
        acts, outcome = _trace(rng)
        t = datetime(2024, 1, 1) + timedelta(days=rng.randint(0, 300), microseconds=rng.randint(0, 10**6))
        region, amount = rng.choice(REGIONS), float(rng.choice([5000, 20000, 80000, 150000]))
        for i, act in enumerate(acts):
            if i and rng.random() > 0.1:  # one step in ten happens at the same microsecond
                t += timedelta(hours=rng.randint(1, 400), microseconds=rng.randint(1, 999_999))
            rows.append({
                "SalesOpportunityId": f"OPP-{c:04d}", "ActivityName": act, "EventTime": t,
                "SalesRegion": region, "OpportunityAmount": amount,
                "OpportunityOutcome": outcome if act in ("Opportunity Won", "Opportunity Lost") else None,
                "SalesStage": STAGE_OF.get(act),
            })
    rng.shuffle(rows)
    frame = pd.DataFrame(rows)
    frame["event_id"] = range(len(frame))
    return frame


def load_frame(ws: Workspace, frame: pd.DataFrame) -> None:
    """Replace the workspace log with a frame holding model columns (others are NULL)."""
    ws.con.register("test_src", frame)
    cols = [c if c in frame.columns else ("'imported'" if c == "event_type" else "NULL")
            for c in CORE_COLUMNS]
    with ws.transaction():
        ws.replace_log(f"SELECT {', '.join(cols)} FROM test_src ORDER BY event_id", {}, {})
    ws.con.unregister("test_src")
