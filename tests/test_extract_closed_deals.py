"""Deals entered already closed, and closed deals without any history, in every connector.

The files under tests/data/ are hand-written in the shapes the systems write: a Salesforce
Data Loader export of a demo-like org (18 of 31 opportunities there start closed), a Dynamics
opportunity table, an Oracle REST page, an SAP CRM opportunity header.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lead2cash.checks import check_log
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data"
WHEN = datetime(2024, 7, 27, 2, 0)
SF = "0065g00000Demo{}AAC"


def _events(ws: Workspace, case: str) -> list[tuple]:
    return ws.con.execute(
        "SELECT ActivityName, strftime(EventTime, '%m-%d %H:%M:%S'), SalesStage, source_record "
        "FROM events WHERE SalesOpportunityId = ? ORDER BY event_id",
        [case],
    ).fetchall()


def _cases(ws: Workspace) -> dict[str, tuple]:
    rows = ws.con.execute(
        "SELECT SalesOpportunityId, OpportunityOutcome, SalesCycleDuration FROM cases"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_salesforce_deal_entered_closed_gets_created_close_and_outcome(
    workspace: Workspace,
) -> None:
    extract(workspace, {"salesforce": DATA / "salesforce-entered-closed"}, extracted_at=WHEN)
    history = "salesforce/OpportunityHistory.csv:Id="
    assert _events(workspace, SF.format("A1")) == [
        ("Opportunity Created", "03-01 10:15:00", "Closed Won",
         "salesforce/Opportunity.csv:Id=" + SF.format("A1")),
        ("Opportunity Won", "03-01 10:15:00", "Closed Won", history + "0085g00000DemoB1AAC"),
    ]  # fmt: skip
    assert [e[:2] for e in _events(workspace, SF.format("A2"))] == [
        ("Opportunity Created", "03-01 10:15:01"),
        ("Opportunity Lost", "03-01 10:15:01"),
    ]
    cases = _cases(workspace)
    assert cases[SF.format("A1")] == ("Won", timedelta(0))
    assert cases[SF.format("A2")] == ("Lost", timedelta(0))
    assert cases[SF.format("A3")] == ("Won", timedelta(days=19, hours=6, minutes=14, seconds=58))


def test_salesforce_closed_opportunity_without_history_closes_at_its_close_date(
    workspace: Workspace,
) -> None:
    extract(workspace, {"salesforce": DATA / "salesforce-entered-closed"}, extracted_at=WHEN)
    record = "salesforce/Opportunity.csv:Id="
    # CloseDate 2024-02-15 lies before the creation: the close is dated at the creation
    assert _events(workspace, SF.format("A4")) == [
        ("Opportunity Created", "03-01 10:15:03", "Closed Won", record + SF.format("A4")),
        ("Opportunity Won", "03-01 10:15:03", "Closed Won", record + SF.format("A4")),
    ]
    # CloseDate is a date: midnight UTC of 2024-04-10
    assert [e[:3] for e in _events(workspace, SF.format("A5"))] == [
        ("Opportunity Created", "03-01 10:15:04", "Closed Lost"),
        ("Opportunity Lost", "04-10 00:00:00", "Closed Lost"),
    ]
    assert [e[:3] for e in _events(workspace, SF.format("A6"))] == [
        ("Opportunity Created", "03-01 10:15:05", "Prospecting"),  # open: nothing to add
    ]
    assert _cases(workspace)[SF.format("A5")] == ("Lost", timedelta(days=39, seconds=49496))


def test_check_flags_closed_opportunities_whose_history_shows_no_close(
    workspace: Workspace,
) -> None:
    extract(workspace, {"salesforce": DATA / "salesforce-entered-closed"}, extracted_at=WHEN)
    # A7's record says Closed Won, but its history ends in Negotiation/Review
    assert _cases(workspace)[SF.format("A7")] == (None, None)
    found = {f.rule: f for f in check_log(workspace).findings}
    flagged = found["closed-without-outcome"]
    assert (flagged.count, flagged.examples) == (1, (SF.format("A7"),))
    assert flagged.severity == "warning"


@pytest.mark.parametrize(
    ("system", "folder", "ids", "won", "lost"),
    [
        (
            "dynamics365",
            "dynamics-closed-without-history",
            "3f2504e0-4f89-11d3-9a0c-0305e82c330{}",
            "05-02 08:00:00",  # actualclosedate 04-20 lies before createdon
            "05-10 00:00:00",
        ),
        (
            "oracle-cx",
            "oracle-closed-without-history",
            "30000000000010{}",
            "05-20 00:00:00",  # EffectiveDate
            "05-02 08:00:00",  # EffectiveDate 04-01 lies before the creation
        ),
        (
            "sap-s4hana",
            "sap-crm-closed-without-history",
            "006000010{}",
            "05-20 00:00:00",  # STATUS_SINCE (a date)
            "05-02 08:00:00",
        ),
    ],
)
def test_other_crms_close_an_opportunity_without_history_from_its_record(
    workspace: Workspace, system: str, folder: str, ids: str, won: str, lost: str
) -> None:
    extract(workspace, {system: DATA / folder}, extracted_at=WHEN)
    assert [e[:2] for e in _events(workspace, ids.format(1))] == [
        ("Opportunity Created", "05-02 08:00:00"),
        ("Opportunity Won", won),
    ]
    assert [e[:2] for e in _events(workspace, ids.format(2))] == sorted(
        [("Opportunity Created", "05-02 08:00:00"), ("Opportunity Lost", lost)],
        key=lambda e: (e[1], e[0] != "Opportunity Created"),
    )
    assert [e[0] for e in _events(workspace, ids.format(3))] == ["Opportunity Created"]
    outcomes = {k: v[0] for k, v in _cases(workspace).items()}
    assert outcomes == {ids.format(1): "Won", ids.format(2): "Lost", ids.format(3): None}
    assert "closed-without-outcome" not in {f.rule for f in check_log(workspace).findings}
