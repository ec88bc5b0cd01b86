"""Records at the same time keep the order of their record ids, whatever the file order, and
`check` calls two different records at one time two events, never a duplicate.

Each folder under tests/data/ lists same-time records in the reverse of their id order, as
exports do (rows come in no guaranteed order): Salesforce history rows saved in one second,
SAP orders created in one second and invoices cleared on one day, Oracle snapshots whose
numeric ids differ in length (999 before 1000).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lead2cash.checks import check_log
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data"
WHEN = datetime(2024, 7, 27, 2, 0)


def _events(ws: Workspace, case: str) -> list[tuple]:
    return ws.con.execute(
        "SELECT ActivityName, strftime(EventTime, '%m-%d %H:%M'), SalesStage, "
        "regexp_extract(source_record, '=(.*)$', 1) FROM events "
        "WHERE SalesOpportunityId = ? ORDER BY event_id",
        [case],
    ).fetchall()


def test_salesforce_same_second_history_rows_follow_their_ids(workspace: Workspace) -> None:
    extract(workspace, {"salesforce": DATA / "salesforce-ties"}, extracted_at=WHEN)
    # H2 (Closed Lost) and H3 (Qualification) share a second; H2's id is lower: lost, then
    # reopened (file order would say: qualified, then lost)
    assert _events(workspace, "0065g00000TiesT1AAC") == [
        ("Opportunity Created", "04-01 10:00", "Prospecting", "0065g00000TiesT1AAC"),
        ("Opportunity Lost", "04-02 09:00", "Closed Lost", "0085g00000TiesH2AAC"),
        ("Opportunity Reopened", "04-02 09:00", "Qualification", "0085g00000TiesH3AAC"),
        ("Quote Issued", "04-03 12:00", "Qualification", "0Q05g00000TiesQ1AAC"),  # Q1 < Q2
        ("Quote Issued", "04-03 12:00", "Qualification", "0Q05g00000TiesQ2AAC"),
    ]
    outcome = workspace.con.execute(
        "SELECT OpportunityOutcome FROM cases WHERE SalesOpportunityId = '0065g00000TiesT1AAC'"
    ).fetchall()
    assert outcome == [(None,)]  # reopened last: open again
    # two stage changes in one second: history order (H5 before H6), not activity rank
    assert [e[::3] for e in _events(workspace, "0065g00000TiesT2AAC")] == [
        ("Opportunity Created", "0065g00000TiesT2AAC"),
        ("Opportunity Stage Changed", "0085g00000TiesH5AAC"),
        ("Opportunity Stage Changed", "0085g00000TiesH6AAC"),
    ]


def test_two_records_at_one_time_are_no_duplicate(workspace: Workspace) -> None:
    extract(workspace, {"salesforce": DATA / "salesforce-ties"}, extracted_at=WHEN)
    assert "duplicate-event" not in {f.rule for f in check_log(workspace).findings}


def test_sap_same_second_orders_and_same_day_clearings(workspace: Workspace) -> None:
    extract(workspace, {"sap-s4hana": DATA / "sap-ties"}, extracted_at=WHEN)
    assert [(e[0], e[3]) for e in _events(workspace, "0020000001")] == [
        ("Quote Issued", "0020000001"),
        ("Quote Accepted", "0000000010"),  # the first order of the quotation by number
        ("Opportunity Won", "0000000010"),
        ("Sales Order Created", "0000000010"),
        ("Sales Order Created", "0000000011"),
        ("Invoice Generated", "0090000010"),
        ("Invoice Generated", "0090000011"),
        ("Payment Received", "1000000010"),  # both invoices cleared on 2024-06-07
        ("Payment Received", "1000000011"),
    ]
    found = {f.rule for f in check_log(workspace).findings}
    assert "duplicate-event" not in found


def test_oracle_numeric_ids_of_different_lengths_sort_as_numbers(workspace: Workspace) -> None:
    extract(workspace, {"oracle-cx": DATA / "oracle-ties"}, extracted_at=WHEN)
    assert _events(workspace, "300000000000201") == [
        ("Opportunity Created", "05-01 09:00", "01 - Prospect", "300000000000201"),
        ("Opportunity Qualified", "05-03 15:00", "02 - Qualify", "999"),
        ("Requirements Gathered", "05-03 15:00", "03 - Discover", "1000"),
        ("Quote Issued", "05-03 15:00", "03 - Discover", "600000000000201"),  # stage after both
    ]


def test_check_still_finds_one_record_read_twice(workspace: Workspace) -> None:
    extract(workspace, {"oracle-cx": DATA / "oracle-ties"}, extracted_at=WHEN)
    # one source record giving the same event twice (as a join on a shared number would)
    with workspace.transaction() as con:
        con.execute(
            "INSERT INTO events SELECT * REPLACE (event_id + 1000 AS event_id) FROM events "
            "WHERE ActivityName = 'Quote Issued'"
        )
    found = {f.rule: f for f in check_log(workspace).findings}
    assert (found["duplicate-event"].count, found["duplicate-event"].examples) == (
        1,
        ("300000000000201",),
    )
