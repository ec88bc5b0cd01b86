"""SAP SD only: Opportunity Lost from quotation rejection (`VBAK.ABSTK` / `VBAP.ABGRU` + CDPOS)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
from extract_fixtures import write_csv

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


def _quotes(folder: Path, quotes: list[tuple[str, str, list[str]]], flow: list[tuple]) -> Path:
    """SD files: quotations (VBELN, ABSTK, item ABGRUs), flow rows, one rejection change
    document per filled ABGRU (hour = its position, so later rows are later changes)."""
    day = "20240110"
    vbak = [
        {"VBELN": v, "VBTYP": "B", "ERDAT": "20240102", "ERZET": "090000", "ABSTK": abstk}
        for v, abstk, _ in quotes
    ]
    vbak += [
        {"VBELN": n, "VBTYP": "C", "ERDAT": "20240105", "ERZET": "090000", "ABSTK": ""}
        for _, _, n, tn in flow
        if tn == "C"
    ]
    write_csv(folder, "VBAK", vbak)
    items = [
        (v, f"{10 * (i + 1):06d}", abgru)
        for v, _, reasons in quotes
        for i, abgru in enumerate(reasons)
    ]
    write_csv(
        folder,
        "VBAP",
        [{"VBELN": v, "POSNR": p, "NETWR": "100.00", "ABGRU": a} for v, p, a in items],
    )
    write_csv(
        folder,
        "VBFA",
        [
            {
                "VBELV": v,
                "VBELN": n,
                "VBTYP_V": tv,
                "VBTYP_N": tn,
                "ERDAT": "20240105",
                "ERZET": "090000",
            }
            for v, tv, n, tn in flow
        ],
    )
    rejected = [(v, p) for v, p, a in items if a]
    nr = [f"{i + 1:010d}" for i in range(len(rejected))]
    head = {"OBJECTCLAS": "VERKBELEG"}
    write_csv(
        folder,
        "CDHDR",
        [
            {**head, "OBJECTID": v, "CHANGENR": c, "UDATE": day, "UTIME": f"{10 + i:02d}0000"}
            for i, ((v, _), c) in enumerate(zip(rejected, nr, strict=True))
        ],
    )
    write_csv(
        folder,
        "CDPOS",
        [
            {**head, "OBJECTID": v, "CHANGENR": c, "TABNAME": "VBAP", "TABKEY": f"100{v}{p}",
             "FNAME": "ABGRU", "VALUE_OLD": "", "VALUE_NEW": "02"}
            for (v, p), c in zip(rejected, nr, strict=True)
        ],
    )  # fmt: skip
    return folder


def test_sd_only_lost_needs_every_quotation_rejected_and_no_order(
    tmp_path: Path, workspace: Workspace
) -> None:
    quotes = [
        ("0020000001", "C", ["02", "02"]),  # case 1: two revisions, both rejected -> Lost
        ("0020000002", "", ["02"]),  # ... the second only through its item's ABGRU
        ("0020000003", "", ["02", ""]),  # case 2: one item still open -> not lost
        ("0020000004", "C", ["02"]),  # case 3: rejected, but an order follows -> not lost
    ]
    flow = [
        ("0010000001", "A", "0020000001", "B"),
        ("0010000001", "A", "0020000002", "B"),
        ("0020000004", "B", "0000000004", "C"),
    ]
    folder = _quotes(tmp_path / "sd", quotes, flow)
    extract(workspace, {"sap-s4hana": folder}, extracted_at=datetime(2024, 7, 1))
    lost = workspace.con.execute(
        "SELECT SalesOpportunityId, strftime(EventTime, '%m-%d %H:%M'), source_record FROM events "
        "WHERE ActivityName = 'Opportunity Lost'"
    ).fetchall()
    # the last of case 1's three rejections: 12:00 Berlin = 11:00 UTC
    assert lost == [("0010000001", "01-10 11:00", "sap-s4hana/CDHDR.csv:CHANGENR=0000000003")]
    outcomes = workspace.con.execute(
        "SELECT SalesOpportunityId, OpportunityOutcome FROM cases ORDER BY 1"
    ).fetchall()
    assert outcomes == [("0010000001", "Lost"), ("0020000003", None), ("0020000004", "Won")]


def test_rejection_without_change_documents_gives_no_time_and_no_event(
    tmp_path: Path, workspace: Workspace
) -> None:
    flow = [("0010000001", "A", "0020000001", "B")]
    folder = _quotes(tmp_path / "sd", [("0020000001", "C", ["02"])], flow)
    (folder / "CDHDR.csv").unlink()
    (folder / "CDPOS.csv").unlink()
    extract(workspace, {"sap-s4hana": folder}, extracted_at=datetime(2024, 7, 1))
    absent = json.loads(workspace.meta()["absent_activities"])
    assert absent["Opportunity Lost"] == "sap-s4hana: CDHDR, CDPOS not extracted"
    assert workspace.con.execute("SELECT count(*) FROM events").fetchall() == [(1,)]  # the quote
