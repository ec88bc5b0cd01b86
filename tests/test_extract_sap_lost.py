"""SAP SD only: Opportunity Lost from quotation rejection (`VBAK.ABSTK` / `VBAP.ABGRU` + CDPOS)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lead2cash.simulate import SimulationParams, simulate
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

CRM_ONLY = {"CRMS4D_OPPT_H.csv"}
CHANGE_DOCUMENTS = {"CDHDR.csv", "CDPOS.csv"}


def _sd_view(sim: Path, out: Path) -> Path:
    """The SAP folder without S/4HANA for customer management: no opportunity header and only
    the sales documents' (VERKBELEG) change documents."""
    out.mkdir()
    for f in sim.iterdir():
        if f.name in CHANGE_DOCUMENTS:
            duckdb.execute(
                f"COPY (SELECT * FROM read_csv('{f}', all_varchar=true) "
                f"WHERE OBJECTCLAS = 'VERKBELEG') TO '{out / f.name}' (HEADER)"
            )
        elif f.name not in CRM_ONLY:
            (out / f.name).symlink_to(f)
    return out


def test_sd_only_lost_is_the_last_rejection_when_the_crm_closed_the_deal(
    tmp_path: Path, workspace: Workspace
) -> None:
    result = simulate(tmp_path / "sim", 400, 1, "sap-s4hana", SimulationParams())
    extract(workspace, {"sap-s4hana": _sd_view(tmp_path / "sim" / "sap-s4hana", tmp_path / "sd")})
    con = workspace.con
    con.execute(
        "CREATE TEMP TABLE gt AS SELECT SalesOpportunityId AS case_id, ActivityName, "
        f"EventTime::TIMESTAMP AS t FROM read_parquet('{result.ground_truth}')"
    )
    # The CRM's truth: quoted, never accepted, closed lost once (a reopen has no SD signal: the
    # simulator leaves ABGRU set, so reopened cases are compared on neither side).
    reopened = "SELECT case_id FROM gt WHERE ActivityName = 'Opportunity Reopened'"
    expected = con.execute(
        f"""SELECT case_id, min(t) FILTER (WHERE ActivityName = 'Opportunity Lost') FROM gt
        WHERE case_id NOT IN ({reopened}) GROUP BY 1
        HAVING count(*) FILTER (WHERE ActivityName = 'Quote Issued') > 0
           AND count(*) FILTER (WHERE ActivityName IN ('Quote Accepted', 'Opportunity Won')) = 0
           AND count(*) FILTER (WHERE ActivityName = 'Opportunity Lost') > 0 ORDER BY 1"""
    ).fetchall()
    got = con.execute(
        f"""SELECT SalesOpportunityId, EventTime FROM events
        WHERE ActivityName = 'Opportunity Lost' AND SalesOpportunityId NOT IN ({reopened})
        ORDER BY 1"""
    ).fetchall()
    assert len(expected) > 30 and got == expected
    lineage = con.execute(
        "SELECT DISTINCT regexp_replace(source_record, '=.*', ''), OpportunityOutcome, "
        "SourceSystem FROM events WHERE ActivityName = 'Opportunity Lost'"
    ).fetchall()
    assert lineage == [("sap-s4hana/CDHDR.csv:CHANGENR", "Lost", "SAP S/4HANA")]
    # every SD Lost points to a VBAP-ABGRU change document row of the extract
    rows = con.execute(
        f"""SELECT count(*) FROM events e JOIN read_csv('{tmp_path / "sd" / "CDPOS.csv"}',
        all_varchar=true) p ON e.source_record = 'sap-s4hana/CDHDR.csv:CHANGENR=' || p.CHANGENR
        WHERE e.ActivityName = 'Opportunity Lost' AND p.FNAME = 'ABGRU' AND p.TABNAME = 'VBAP'"""
    ).fetchall()
    assert (
        rows[0][0]
        == con.execute(
            "SELECT count(*) FROM events WHERE ActivityName = 'Opportunity Lost'"
        ).fetchall()[0][0]
    )
