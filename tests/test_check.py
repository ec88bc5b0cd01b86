"""`check` finds every rule the model implies, with counts and example cases, and sets the exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lead2cash.checks import Severity, check_log
from lead2cash.io.importer import ImportOptions, import_log
from lead2cash.store import Workspace

HEADER = ("SalesOpportunityId,ActivityName,EventTime,SourceSystem,LastDataUpdate,OpportunityAmount,"
          "DiscountPercentage,OpportunityOutcome,SalesCycleDuration\n")
LDU = "2024-07-01T00:00:00Z"


def event(case: str, act: str, ts: str, amount: str = "100", discount: str = "0.1",
          outcome: str = "", cycle: str = "", system: str = "Salesforce CRM", ldu: str = LDU) -> str:
    return f"{case},{act},{ts},{system},{ldu},{amount},{discount},{outcome},{cycle}\n"


CLEAN = (
    event("C1", "Opportunity Created", "2024-01-01T00:00:00Z", outcome="Won", cycle="10 days")
    + event("C1", "Opportunity Won", "2024-01-11T00:00:00Z", outcome="Won", cycle="10 days")
    + event("C2", "Opportunity Created", "2024-02-01T00:00:00Z")
)

BROKEN = (
    CLEAN
    # future event (after LastDataUpdate) and missing SourceSystem
    + event("F1", "Opportunity Created", "2024-08-01T00:00:00Z", system="")
    # no Opportunity Created
    + event("N1", "Quote Issued", "2024-01-05T00:00:00Z")
    # event before Created, and a duplicate
    + event("B1", "Quote Issued", "2024-01-01T00:00:00Z")
    + event("B1", "Opportunity Created", "2024-01-02T00:00:00Z")
    + event("B1", "Opportunity Created", "2024-01-02T00:00:00Z")
    # Won then Lost without Reopened; outcome says Won but last close is Lost
    + event("W1", "Opportunity Created", "2024-01-01T00:00:00Z", outcome="Won")
    + event("W1", "Opportunity Won", "2024-01-03T00:00:00Z", outcome="Won")
    + event("W1", "Opportunity Lost", "2024-01-04T00:00:00Z", outcome="Won")
    # reopened properly: no finding; cycle runs to the last close (6 days, stated 2 days: mismatch)
    + event("R1", "Opportunity Created", "2024-01-01T00:00:00Z", cycle="2 days")
    + event("R1", "Opportunity Lost", "2024-01-03T00:00:00Z", cycle="2 days")
    + event("R1", "Opportunity Reopened", "2024-01-04T00:00:00Z", cycle="2 days")
    + event("R1", "Opportunity Won", "2024-01-07T00:00:00Z", cycle="2 days")
    # negative amount, discount out of range, non-standard activity
    + event("A1", "Opportunity Created", "2024-01-01T00:00:00Z", amount="-5", discount="1.5")
    + event("A1", "Coffee Break", "2024-01-02T00:00:00Z", amount="-5", discount="1.5")
)


def load(tmp_path: Path, ws: Workspace, text: str) -> None:
    f = tmp_path / "log.csv"
    f.write_text(HEADER + text)
    import_log(ws, f, ImportOptions())


def test_clean_log_has_no_errors_or_warnings(tmp_path: Path, workspace: Workspace) -> None:
    load(tmp_path, workspace, CLEAN)
    report = check_log(workspace)
    assert {f.rule: f.severity for f in report.findings if f.severity is not Severity.INFO} == {}
    assert report.exit_code == 0
    required = {c.attribute: c.events_share for c in report.coverage if c.tier == "Required"}
    assert required == dict.fromkeys(
        ("SalesOpportunityId", "ActivityName", "EventTime", "SourceSystem", "LastDataUpdate"), 1.0)
    cov = {c.attribute: (c.events_share, c.cases_share) for c in report.coverage}
    assert cov["OpportunityOutcome"] == (2 / 3, 1 / 2)
    assert cov["CustomerName"] == (0.0, 0.0)


def test_every_rule_is_found_with_counts_and_examples(tmp_path: Path, workspace: Workspace) -> None:
    load(tmp_path, workspace, BROKEN)
    report = check_log(workspace)
    found = {f.rule: (f.severity, f.count, f.examples) for f in report.findings}
    assert found["missing-required:SourceSystem"] == (Severity.ERROR, 1, ("F1",))
    assert found["future-timestamp"] == (Severity.ERROR, 1, ("F1",))
    assert found["missing-created"] == (Severity.WARNING, 1, ("N1",))
    assert found["before-created"] == (Severity.WARNING, 1, ("B1",))
    assert found["duplicate-event"] == (Severity.WARNING, 1, ("B1",))
    assert found["won-and-lost"] == (Severity.WARNING, 1, ("W1",))
    assert found["outcome-contradiction"] == (Severity.ERROR, 1, ("W1",))
    assert found["cycle-duration-mismatch"] == (Severity.ERROR, 1, ("R1",))
    assert found["negative-amount"] == (Severity.ERROR, 2, ("A1",))
    assert found["discount-range"] == (Severity.ERROR, 2, ("A1",))
    assert found["nonstandard-activity"] == (Severity.WARNING, 1, ("A1",))
    assert found["absent-activities"][0] is Severity.INFO
    assert report.exit_code == 2
    assert "C1" not in {e for f in report.findings for e in f.examples}


def test_data_age_is_reported(tmp_path: Path, workspace: Workspace) -> None:
    load(tmp_path, workspace, CLEAN)
    age = next(f for f in check_log(workspace).findings if f.rule == "data-age")
    assert age.severity is Severity.INFO and "2024-07-01 00:00" in age.message


@pytest.mark.parametrize(("text", "code"), [(CLEAN, 0), (CLEAN + event("N1", "Quote Issued", "2024-01-05T00:00:00Z"), 1), (BROKEN, 2)])
def test_cli_exit_codes_and_json(tmp_path: Path, text: str, code: int) -> None:
    f = tmp_path / "log.csv"
    f.write_text(HEADER + text)
    env = {**os.environ, "LEAD2CASH_DB": str(tmp_path / "ws.duckdb")}
    subprocess.run([sys.executable, "-m", "lead2cash", "import", str(f)], check=True, env=env,
                   capture_output=True)
    proc = subprocess.run([sys.executable, "-m", "lead2cash", "check", "--json"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == code
    data = json.loads(proc.stdout)
    assert data["exit_code"] == code and data["events"] == text.count("\n")


def test_imported_log_whose_last_stage_is_closed_without_a_close_is_flagged(
        tmp_path: Path, workspace: Workspace) -> None:
    f = tmp_path / "stages.csv"
    f.write_text(
        "SalesOpportunityId,ActivityName,EventTime,SourceSystem,LastDataUpdate,SalesStage\n"
        f"K1,Opportunity Created,2024-01-01T00:00:00Z,Salesforce CRM,{LDU},Prospecting\n"
        f"K1,Quote Issued,2024-01-05T00:00:00Z,Salesforce CRM,{LDU},Closed Won\n"
        f"K2,Opportunity Created,2024-01-01T00:00:00Z,Salesforce CRM,{LDU},Prospecting\n"
        f"K2,Opportunity Won,2024-01-05T00:00:00Z,Salesforce CRM,{LDU},Closed Won\n"
        # two stage changes in one second, rows equal but for the stage: no duplicate
        f"K2,Opportunity Stage Changed,2024-01-03T00:00:00Z,Salesforce CRM,{LDU},Qualification\n"
        f"K2,Opportunity Stage Changed,2024-01-03T00:00:00Z,Salesforce CRM,{LDU},Needs Analysis\n")
    import_log(workspace, f, ImportOptions())
    found = {f.rule: f for f in check_log(workspace).findings}
    assert (found["closed-without-outcome"].count, found["closed-without-outcome"].examples) == (
        1, ("K1",))
    assert "duplicate-event" not in found
