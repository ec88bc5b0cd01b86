"""Connectors on exports as real tools write them (issue 8): hand-written files in `tests/data/exports`.

Each folder is one tool's shape: Salesforce's weekly Data Export (cp1252, every value quoted,
`0`/`1`, null ids, no OpportunityStage, User without Name, a header-only file), a Data Loader
"Export All" (soft-deleted rows, upper-case headers, datetimes without milliseconds), an SAP
SE16N download (UTF-16 text with tabs, formatted dates, a blank ERZET, texts in three
languages), SAP SLT / ODP extracts (deletion flags, a cancellation known only by SFAKN), a
Synapse Link append-only export (headerless partitions named by model.json, row versions,
IsDelete), and Oracle REST framework v3 pages (child collections as `{"items": [...]}`,
translated tables in several languages, a soft-deleted snapshot).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from lead2cash.checks import check_log
from lead2cash.errors import InputError, Lead2CashError
from lead2cash.sources.config import default_toml
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data" / "exports"
WHEN = datetime(2024, 7, 27, 2, 0)


def _copy(tmp_path: Path, name: str) -> Path:
    """A writable copy of one export folder."""
    return Path(shutil.copytree(DATA / name, tmp_path / name))


def _events(ws: Workspace) -> list[tuple[str, str, str]]:
    return ws.con.execute(
        "SELECT SalesOpportunityId, ActivityName, strftime(EventTime, '%m-%d %H:%M') "
        "FROM events ORDER BY event_id"
    ).fetchall()


def _findings(ws: Workspace) -> dict[str, object]:
    return {f.rule: f for f in check_log(ws).findings}


# --- Salesforce weekly Data Export ------------------------------------------------------------


def test_salesforce_data_export_reads_as_the_org_wrote_it(workspace: Workspace) -> None:
    meta = extract(workspace, {"salesforce": DATA / "salesforce-data-export"})
    o1, o2, o3 = (f"0068d00000Q1{c}AAAAZ" for c in "abc")
    assert _events(workspace) == [
        (o1, "Opportunity Created", "01-02 09:00"),
        (o1, "Opportunity Qualified", "01-10 14:00"),
        (o1, "Opportunity Won", "02-09 16:20"),  # flags derived from Opportunity.IsClosed/IsWon
        (o1, "Sales Order Created", "02-12 10:00"),
        (o2, "Opportunity Created", "01-03 10:00"),
        (o2, "Requirements Gathered", "01-12 10:00"),
        (o2, "Opportunity Lost", "01-26 11:00"),
        (o3, "Opportunity Created", "01-04 08:30"),
        (o3, "Opportunity Stage Changed", "01-22 13:00"),  # a stage only the history knows
        (o3, "Opportunity Stage Changed", "02-20 09:15"),
    ]  # orders whose OpportunityId is the null id (18 or 15 characters) belong to no case
    cases = workspace.con.execute(
        "SELECT SalesOpportunityId, CustomerName, OpportunityOwner, SalesRegion, "
        "OpportunityOutcome FROM cases ORDER BY 1"
    ).fetchall()
    assert cases == [
        (o1, "Müller Maschinenbau GmbH", "José Peña", "EMEA", "Won"),
        (o2, None, "José Peña", None, "Lost"),  # AccountId is the null id
        (o3, "Société Générale d’Équipement", "José Peña", "EMEA", None),
    ]
    assert meta["encoding:salesforce"].startswith("salesforce/Opportunity.csv: cp1252")
    # the stage flags stand in for the absent OpportunityStage: derived, not a missing file
    assert "OpportunityStage" not in meta.get("missing:salesforce", "")
    assert meta["header_only:salesforce"] == "OpportunityLineItem"
    assert meta["derived:salesforce"].startswith("OpportunityStage absent")
    # no --extracted-at, no manifest: the newest stamp the export carries, not file times
    ldu = workspace.con.execute("SELECT DISTINCT LastDataUpdate FROM events").fetchall()
    assert ldu == [(datetime(2024, 3, 15, 17, 45, 12),)]
    assert meta["data_age:salesforce"] == "newest User.SystemModstamp in the export"
    found = _findings(workspace)
    assert "Opportunity.IsClosed / IsWon" in found["derived-from-export"].message
    assert found["data-age"].examples == ("salesforce: newest User.SystemModstamp in the export",)
    assert found["file-encoding"].examples[0].startswith("salesforce: salesforce/Opportunity.csv")


def test_extract_says_the_stage_flags_were_derived_not_that_activities_are_missing(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lead2cash", "extract", "--db", str(tmp_path / "w.duckdb"),
         "--source", f"salesforce={DATA / 'salesforce-data-export'}"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())  # rich wraps long lines
    assert "salesforce: derived: OpportunityStage absent: each stage's closed / won flags" in said
    absent = said.partition("absent optional files")[2].partition("their activities")[0]
    assert "OpportunityStage" not in absent


def test_a_wrong_configured_encoding_names_the_encoding_and_the_fix(
    tmp_path: Path, workspace: Workspace
) -> None:
    config = tmp_path / "l2c.toml"
    config.write_text('["salesforce"]\nencoding = "utf-8"\n')
    with pytest.raises(InputError) as err:
        extract(workspace, {"salesforce": DATA / "salesforce-data-export"}, config)
    text = str(err.value)
    assert text.startswith("salesforce/Opportunity.csv, line 2: cannot read the file as utf-8 (set by ")
    assert "Invalid unicode" in text
    assert 'encoding = "cp1252"' in text
    assert not workspace.has_log()
    config.write_text('["salesforce"]\nencoding = "latin-1"\n')  # ISO-8859-1 as configured
    extract(workspace, {"salesforce": DATA / "salesforce-data-export"}, config)
    owner = workspace.con.execute("SELECT DISTINCT OpportunityOwner FROM cases").fetchall()
    assert owner == [("José Peña",)]


def test_encoding_setting_is_documented_and_checked(tmp_path: Path, workspace: Workspace) -> None:
    assert 'encoding = ""' in default_toml("sap-s4hana")
    config = tmp_path / "l2c.toml"
    config.write_text('["sap-s4hana"]\nencoding = "klingon-8"\n')
    with pytest.raises(InputError, match=r"\[sap-s4hana\], column 'encoding': unknown encoding"):
        extract(workspace, {"sap-s4hana": DATA / "sap-se16n-download"}, config)


def test_gzipped_latin1_csv_is_detected(tmp_path: Path, workspace: Workspace) -> None:
    org = _copy(tmp_path, "salesforce-data-export")
    for path in list(org.glob("*.csv")):
        path.with_suffix(".csv.gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    meta = extract(workspace, {"salesforce": org})
    assert meta["encoding:salesforce"].startswith("salesforce/Opportunity.csv.gz: cp1252")
    names = workspace.con.execute("SELECT CustomerName FROM cases ORDER BY 1").fetchall()
    assert names == [("Müller Maschinenbau GmbH",), ("Société Générale d’Équipement",), (None,)]


def test_an_optional_file_with_rows_but_missing_columns_still_fails(
    tmp_path: Path, workspace: Workspace
) -> None:
    org = _copy(tmp_path, "salesforce-data-export")
    items = org / "OpportunityLineItem.csv"
    row = ['"00k1"', '"0068d00000Q1aAAAAZ"'] + ['""'] * 14
    items.write_bytes(items.read_bytes() + ",".join(row).encode() + b"\r\n")
    with pytest.raises(InputError, match=r"OpportunityLineItem.csv, column 'Product2Id': missing"):
        extract(workspace, {"salesforce": org})


# --- Salesforce Data Loader "Export All" ------------------------------------------------------


def test_data_loader_export_all_leaves_soft_deleted_rows_out(workspace: Workspace) -> None:
    meta = extract(
        workspace, {"salesforce": DATA / "salesforce-data-loader-export-all"}, extracted_at=WHEN
    )
    a, c = "0068d00000Q2aAAAAZ", "0068d00000Q2cAAAAZ"
    assert _events(workspace) == [
        (a, "Opportunity Created", "01-02 09:00"),
        (a, "Opportunity Qualified", "01-10 14:00"),
        (a, "Quote Issued", "01-20 10:00"),
        (a, "Quote Accepted", "02-01 10:00"),  # LastModifiedDate without offset: UTC
        (a, "Opportunity Won", "02-09 16:20"),
        (c, "Opportunity Created", "01-05 11:30"),
        (c, "Opportunity Qualified", "01-05 11:30"),  # its deleted Closed Lost row gives nothing
    ]
    cases = workspace.con.execute(
        "SELECT SalesOpportunityId, DiscountPercentage, OpportunityOutcome FROM cases ORDER BY 1"
    ).fetchall()
    assert cases == [(a, 0.05, "Won"), (c, None, None)]  # the deleted quote's 20 % is not read
    assert meta["dropped:salesforce"] == (
        "salesforce/Opportunity.csv: 1 marked deleted (ISDELETED); "
        "salesforce/OpportunityHistory.csv: 2 marked deleted (ISDELETED); "
        "salesforce/Quote.csv: 1 marked deleted (ISDELETED)"
    )
    assert "rows-left-out" in _findings(workspace)


# --- SAP SE16N download and SLT / ODP extracts --------------------------------------------------


def test_sap_se16n_utf16_download_with_a_blank_time(workspace: Workspace) -> None:
    meta = extract(workspace, {"sap-s4hana": DATA / "sap-se16n-download"}, extracted_at=WHEN)
    q = "0020000001"
    assert _events(workspace) == [
        (q, "Quote Issued", "01-10 09:15"),  # 10:15 in Berlin
        (q, "Sales Order Created", "02-04 23:00"),  # ERZET blank: midnight in Berlin
        (q, "Quote Accepted", "02-05 13:30"),  # VBFA with formatted date and time
        (q, "Opportunity Won", "02-05 13:30"),
        (q, "Invoice Generated", "02-20 08:12"),
    ]
    case = workspace.con.execute("SELECT CustomerName, PaymentTerms FROM cases").fetchall()
    assert case == [("Bäckerei Groß & Söhne KG", "Net 30 days")]  # English, not the last row
    assert json.loads(meta["date_only:sap-s4hana"]) == {"sap-s4hana/VBAK.txt ERZET": 1}
    assert meta["encoding:sap-s4hana"].startswith("sap-s4hana/VBFA.txt: utf-16")
    found = _findings(workspace)["date-only-times"]
    assert found.count == 1 and found.examples == ("sap-s4hana sap-s4hana/VBAK.txt ERZET: 1",)


def test_sap_language_setting_picks_the_texts(tmp_path: Path, workspace: Workspace) -> None:
    config = tmp_path / "l2c.toml"
    config.write_text('["sap-s4hana"]\nlanguage = "DE"\n')  # ISO form of SPRAS D
    extract(workspace, {"sap-s4hana": DATA / "sap-se16n-download"}, config, WHEN)
    terms = workspace.con.execute("SELECT PaymentTerms FROM cases").fetchall()
    assert terms == [("30 Tage netto ohne Abzug",)]


def test_sap_slt_and_odp_deletion_flags_and_sfakn_cancellation(workspace: Workspace) -> None:
    meta = extract(workspace, {"sap-s4hana": DATA / "sap-slt-odp"}, extracted_at=WHEN)
    assert _events(workspace) == [
        ("0000000200", "Sales Order Created", "03-01 08:30"),
        # 0090000010 is cancelled by 0095000010 (SFAKN) although VBFA lacks the link
        ("0000000200", "Invoice Generated", "03-06 07:10"),
    ]  # order 0000000201 and its invoice were deleted: no case, no event
    assert meta["dropped:sap-s4hana"] == (
        "sap-s4hana/VBFA.csv: 1 marked deleted (IUUC_OPERAT_FLAG); "
        "sap-s4hana/VBAK.csv: 1 marked deleted (IUUC_OPERAT_FLAG); "
        "sap-s4hana/VBRK.csv: 1 marked deleted (ODQ_CHANGEMODE)"
    )


# --- Dynamics 365: Synapse Link append-only ---------------------------------------------------


def test_synapse_link_append_only_partitions(workspace: Workspace) -> None:
    meta = extract(workspace, {"dynamics365": DATA / "dynamics-synapse-link-append-only"})
    a, c = "7a1c3f0e-0b8e-ee11-8179-000d3a2b1c01", "7a1c3f0e-0b8e-ee11-8179-000d3a2b1c03"
    assert _events(workspace) == [
        (a, "Opportunity Created", "01-02 09:00"),
        (a, "Opportunity Qualified", "01-15 10:00"),  # audit.csv, exported beside the lake
        (a, "Opportunity Won", "02-09 16:20"),
        (c, "Opportunity Created", "01-05 11:30"),
    ]  # the deleted opportunity (newest row IsDelete = True) gives nothing
    cases = workspace.con.execute(
        "SELECT SalesOpportunityId, OpportunityAmount, CustomerName, OpportunityOutcome "
        "FROM cases ORDER BY 1"
    ).fetchall()
    assert cases == [
        (a, 48000.0, "Müller Maschinenbau GmbH & Co. KG", "Won"),  # newest versions
        (c, 9000.0, "Müller Maschinenbau GmbH & Co. KG", None),
    ]
    assert meta["dropped:dynamics365"] == (
        "dynamics365/opportunity: 2 older version(s) by versionnumber; 1 marked deleted "
        "(IsDelete); dynamics365/account: 1 older version(s) by versionnumber"
    )
    assert meta["data_age:dynamics365"] == "newest account.SinkModifiedOn in the export"


def test_synapse_link_partition_with_another_header_is_refused(
    tmp_path: Path, workspace: Workspace
) -> None:
    org = _copy(tmp_path, "dynamics-synapse-link-append-only")
    (org / "model.json").unlink()  # without the manifest the partitions need a header row
    with pytest.raises(Lead2CashError):
        extract(workspace, {"dynamics365": org})


# --- Oracle CX Sales: REST framework v3 and translated tables ---------------------------------


def test_oracle_rest_v3_child_items_and_translated_tables(workspace: Workspace) -> None:
    meta = extract(workspace, {"oracle-cx": DATA / "oracle-rest-v3"})
    o1, o2 = "300000012345001", "300000012345002"
    assert _events(workspace) == [
        (o1, "Opportunity Created", "01-02 09:00"),
        (o1, "Opportunity Qualified", "01-10 14:00"),
        (o1, "Quote Issued", "01-20 10:00"),
        (o1, "Opportunity Stage Changed", "02-01 10:00"),
        (o1, "Quote Accepted", "02-05 10:00"),
        (o1, "Opportunity Won", "02-09 16:20"),
        (o1, "Sales Order Created", "02-12 10:00"),
        (o2, "Opportunity Created", "01-05 11:30"),
        (o2, "Opportunity Qualified", "01-09 12:00"),  # the deleted snapshot gives nothing
    ]
    cases = workspace.con.execute(
        "SELECT SalesOpportunityId, ProductCategory, PaymentTerms FROM cases ORDER BY 1"
    ).fetchall()
    assert cases == [(o1, "Machining Centers", "Net 30"), (o2, "Spare Parts", None)]
    assert meta["data_age:oracle-cx"] == "newest opportunities.OptyLastUpdateDate in the export"
    assert "3 row(s) in other languages than US" in meta["dropped:oracle-cx"]
    assert "MOO_OPTY_STG_SNAPSHOTS.csv: 1 marked deleted (DELETE_FLAG)" in meta["dropped:oracle-cx"]
