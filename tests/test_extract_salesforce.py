"""Salesforce connector on a tiny hand-written org: every derivation rule and bad input."""

from __future__ import annotations

import csv
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from extract_fixtures import salesforce_org, write_csv

from lead2cash.errors import InputError, Lead2CashError
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

WHEN = datetime(2024, 7, 27, 2, 0)


@pytest.fixture
def org(tmp_path: Path) -> Path:
    """A fresh copy of the two-opportunity org."""
    return salesforce_org(tmp_path / "salesforce")


def _events(ws: Workspace) -> list[tuple]:
    return ws.con.execute(
        "SELECT SalesOpportunityId, ActivityName, strftime(EventTime, '%m-%d %H'), event_type "
        "FROM events ORDER BY event_id"
    ).fetchall()


def test_activities_times_and_kinds(workspace: Workspace, org: Path) -> None:
    extract(workspace, {"salesforce": org}, extracted_at=WHEN)
    assert _events(workspace) == [
        ("006A", "Opportunity Created", "01-01 09", "explicit"),
        ("006A", "Opportunity Qualified", "01-02 09", "inferred"),
        ("006A", "Requirements Gathered", "01-03 09", "inferred"),
        ("006A", "Quote Issued", "01-03 12", "explicit"),
        ("006A", "Opportunity Stage Changed", "01-04 09", "explicit"),  # regression
        ("006A", "Quote Accepted", "01-04 12", "explicit"),
        ("006A", "Contract Signed", "01-04 15", "explicit"),
        ("006A", "Opportunity Won", "01-05 09", "explicit"),
        ("006A", "Sales Order Created", "01-06 09", "explicit"),
        ("006A", "Invoice Generated", "01-10 00", "explicit"),  # cancelled invoice a2 absent
        ("006A", "Payment Received", "02-01 00", "explicit"),
        ("006B", "Opportunity Created", "01-02 09", "explicit"),
        ("006B", "Opportunity Lost", "01-03 09", "explicit"),
        ("006B", "Opportunity Reopened", "01-04 09", "inferred"),
        ("006B", "Opportunity Lost", "01-06 09", "explicit"),
    ]


def test_case_attributes_lineage_and_freshness(workspace: Workspace, org: Path) -> None:
    extract(workspace, {"salesforce": org}, extracted_at=WHEN)
    rows = workspace.con.execute(
        "SELECT SalesOpportunityId, OpportunityAmount, CustomerName, OpportunityOwner, SalesRegion, "
        "LeadSource, OpportunityType, DiscountPercentage, OpportunityOutcome, SalesCycleDuration "
        "FROM cases ORDER BY 1"
    ).fetchall()
    assert rows == [
        (
            "006A",
            50000.0,
            "Global Tech Inc.",
            "Jane Doe",
            "EMEA",
            "Web",
            "New Customer",
            0.05,
            "Won",
            timedelta(days=4),
        ),
        (
            "006B",
            125000.5,
            "Acme",
            "Jane Doe",
            None,  # BillingCountry "Narnia" is no country: no region (check says so)
            None,
            None,
            None,
            "Lost",
            timedelta(days=4),
        ),
    ]
    checks = workspace.con.execute(
        "SELECT count(*) FILTER (WHERE source_record IS NULL), count(DISTINCT LastDataUpdate), "
        "min(LastDataUpdate), count(DISTINCT SourceSystem), min(SourceSystem) FROM events"
    ).fetchall()
    assert checks == [(0, 1, WHEN, 1, "Salesforce CRM")]
    stage = workspace.con.execute(
        "SELECT SalesStage FROM events WHERE ActivityName = 'Sales Order Created'"
    ).fetchall()
    assert stage == [("Closed Won",)]


def test_manifest_gives_last_data_update(workspace: Workspace, org: Path) -> None:
    (org / "_manifest.json").write_text('{"extracted_at": "2024-07-27T04:00:00+02:00"}')
    extract(workspace, {"salesforce": org})
    assert workspace.con.execute("SELECT DISTINCT LastDataUpdate FROM events").fetchall() == [
        (WHEN,)
    ]


def test_newest_timestamp_in_the_export_gives_last_data_update_not_file_times(
    workspace: Workspace, org: Path
) -> None:
    for path in org.iterdir():  # copied today: file times say nothing about the data's age
        os.utime(path, (1_900_000_000, 1_900_000_000))
    meta = extract(workspace, {"salesforce": org})
    assert workspace.con.execute("SELECT DISTINCT LastDataUpdate FROM events").fetchall() == [
        (datetime(2024, 1, 6, 9, 0),)  # the newest date-time any file holds
    ]
    assert meta["data_age:salesforce"] == "newest OpportunityHistory.CreatedDate in the export"


def test_missing_optional_file_drops_only_its_activities(workspace: Workspace, org: Path) -> None:
    (org / "blng__Payment__c.csv").unlink()
    meta = extract(workspace, {"salesforce": org}, extracted_at=WHEN)
    assert meta["missing:salesforce"] == (
        "OpportunityFieldHistory, OrderHistory, OpportunityLineItem, Product2, blng__Payment__c"
    )
    acts = {r[0] for r in workspace.con.execute("SELECT ActivityName FROM events").fetchall()}
    assert "Payment Received" not in acts and "Invoice Generated" in acts


def _edit(path: Path, row: int, column: str, value: str | None) -> None:
    """Set one cell (row is 1-based, header not counted), or drop the column when value is None."""
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if value is None:
            r.pop(column)
    if value is not None:
        rows[row - 1][column] = value
    write_csv(path.parent, path.name.removesuffix(".csv"), rows)


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "expected"),
    [
        (
            "OpportunityHistory",
            3,
            "CreatedDate",
            "2024-13-45T00:00:00Z",
            (
                "salesforce/OpportunityHistory.csv, row 3, column 'CreatedDate': not a valid date/time "
                "(value '2024-13-45T00:00:00Z')"
            ),
        ),
        (
            "Opportunity",
            2,
            "CreatedDate",
            "",
            "salesforce/Opportunity.csv, row 2, column 'CreatedDate': a date/time is required here",
        ),
        (
            "OpportunityHistory",
            4,
            "StageName",
            "Closed Maybe",
            "salesforce/OpportunityHistory.csv, row 4, column 'StageName': unknown stage name",
        ),
        (
            "Opportunity",
            2,
            "Id",
            "006A",
            "salesforce/Opportunity.csv, row 2, column 'Id': duplicate id",
        ),
        (
            "blng__Invoice__c",
            1,
            "blng__InvoiceDate__c",
            "10/01/2024",
            "salesforce/blng__Invoice__c.csv, row 1, column 'blng__InvoiceDate__c': not a valid date/time",
        ),
        (
            "OpportunityHistory",
            0,
            "StageName",
            None,
            (
                "salesforce/OpportunityHistory.csv, column 'StageName': missing column(s) StageName; "
                "OpportunityHistory needs: Id, OpportunityId, StageName, CreatedDate"
            ),
        ),
    ],
)
def test_bad_input_names_file_row_column_and_keeps_workspace(
    tmp_path: Path, org: Path, file: str, row: int, column: str, value: str | None, expected: str
) -> None:
    db = tmp_path / "kept.duckdb"
    with Workspace(db) as ws:
        extract(ws, {"salesforce": org}, extracted_at=WHEN)
        before = _events(ws)
    _edit(org / f"{file}.csv", row, column, value)
    with Workspace(db) as ws:
        with pytest.raises(InputError) as err:
            extract(ws, {"salesforce": org}, extracted_at=WHEN)
        assert str(err.value).startswith(expected)
        assert err.value.hint
        assert _events(ws) == before


def test_missing_required_file_names_file_and_columns(workspace: Workspace, org: Path) -> None:
    (org / "Opportunity.csv").unlink()
    with pytest.raises(
        Lead2CashError,
        match=r"required file Opportunity\.csv .* expected "
        r"columns: Id, AccountId, OwnerId, StageName, Amount, CreatedDate",
    ):
        extract(workspace, {"salesforce": org})
    assert not workspace.has_log()


def test_parquet_and_case_insensitive_headers(workspace: Workspace, org: Path) -> None:
    workspace.con.execute(
        f"COPY (SELECT * FROM read_csv('{org}/Opportunity.csv', all_varchar=true)) "
        f"TO '{org}/Opportunity.parquet'"
    )
    (org / "Opportunity.csv").unlink()
    text = (org / "OpportunityHistory.csv").read_text()
    (org / "OpportunityHistory.csv").write_text(text.replace("StageName", "stagename", 1))
    extract(workspace, {"salesforce": org}, extracted_at=WHEN)
    assert len(_events(workspace)) == 15


def test_unreadable_file_is_named(workspace: Workspace, org: Path) -> None:
    (org / "Account.csv").unlink()
    (org / "Account.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(InputError, match=r"^salesforce/Account\.parquet: cannot read the file"):
        extract(workspace, {"salesforce": org})


def test_stage_flags_must_be_booleans(workspace: Workspace, org: Path) -> None:
    _edit(org / "OpportunityStage.csv", 9, "IsWon", "maybe")
    with pytest.raises(
        Lead2CashError, match="stage 'Closed Won': closed / won flags are not true or false"
    ):
        extract(workspace, {"salesforce": org})


def test_amount_that_is_not_a_number_is_named(workspace: Workspace, org: Path) -> None:
    _edit(org / "Opportunity.csv", 2, "Amount", "125.000,50")
    with pytest.raises(
        InputError,
        match=r"salesforce/Opportunity\.csv, row 2, column 'Amount': not a number "
        r"\(value '125\.000,50'\)",
    ):
        extract(workspace, {"salesforce": org})


def test_field_history_stands_in_for_opportunity_history(tmp_path: Path, org: Path) -> None:
    with Workspace(tmp_path / "a.duckdb") as ws:
        extract(ws, {"salesforce": org}, extracted_at=WHEN)
        expected = _events(ws)
    with (org / "OpportunityHistory.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    changes, before = [], {}
    for r in rows:  # the stage changes only, as field history tracks them
        old = before.get(r["OpportunityId"])
        if old is not None and old != r["StageName"]:
            changes.append(
                {
                    "Id": "017" + r["Id"],
                    "OpportunityId": r["OpportunityId"],
                    "Field": "StageName",
                    "OldValue": old,
                    "NewValue": r["StageName"],
                    "CreatedDate": r["CreatedDate"],
                }
            )
        before[r["OpportunityId"]] = r["StageName"]
    write_csv(org, "OpportunityFieldHistory", changes)
    (org / "OpportunityHistory.csv").unlink()
    with Workspace(tmp_path / "b.duckdb") as ws:
        extract(ws, {"salesforce": org}, extracted_at=WHEN)
        assert _events(ws) == expected
