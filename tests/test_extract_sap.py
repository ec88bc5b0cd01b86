"""SAP S/4HANA connector: VBFA chains, local times, cancellations, CRM join, the real VBFA."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from extract_fixtures import salesforce_org, sap_sd, write_csv

from lead2cash.checks import check_log
from lead2cash.errors import InputError
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

WHEN = datetime(2024, 7, 27, 2, 0)


def _events(ws: Workspace) -> list[tuple]:
    return ws.con.execute(
        "SELECT SalesOpportunityId, ActivityName, strftime(EventTime, '%m-%d %H:%M'), SourceSystem "
        "FROM events ORDER BY event_id"
    ).fetchall()


def test_sd_only_chain_is_one_case_rooted_at_the_inquiry(
    workspace: Workspace, tmp_path: Path
) -> None:
    extract(workspace, {"sap-s4hana": sap_sd(tmp_path / "sap")}, extracted_at=WHEN)
    s = "SAP S/4HANA"
    assert _events(workspace) == [  # Europe/Berlin local times -> UTC (winter: -1 h)
        ("0010000001", "Opportunity Created", "01-02 09:00", s),
        ("0010000001", "Quote Issued", "01-03 10:00", s),
        ("0010000001", "Quote Accepted", "01-05 08:00", s),
        ("0010000001", "Opportunity Won", "01-05 08:00", s),
        ("0010000001", "Sales Order Created", "01-05 08:00", s),
        ("0010000001", "Order Fulfilled", "01-07 13:00", s),
        ("0010000001", "Invoice Generated", "01-08 09:00", s),  # 0090000002 was cancelled
        ("0010000001", "Payment Received", "02-01 00:00", s),  # date-only AUGDT: midnight UTC
    ]
    case = workspace.con.execute(
        "SELECT OpportunityAmount, CustomerName, OpportunityOwner, SalesRegion, OpportunityOutcome "
        "FROM cases"
    ).fetchall()
    assert case == [(1000.0, "Global Tech Inc.", "JDOE", "EMEA", "Won")]


def test_crm_reference_joins_sap_events_to_the_salesforce_case(
    workspace: Workspace, tmp_path: Path
) -> None:
    sources = {
        "salesforce": salesforce_org(tmp_path / "sf"),
        "sap-s4hana": sap_sd(tmp_path / "sap", "006A"),
    }
    extract(workspace, sources, extracted_at=WHEN)
    rows = workspace.con.execute(
        "SELECT SourceSystem, count(*), count(DISTINCT SalesOpportunityId), min(SalesOpportunityId) "
        "FROM events GROUP BY 1 ORDER BY 1"
    ).fetchall()
    # SAP gives quote, acceptance, order, fulfilment, invoice, payment; no Created/Won behind a CRM
    assert rows == [("SAP S/4HANA", 6, 1, "006A"), ("Salesforce CRM", 15, 2, "006A")]
    owner = workspace.con.execute(
        "SELECT OpportunityOwner, OpportunityAmount FROM cases WHERE SalesOpportunityId = '006A'"
    ).fetchall()
    assert owner == [("Jane Doe", 50000.0)]  # the CRM (first --source) wins attribute conflicts


@pytest.mark.parametrize(
    ("file", "column", "value", "problem"),
    [
        (
            "VBAK",
            "ERDAT",
            "00000000",
            "a date/time is required here but the value is empty or 00000000",
        ),
        ("VBFA", "ERZET", "256199", "not a valid date/time"),
        ("BSAD", "AUGDT", "02/01/2024", "not a valid date/time"),  # US format: ambiguous
    ],
)
def test_bad_sap_dates_are_named(
    tmp_path: Path, file: str, column: str, value: str, problem: str
) -> None:
    folder = sap_sd(tmp_path / "sap")
    import csv

    with (folder / f"{file}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    rows[0][column] = value
    write_csv(folder, file, rows)
    with Workspace(tmp_path / "w.duckdb") as ws, pytest.raises(InputError) as err:
        extract(ws, {"sap-s4hana": folder})
    assert str(err.value).startswith(f"sap-s4hana/{file}.csv, row 1, column '{column}': {problem}")


def test_real_vbfa_extract_pins_chains_and_events(
    workspace: Workspace, shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "vbfa"
    folder.mkdir()
    (folder / "VBFA.csv.gz").symlink_to(shared_data / "sap-vbfa.csv.gz")
    meta = extract(workspace, {"sap-s4hana": folder}, extracted_at=WHEN)
    assert meta["missing:sap-s4hana"] == (
        "VBAK, VBAP, VBKD, TVZBT, KNA1, LIKP, VBRK, BSAD, BKPF, CRMS4D_OPPT_H, CDHDR, CDPOS, T023T"
    )
    counts = dict(
        workspace.con.execute("SELECT ActivityName, count(*) FROM events GROUP BY 1").fetchall()
    )
    assert counts == {
        "Order Fulfilled": 9468,
        "Invoice Generated": 9047,
        "Sales Order Created": 700,
        "Quote Issued": 438,
        "Quote Accepted": 326,
        "Opportunity Won": 326,
    }
    cases = workspace.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE OpportunityOutcome = 'Won') FROM cases"
    ).fetchall()
    assert cases == [(9741, 326)]
    absent = json.loads(workspace.meta()["absent_activities"])
    assert absent["Payment Received"] == "sap-s4hana: BSAD, VBRK not extracted"
    assert absent["Opportunity Created"] == "sap-s4hana: CRMS4D_OPPT_H, VBAK not extracted"
    assert absent["Opportunity Lost"] == "sap-s4hana: CDHDR, CDPOS not extracted"
    report = check_log(workspace)
    finding = next(f for f in report.findings if f.rule == "absent-activities")
    assert (
        finding.count == 9
        and "Payment Received: sap-s4hana: BSAD, VBRK not extracted" in finding.examples
    )
