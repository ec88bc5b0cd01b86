"""Oracle CX Sales + Fusion connector on a tiny hand-written extract (REST JSON and BICC CSV)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from extract_fixtures import oracle_org, write_csv

from lead2cash.errors import InputError
from lead2cash.sources import extract
from lead2cash.store import Workspace

WHEN = datetime(2024, 7, 27, 2, 0)


def test_snapshots_quotes_orders_receivables(workspace: Workspace, tmp_path: Path) -> None:
    extract(workspace, {"oracle-cx": oracle_org(tmp_path / "o")}, extracted_at=WHEN)
    rows = workspace.con.execute(
        "SELECT ActivityName, strftime(EventTime, '%m-%d %H'), SalesStage FROM events ORDER BY event_id"
    ).fetchall()
    assert rows == [
        ("Opportunity Created", "05-01 09", "01 - Prospect"),  # every event: the stage then
        (
            "Opportunity Qualified",
            "05-02 09",
            "02 - Qualify",
        ),  # 01 - Prospect at creation: no event
        ("Requirements Gathered", "05-03 09", "03 - Discover"),  # the OPEN save at 10:00 keeps it
        ("Opportunity Lost", "05-04 09", "LOST"),
        ("Opportunity Reopened", "05-06 09", "03 - Discover"),
        ("Quote Issued", "05-07 09", "03 - Discover"),
        ("Quote Accepted", "05-08 08", "03 - Discover"),
        ("Opportunity Won", "05-08 09", "WON"),
        ("Sales Order Created", "05-09 09", "WON"),
        ("Order Fulfilled", "05-10 14", "WON"),  # the line awaiting shipping: none
        ("Invoice Generated", "05-11 00", "WON"),  # TRX_DATE is a date; 801 is void
        ("Payment Received", "05-20 00", "WON"),
        ("Payment Received", "06-03 00", "WON"),
    ]
    case = workspace.con.execute(
        "SELECT SalesOpportunityId, OpportunityAmount, CustomerName, OpportunityOwner, SalesRegion, "
        "ProductCategory, PaymentTerms, OpportunityOutcome, SalesCycleDuration FROM cases"
    ).fetchall()
    assert case == [
        (
            "300000000000001",
            8000.5,
            "Initech",
            "Kenji Sato",
            "APAC",
            "Hardware",
            "Net 45",
            "Won",
            timedelta(days=7),
        )
    ]


def test_unknown_stage_id_is_named(workspace: Workspace, tmp_path: Path) -> None:
    folder = oracle_org(tmp_path / "o")
    write_csv(
        folder,
        "MOO_OPTY_STG_SNAPSHOTS",
        [
            {
                "OPTY_STG_SNAPSHOT_ID": "400",
                "OPTY_ID": "300000000000001",
                "STG_ID": "999",
                "CREATION_DATE": "2024-05-01T09:00:00.000+00:00",
            }
        ],
    )
    with pytest.raises(
        InputError,
        match=r"oracle-cx/MOO_OPTY_STG_SNAPSHOTS\.csv, row 1, column 'STG_ID': "
        r"unknown stage name .*\(value '999'\)",
    ):
        extract(workspace, {"oracle-cx": folder})
