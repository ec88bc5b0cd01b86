"""Dynamics 365 connector on a tiny hand-written Dataverse export."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from extract_fixtures import audit_change, dynamics_org, write_csv

from lead2cash.errors import InputError
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

WHEN = datetime(2024, 7, 27, 2, 0)


def test_activities_from_audit_close_activities_and_documents(
    workspace: Workspace, tmp_path: Path
) -> None:
    extract(workspace, {"dynamics365": dynamics_org(tmp_path / "d")}, extracted_at=WHEN)
    rows = workspace.con.execute(
        "SELECT SalesOpportunityId, ActivityName, strftime(EventTime, '%d %H'), SalesStage "
        "FROM events ORDER BY event_id"
    ).fetchall()
    assert rows == [
        ("a1", "Opportunity Created", "01 09", "Qualify"),  # every event: the stage at its time
        ("a1", "Opportunity Qualified", "02 09", "Develop"),
        ("a1", "Solution Proposed", "03 09", "Propose"),
        ("a1", "Quote Issued", "03 12", "Propose"),  # q0 is a draft: not issued
        ("a1", "Opportunity Stage Changed", "04 09", "Close"),
        ("a1", "Quote Accepted", "04 12", "Close"),
        ("a1", "Opportunity Won", "05 09", "Won"),
        ("a1", "Sales Order Created", "06 09", "Won"),
        ("a1", "Order Fulfilled", "09 00", "Won"),  # datefulfilled is date only
        ("a1", "Invoice Generated", "10 09", "Won"),  # i2 was cancelled
        ("a1", "Payment Received", "15 08", "Won"),  # two audited payments of i1
        ("a1", "Payment Received", "20 08", "Won"),
        ("b2", "Opportunity Created", "02 09", "Qualify"),
        ("b2", "Opportunity Qualified", "03 09", "Develop"),
        ("b2", "Opportunity Lost", "04 09", "Lost"),
        ("b2", "Opportunity Reopened", "06 09", "Develop"),  # statecode back to open
        ("b2", "Opportunity Won", "08 09", "Won"),
    ]
    cases = workspace.con.execute(
        "SELECT SalesOpportunityId, OpportunityAmount, CustomerName, OpportunityOwner, SalesRegion, "
        "DiscountPercentage, LeadSource, PaymentTerms, ProductCategory, OpportunityOutcome, SalesCycleDuration "
        "FROM cases ORDER BY 1"
    ).fetchall()
    assert cases == [
        (
            "a1",
            1200.0,
            "Contoso Ltd.",
            "Omar Khan",
            "EMEA",
            0.05,
            "Trade Show",
            "Net 60",
            "Hardware",
            "Won",
            timedelta(days=4),
        ),
        (
            "b2",
            500.0,
            "Contoso Ltd.",
            "Omar Khan",
            "EMEA",
            None,
            None,
            None,
            None,
            "Won",
            timedelta(days=6),
        ),
    ]
    assert workspace.con.execute("SELECT DISTINCT SourceSystem FROM events").fetchall() == [
        ("Microsoft Dynamics 365",)
    ]


def test_unknown_salesstage_code_is_named(workspace: Workspace, tmp_path: Path) -> None:
    folder = dynamics_org(tmp_path / "d")
    write_csv(
        folder,
        "audit",
        [
            {
                "auditid": "x1",
                "objectid": "a1",
                "objecttypecode": "opportunity",
                "createdon": "2024-03-01T09:00:00Z",
                "changedata": audit_change("salesstage", "7"),
            }
        ],
    )
    with pytest.raises(
        InputError,
        match=r"dynamics365/audit\.csv, row 1, column 'changedata': "
        r"unknown stage name .*\(value '7'\)",
    ):
        extract(workspace, {"dynamics365": folder})


def test_odata_json_page_is_read(workspace: Workspace, tmp_path: Path) -> None:
    folder = dynamics_org(tmp_path / "d")
    workspace.con.execute(
        f"COPY (SELECT list(t) AS value FROM read_csv('{folder}/opportunity.csv', all_varchar=true) t) "
        f"TO '{folder}/opportunity.json' (FORMAT json)"
    )
    (folder / "opportunity.csv").unlink()
    extract(workspace, {"dynamics365": folder}, extracted_at=WHEN)
    assert workspace.con.execute("SELECT count(*) FROM cases").fetchall() == [(2,)]


def test_flattened_audit_and_web_api_lookups_give_the_same_log(
    workspace: Workspace, tmp_path: Path
) -> None:
    extract(workspace, {"dynamics365": dynamics_org(tmp_path / "a")}, extracted_at=WHEN)
    first = workspace.con.execute(
        "SELECT * EXCLUDE (source_record) FROM events ORDER BY event_id"
    ).fetchall()
    folder = dynamics_org(tmp_path / "b")
    con = workspace.con
    con.execute(
        f"COPY (SELECT auditid, objectid, objecttypecode, createdon, "
        f"json_extract_string(changedata, '$.changedAttributes[0].logicalName') AS attributename, "
        f"json_extract_string(changedata, '$.changedAttributes[0].newValue') AS newvalue "
        f"FROM read_csv('{folder}/audit.csv', all_varchar=true)) TO '{folder}/audit.csv'"
    )
    con.execute(
        f"COPY (SELECT * RENAME (customerid AS _customerid_value, ownerid AS _ownerid_value) "
        f"FROM read_csv('{folder}/opportunity.csv', all_varchar=true)) TO '{folder}/opportunity.csv'"
    )
    extract(workspace, {"dynamics365": folder}, extracted_at=WHEN)
    assert (
        con.execute("SELECT * EXCLUDE (source_record) FROM events ORDER BY event_id").fetchall()
        == first
    )
