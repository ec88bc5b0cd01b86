"""SalesStage at the event: every event carries the stage its opportunity was in at that time
(from the history; before its first row, the stage it was created with), so no Opportunity
Created says "Closed Lost" and time in stage counts real stages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from lead2cash.mining import DuckDBEngine, performance
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data"
WHEN = datetime(2024, 7, 27, 2, 0)
DAY = 86_400
EXPECTED = [
    ("Opportunity Created", "06-03", "Prospecting"),  # the deal is Closed Lost today
    ("Opportunity Qualified", "06-04", "Qualification"),
    ("Quote Issued", "06-06", "Qualification"),  # the amount-only save keeps the stage
    ("Opportunity Lost", "06-10", "Closed Lost"),
]


@pytest.mark.parametrize(
    "folder",
    [
        "salesforce-stage-at-event",  # OpportunityHistory
        "salesforce-field-history",  # OpportunityFieldHistory: created with the first OldValue
    ],
)
def test_every_event_carries_the_stage_of_its_time(workspace: Workspace, folder: str) -> None:
    extract(workspace, {"salesforce": DATA / folder}, extracted_at=WHEN)
    rows = workspace.con.execute(
        "SELECT ActivityName, strftime(EventTime, '%m-%d'), SalesStage FROM events "
        "ORDER BY event_id"
    ).fetchall()
    assert rows == EXPECTED


def test_time_in_stage_counts_the_stages_the_deal_was_in(workspace: Workspace) -> None:
    extract(workspace, {"salesforce": DATA / "salesforce-stage-at-event"}, extracted_at=WHEN)
    stages = {s.stage: s.duration for s in performance.time_in_stage(DuckDBEngine(workspace))}
    assert set(stages) == {"Prospecting", "Qualification"}  # no time "in" Closed Lost
    assert (stages["Prospecting"].count, stages["Prospecting"].mean_s) == (1, DAY)
    assert (stages["Qualification"].count, stages["Qualification"].mean_s) == (1, 6 * DAY)
