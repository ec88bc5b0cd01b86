"""Connector configuration: defaults round-trip, overrides change the log, bad keys are named."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from extract_fixtures import oracle_org, salesforce_org, sap_sd

from lead2cash.errors import InputError, Lead2CashError
from lead2cash.sources import SYSTEMS, extract
from lead2cash.sources.config import default_toml, load_config
from lead2cash.store import Workspace

WHEN = datetime(2024, 7, 27, 2, 0)
CLI = [sys.executable, "-m", "lead2cash"]


@pytest.mark.parametrize("system", list(SYSTEMS))
def test_printed_defaults_load_back_unchanged(tmp_path: Path, system: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(default_toml(system))
    assert tomllib.loads(path.read_text())[system]
    assert load_config(path) == load_config(None)


def test_overrides_change_stage_mapping_and_time_zone(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '["salesforce".stages]\n"Needs Analysis" = "Solution Proposed"\n\n'
        '["sap-s4hana"]\ntimezone = "UTC"\n'
    )
    sources = {
        "salesforce": salesforce_org(tmp_path / "sf"),
        "sap-s4hana": sap_sd(tmp_path / "sap", "006A"),
    }
    extract(workspace, sources, path, WHEN)
    rows = workspace.con.execute(
        "SELECT ActivityName, strftime(EventTime, '%m-%d %H:%M') FROM events WHERE SalesOpportunityId = "
        "'006A' AND ActivityName IN ('Solution Proposed', 'Requirements Gathered', 'Sales Order Created') "
        "ORDER BY event_id"
    ).fetchall()
    # the config replaces the whole stage table: Qualification is no milestone any more
    # SAP's ERDAT/ERZET 20240105 090000 now read as UTC; Salesforce's own Order follows
    assert rows == [
        ("Solution Proposed", "01-03 09:00"),
        ("Sales Order Created", "01-05 09:00"),
        ("Sales Order Created", "01-06 09:00"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('["salesforce"]\nregion = "x"\n', "[salesforce], column 'region': unknown setting"),
        (
            '["sap-s4hana"]\ntimezone = 1\n',
            "[sap-s4hana], column 'timezone': expected a str (value 1)",
        ),
        ('["netsuite"]\nx = 1\n', "column 'netsuite': unknown system table"),
    ],
)
def test_bad_config_is_named(tmp_path: Path, workspace: Workspace, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        extract(workspace, {"salesforce": salesforce_org(tmp_path / "sf")}, path)
    assert str(err.value).startswith(f"{path}, {message}") or message in str(err.value)


def test_cli_extracts_with_progress_and_reports_errors_without_traceback(tmp_path: Path) -> None:
    org = salesforce_org(tmp_path / "sf")
    db = tmp_path / "w.duckdb"
    ok = subprocess.run(
        [
            *CLI,
            "extract",
            "--source",
            f"salesforce={org}",
            "--db",
            str(db),
            "--extracted-at",
            "2024-07-27T02:00:00Z",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "extracted 15 events from salesforce" in ok.stdout and "read salesforce" in ok.stderr
    (org / "Opportunity.csv").write_text("Id,AccountId\n006A,001A\n")
    bad = subprocess.run(
        [*CLI, "extract", "--source", f"salesforce={org}", "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    said = " ".join(bad.stderr.split())  # rich wraps long lines
    assert (
        "salesforce/Opportunity.csv, column 'OwnerId': missing column(s) OwnerId, StageName" in said
    )
    with Workspace(db) as ws:
        assert ws.con.execute("SELECT count(*) FROM events").fetchall() == [(15,)]
    printed = subprocess.run(
        [*CLI, "extract", "--print-default-config", "sap-s4hana"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert printed.returncode == 0 and 'opportunity_field = "VBAK.BSTNK"' in printed.stdout


def test_reference_field_is_configurable(tmp_path: Path, workspace: Workspace) -> None:
    sap = sap_sd(tmp_path / "sap")
    text = (sap / "VBAK.csv").read_text().replace("BSTNK", "ZZOPPID")
    (sap / "VBAK.csv").write_text(text.replace(",OR,", ",OR,006A").replace(",AG,", ",AG,006A"))
    path = tmp_path / "c.toml"
    path.write_text('["sap-s4hana"]\nopportunity_field = "VBAK.ZZOPPID"\n')
    extract(
        workspace, {"salesforce": salesforce_org(tmp_path / "sf"), "sap-s4hana": sap}, path, WHEN
    )
    assert workspace.con.execute(
        "SELECT DISTINCT SalesOpportunityId FROM events WHERE SourceSystem = 'SAP S/4HANA'"
    ).fetchall() == [("006A",)]
    path.write_text('["sap-s4hana"]\nopportunity_field = "VBKD.BSTKD"\n')
    with pytest.raises(Lead2CashError, match="not a VBAK field"):
        extract(workspace, {"sap-s4hana": sap}, path)


def test_extra_fields_become_extra_columns(tmp_path: Path, workspace: Workspace) -> None:
    org = salesforce_org(tmp_path / "sf")
    path = tmp_path / "c.toml"
    path.write_text('["salesforce"]\nextra_fields = ["Extra", "ContractId"]\n')
    extract(workspace, {"salesforce": org}, path, WHEN)
    assert workspace.extra_columns() == ["Extra", "ContractId"]
    rows = workspace.con.execute(
        'SELECT DISTINCT SalesOpportunityId, "Extra", ContractId FROM events ORDER BY 1'
    ).fetchall()
    assert rows == [("006A", "ignored", "800A"), ("006B", None, None)]
    path.write_text('["salesforce"]\nextra_fields = ["FiscalQuarter"]\n')
    with pytest.raises(
        InputError, match=r"salesforce/Opportunity\.csv, column 'FiscalQuarter': missing"
    ):
        extract(workspace, {"salesforce": org}, path, WHEN)


def test_unknown_time_zone_is_named(tmp_path: Path, workspace: Workspace) -> None:
    path = tmp_path / "c.toml"
    path.write_text('["sap-s4hana"]\ntimezone = "Europe/Berln"\n')
    with pytest.raises(Lead2CashError, match="timezone = 'Europe/Berln': not a known time zone"):
        extract(workspace, {"sap-s4hana": sap_sd(tmp_path / "sap")}, path)


def test_attribute_fields_read_opportunity_fields_for_case_attributes(
    tmp_path: Path, workspace: Workspace
) -> None:
    org = salesforce_org(tmp_path / "sf")
    path = tmp_path / "c.toml"
    path.write_text('["salesforce".attribute_fields]\nLeadSource = "Extra"\nSalesRegion = "Type"\n')
    extract(workspace, {"salesforce": org}, path, WHEN)
    rows = workspace.con.execute(
        "SELECT SalesOpportunityId, LeadSource, SalesRegion FROM cases ORDER BY 1"
    ).fetchall()
    # 006A: the fields win over LeadSource 'Web' and the account's region; 006B: blank fields
    # fall back to the system's own values (no lead source; its account's country's region)
    own = workspace.con.execute("SELECT count(*) FROM events").fetchall()
    assert rows[0] == ("006A", "ignored", "New Customer") and rows[1][1] is None
    path.write_text("")
    extract(workspace, {"salesforce": org}, path, WHEN)
    plain = workspace.con.execute(
        "SELECT SalesOpportunityId, LeadSource, SalesRegion FROM cases ORDER BY 1"
    ).fetchall()
    assert plain[0][1] == "Web" and plain[1] == rows[1]
    assert workspace.con.execute("SELECT count(*) FROM events").fetchall() == own


def test_attribute_fields_give_oracle_an_opportunity_type(
    tmp_path: Path, workspace: Workspace
) -> None:
    org = oracle_org(tmp_path / "oracle")
    page = json.loads((org / "opportunities.json").read_text())
    page["items"][0]["SalesMethod"] = "Standard Sales Process"
    (org / "opportunities.json").write_text(json.dumps(page))
    path = tmp_path / "c.toml"
    path.write_text('["oracle-cx".attribute_fields]\nOpportunityType = "SalesMethod"\n')
    extract(workspace, {"oracle-cx": org}, path, WHEN)
    rows = workspace.con.execute("SELECT DISTINCT OpportunityType FROM events").fetchall()
    assert rows == [("Standard Sales Process",)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('DiscountPercentage = "Discount__c"', "not a text case attribute"),
        ("LeadSource = 3", "not a text case attribute"),
    ],
)
def test_attribute_fields_reject_other_attributes(
    tmp_path: Path, workspace: Workspace, text: str, message: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'["salesforce".attribute_fields]\n{text}\n')
    with pytest.raises(InputError, match=rf"\[salesforce.attribute_fields\].*{message}"):
        extract(workspace, {"salesforce": salesforce_org(tmp_path / "sf")}, path, WHEN)


def test_attribute_field_missing_from_the_export_is_named(
    tmp_path: Path, workspace: Workspace
) -> None:
    path = tmp_path / "c.toml"
    path.write_text('["salesforce".attribute_fields]\nLeadSource = "Lead_Source__c"\n')
    with pytest.raises(
        InputError, match=r"salesforce/Opportunity\.csv, column 'Lead_Source__c': missing"
    ):
        extract(workspace, {"salesforce": salesforce_org(tmp_path / "sf")}, path, WHEN)
