"""Absence reasons that point at the real cause: an org whose stage names do not match the
configured milestones is told so, with its stage names and the configuration lines to map
them, instead of hearing that a history file was not extracted."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

from lead2cash.checks import Severity, check_log
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data"
WHEN = datetime(2024, 7, 27, 2, 0)
ORG = DATA / "salesforce-custom-stages"  # Discovery, Needs Assessment, Solution Design, ...


def test_unmatched_stage_names_are_the_reason_and_check_prints_the_mapping(
    workspace: Workspace,
) -> None:
    extract(workspace, {"salesforce": ORG}, extracted_at=WHEN)
    absent = json.loads(workspace.meta()["absent_activities"])
    for milestone, configured in (
        ("Opportunity Qualified", "Qualification"),
        ("Requirements Gathered", "Needs Analysis"),
        ("Solution Proposed", "Value Proposition"),
    ):
        reason = absent[milestone]
        assert "do not match the configured milestones" in reason
        assert repr(configured) in reason
        assert "(Discovery, Needs Assessment, Solution Design, Proposal)" in reason
        assert "not extracted" not in reason  # OpportunityHistory is there
    finding = {f.rule: f for f in check_log(workspace).findings}["stage-names"]
    assert finding.severity is Severity.WARNING
    assert finding.examples == ("Qualification", "Needs Analysis", "Value Proposition")
    assert "Discovery, Needs Assessment, Solution Design, Proposal" in finding.message
    lines = finding.hint.splitlines()
    assert lines[1] == '["salesforce".stages]  # replaces the whole default table'
    assert '"Needs Assessment" = "Requirements Gathered"  # instead of "Needs Analysis"' in lines


def test_the_printed_mapping_once_filled_in_gives_the_milestones(
    workspace: Workspace, tmp_path: Path
) -> None:
    config = tmp_path / "stages.toml"
    config.write_text(
        '["salesforce".stages]\n"Discovery" = "Opportunity Qualified"\n'
        '"Needs Assessment" = "Requirements Gathered"\n"Solution Design" = "Solution Proposed"\n'
    )
    extract(workspace, {"salesforce": ORG}, config, extracted_at=WHEN)
    acts = workspace.con.execute(
        "SELECT ActivityName FROM events WHERE SalesOpportunityId = '0065g00000CustS1AAC' "
        "ORDER BY event_id"
    ).fetchall()
    assert [a for (a,) in acts] == [
        "Opportunity Created",
        "Opportunity Qualified",  # Discovery at creation: a milestone, also on the first row
        "Requirements Gathered",
        "Solution Proposed",
        "Opportunity Stage Changed",  # Proposal
        "Opportunity Won",
    ]
    assert "stage-names" not in {f.rule for f in check_log(workspace).findings}


def test_a_missing_history_is_named_as_such(workspace: Workspace, tmp_path: Path) -> None:
    org = tmp_path / "sf"
    shutil.copytree(ORG, org)
    (org / "OpportunityHistory.csv").unlink()
    extract(workspace, {"salesforce": org}, extracted_at=WHEN)
    absent = json.loads(workspace.meta()["absent_activities"])
    reason = "salesforce: OpportunityHistory, OpportunityFieldHistory not extracted"
    assert absent["Requirements Gathered"] == absent["Opportunity Reopened"] == reason
    # this export has no CloseDate: the closed record cannot be dated, so no Won either
    assert absent["Opportunity Won"] == reason
