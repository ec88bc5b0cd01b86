"""The simulator writes real-shaped extracts whose ground truth they really encode."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
import json
import re
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from lead2cash.errors import Lead2CashError
from lead2cash.io.importer import import_log
from lead2cash.model import ACTIVITY_NAMES, SOURCE_SYSTEMS
from lead2cash.simulate import simulate
from lead2cash.simulate.params import SimulationParams
from lead2cash.sources.defaults import DEFAULTS
from lead2cash.store import CORE_COLUMNS, Workspace

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "source-systems.md"
# Columns we write that the reference does not list, each a documented real field.
NOT_IN_REFERENCE = {
    "Payment_Terms__c",  # custom field on Order (the reference: "or a custom field")
    "OrderId",  # OrderHistory's parent reference, like OpportunityHistory.OpportunityId
    "SPRAS",  # language key of the text table TVZBT
    "REBZG",  # BSEG/BSAD: invoice a (partial) payment refers to
    "SFAKN",  # VBRK: the cancelled billing document (listed in the VBRK field list)
    # Dataverse primary keys follow `<table>id`; the reference lists the tables, not their keys
    "accountid", "systemuserid", "opportunityproductid",
    # SAP CRM opportunity header: text, sold-to party, currency; material group text
    "DESCRIPTION", "SOLD_TO_PARTY", "CURRENCY", "WGBEZ",
    # Oracle Fusion: table keys and columns the reference leaves out (~ real names)
    "OPTY_SNAPSHOT_ID", "OPTY_STG_SNAPSHOT_ID", "STG_ID", "LANGUAGE", "TERM_ID", "STATUS_TRX",
    "INTERFACE_HEADER_ATTRIBUTE1", "FULFILL_LINE_NUMBER", "ORDERED_QTY", "SHIPPED_QTY",
    "ACTUAL_SHIP_DATE", "FULFILL_LINE_DETAIL_ID", "RECEIVABLE_APPLICATION_ID", "AMOUNT_APPLIED",
    "AMOUNT", "PAY_FROM_CUSTOMER",
    # reversals: SAP BKPF reversal document / year / flag, BSAD negative posting; Oracle
    # order change versions, receipt reversal date / category, application reversal GL date
    "STBLG", "STJAH", "XREVERSAL", "XNEGP", "CHANGE_VERSION_NUMBER", "REVERSAL_DATE",
    "REVERSAL_CATEGORY", "REVERSAL_GL_DATE",
    # Oracle REST: account / resource attributes, the ChildRevenue child and its attributes
    "PartyId", "PartyName", "OrganizationName", "ChildRevenue", "RevnId", "RevnAmount",
    "ProdGroupId", "ProdGroupName", "PrimaryFlag",
}


def _digest(folder: Path) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


NOISY = SimulationParams(noise=0.05)
RUNS = {  # fixture name: (landscape, cases, seed, parameters)
    "mixed": ("salesforce+sap-s4hana", 2500, 11, SimulationParams(noise=0.05, chunk_cases=1000)),
    "sf_only": ("salesforce", 1500, 5, SimulationParams()),
    "dynamics": ("dynamics365", 1500, 6, NOISY),
    "oracle": ("oracle-cx", 1500, 8, NOISY),
    "sap_only": ("sap-s4hana", 1500, 9, NOISY),
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The output folder of one of RUNS, simulated once per module."""
    done: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in done:
            landscape, cases, seed, params = RUNS[name]
            done[name] = simulate(tmp_path_factory.mktemp(name), cases, seed, landscape,
                                  params).out_dir
        return done[name]

    return get


@pytest.fixture(scope="module")
def mixed(sim: Callable[[str], Path]) -> Path:
    return sim("mixed")


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = (simulate(tmp_path / d, 300, s, params=SimulationParams(chunk_cases=128))
               for d, s in (("a", 4), ("b", 4), ("c", 5)))
    assert _digest(a.out_dir) == _digest(b.out_dir)
    assert len(_digest(a.out_dir)) == 2 + 10 + 13  # ground truth and its objects, 9 SF and 12 SAP files, 2 manifests
    assert _digest(a.out_dir)["ground_truth.parquet"] != _digest(c.out_dir)["ground_truth.parquet"]


def test_every_column_is_a_real_field(sim: Callable[[str], Path]) -> None:
    reference = REFERENCE.read_text()
    named = set(re.findall(r"(?:`|\*\*)([A-Za-z0-9_]+)(?:`|\*\*)", reference))
    named |= {"opportunities", "accounts", "resources"}  # Oracle REST resources (URL paths)
    named |= {"RA_TERMS_TL"}  # Receivables payment-terms names (TERM_ID → NAME)
    named |= {"T023T"}  # SAP material group texts (MATKL → WGBEZ), the product category
    files = [f for name in RUNS for f in sorted(sim(name).glob("*/*.*"))]
    assert len(files) > 60
    for f in files:
        if f.name == "_manifest.json":
            continue
        assert f.stem in named, f"{f.name} is not a table/object of the reference"
        if f.suffix == ".json":
            item = json.loads(f.read_text())["items"][0]
            header = [*item, *item.get("ChildRevenue", [{}])[0]]
        else:
            header = f.open().readline().strip().replace('"', "").split(",")
        unknown = set(header) - named - NOT_IN_REFERENCE
        assert not unknown, f"{f.name}: {unknown}"
    sap = (sim("mixed") / "sap-s4hana" / "VBAK.csv").open().readline().strip().split(",")
    assert sap[:4] == ["MANDT", "VBELN", "ERDAT", "ERZET"] and "BSTNK" in sap


def test_ground_truth_has_the_store_columns_and_imports(mixed: Path, workspace: Workspace) -> None:
    table = pq.read_table(mixed / "ground_truth.parquet")
    assert table.column_names == list(CORE_COLUMNS)
    assert table["event_id"].to_pylist() == list(range(table.num_rows))
    import_log(workspace, mixed / "ground_truth.parquet")
    n, cases, first, cycle = workspace.con.execute(
        "SELECT count(*), count(DISTINCT SalesOpportunityId), min(EventTime), "
        "max(SalesCycleDuration) FROM events").fetchone()
    assert n == table.num_rows and cases == 2500 and first.year == 2023
    assert 30 < cycle.days < 730
    gt_cycle = duckdb.connect().execute(
        f"SELECT max(SalesCycleDuration) FROM '{mixed}/ground_truth.parquet'").fetchone()[0]
    assert cycle.total_seconds() == gt_cycle  # BIGINT seconds in Parquet, INTERVAL in the store


def test_mixed_landscape_has_all_fifteen_activities(mixed: Path) -> None:
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT ActivityName, SourceSystem, count(*) FROM '{mixed}/ground_truth.parquet' "
        "GROUP BY ALL").fetchall()
    assert {r[0] for r in rows} == set(ACTIVITY_NAMES)
    systems = {(a, s) for a, s, _ in rows}
    assert ("Invoice Generated", SOURCE_SYSTEMS["sap-s4hana"]) in systems
    assert ("Opportunity Won", SOURCE_SYSTEMS["salesforce"]) in systems


# How each extract row gives its event's time (SAP: local date+time in the manifest's zone).
_SAP = "timezone('Europe/Berlin', strptime({d} || {t}, '%Y%m%d%H%M%S'))::TIMESTAMP"
TIME_OF = {
    ("Opportunity.csv", "*"): "CreatedDate::TIMESTAMPTZ::TIMESTAMP",
    ("OpportunityHistory.csv", "*"): "CreatedDate::TIMESTAMPTZ::TIMESTAMP",
    ("Quote.csv", "Quote Issued"): "CreatedDate::TIMESTAMPTZ::TIMESTAMP",
    ("Quote.csv", "Quote Accepted"): "LastModifiedDate::TIMESTAMPTZ::TIMESTAMP",
    ("Contract.csv", "*"): "ActivatedDate::TIMESTAMPTZ::TIMESTAMP",
    ("Order.csv", "*"): "CreatedDate::TIMESTAMPTZ::TIMESTAMP",
    ("OrderHistory.csv", "*"): "CreatedDate::TIMESTAMPTZ::TIMESTAMP",
    ("blng__Invoice__c.csv", "*"): "CreatedDate::TIMESTAMPTZ::TIMESTAMP",
    ("blng__Payment__c.csv", "*"): "blng__PaymentDate__c::DATE::TIMESTAMP",
    ("VBAK.csv", "*"): _SAP.format(d="ERDAT", t="ERZET"),
    ("LIKP.csv", "*"): _SAP.format(d="WADAT_IST", t="SPE_WAUHR_IST"),
    ("VBRK.csv", "*"): _SAP.format(d="ERDAT", t="ERZET"),
    ("BSAD.csv", "*"): "strptime(AUGDT, '%Y%m%d')",
    ("CRMS4D_OPPT_H.csv", "*"): "strptime(CREATED_AT_H, '%Y%m%d%H%M%S')",  # a UTC timestamp
    ("CDHDR.csv", "*"): _SAP.format(d="UDATE", t="UTIME"),
    ("VBFA.csv", "*"): _SAP.format(d="ERDAT", t="ERZET"),
    ("opportunity.csv", "*"): "createdon::TIMESTAMPTZ::TIMESTAMP",
    ("audit.csv", "*"): "createdon::TIMESTAMPTZ::TIMESTAMP",
    ("opportunityclose.csv", "*"): "createdon::TIMESTAMPTZ::TIMESTAMP",
    ("quote.csv", "Quote Issued"): "createdon::TIMESTAMPTZ::TIMESTAMP",
    ("quote.csv", "Quote Accepted"): "closedon::TIMESTAMPTZ::TIMESTAMP",
    ("salesorder.csv", "Sales Order Created"): "createdon::TIMESTAMPTZ::TIMESTAMP",
    ("salesorder.csv", "Order Fulfilled"): "datefulfilled::DATE::TIMESTAMP",
    ("invoice.csv", "*"): "createdon::TIMESTAMPTZ::TIMESTAMP",
    ("opportunities.json", "*"): "OptyCreationDate::TIMESTAMPTZ::TIMESTAMP",
    ("MOO_OPTY_STG_SNAPSHOTS.csv", "*"): "CREATION_DATE::TIMESTAMPTZ::TIMESTAMP",
    ("MOO_OPTY_SNAPSHOTS.csv", "*"): "CREATION_DATE::TIMESTAMPTZ::TIMESTAMP",
    ("ZCA_SALES_ORDER_HEADERS.csv", "Quote Issued"): "CREATION_DATE::TIMESTAMPTZ::TIMESTAMP",
    ("ZCA_SALES_ORDER_HEADERS.csv", "Quote Accepted"): "PLACED_ON_DATE::TIMESTAMPTZ::TIMESTAMP",
    ("DOO_HEADERS_ALL.csv", "*"): "CREATION_DATE::TIMESTAMPTZ::TIMESTAMP",
    ("DOO_FULFILL_LINES_ALL.csv", "*"): "ACTUAL_SHIP_DATE::TIMESTAMPTZ::TIMESTAMP",
    ("RA_CUSTOMER_TRX_ALL.csv", "*"): "TRX_DATE::DATE::TIMESTAMP",
    ("AR_RECEIVABLE_APPLICATIONS_ALL.csv", "*"): "APPLY_DATE::DATE::TIMESTAMP",
}


def _rows(path: Path) -> str:
    """SQL source of an extract's rows: CSV as text, REST JSON as its items."""
    if path.suffix == ".json":
        return f"(SELECT unnest(items, recursive := true) FROM read_json('{path}'))"
    return f"read_csv('{path}', all_varchar=true)"


@pytest.mark.parametrize("which", list(RUNS))
def test_every_event_points_at_its_extract_row_and_time(which: str,
                                                        sim: Callable[[str], Path]) -> None:
    out = sim(which)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f"CREATE TABLE gt AS SELECT *, split_part(source_record, ':', 1) AS file, "
        f"split_part(split_part(source_record, ':', 2), '=', 1) AS key, "
        f"split_part(source_record, '=', 2) AS val, EventTime::TIMESTAMP AS t "
        f"FROM '{out}/ground_truth.parquet'")
    groups = con.execute("SELECT DISTINCT file, key, ActivityName FROM gt").fetchall()
    checked = 0
    for file, key, act in groups:
        name = file.split("/")[1]
        expr = TIME_OF.get((name, act)) or TIME_OF[(name, "*")]
        bad, total = con.execute(
            f"SELECT count(*) FILTER (WHERE x.k IS NULL OR x.ts <> gt.t), count(*) FROM gt "
            f"LEFT JOIN (SELECT {key}::VARCHAR AS k, {expr} AS ts FROM {_rows(out / file)}) x "
            f"ON x.k = gt.val "
            f"WHERE gt.file = ? AND gt.ActivityName = ?", [file, act]).fetchone()
        assert bad == 0, f"{bad} of {total} '{act}' events do not match {file}"
        checked += total
    assert checked == con.execute("SELECT count(*) FROM gt").fetchone()[0]


def test_stage_events_follow_the_derivation_rules(mixed: Path) -> None:
    """An independent SQL derivation from OpportunityHistory + OpportunityStage gives the same."""
    sf = mixed / "salesforce"
    stages = DEFAULTS["salesforce"].stages
    milestones = " ".join(f"WHEN '{s.name}' THEN '{s.activity}'" for s in stages if s.activity)
    con = duckdb.connect()
    derived = con.execute(f"""
        WITH h AS (
          SELECT h.Id, OpportunityId AS opp, StageName, CreatedDate::TIMESTAMPTZ AS t,
                 s.IsClosed = 'true' AS closed, s.IsWon = 'true' AS won,
                 lag(StageName) OVER w AS prev, lag(s.IsClosed = 'true') OVER w AS prev_closed,
                 row_number() OVER (PARTITION BY OpportunityId, StageName ORDER BY
                   CreatedDate, h.Id) AS visit
          FROM read_csv('{sf}/OpportunityHistory.csv', all_varchar=true) h
          JOIN read_csv('{sf}/OpportunityStage.csv', all_varchar=true) s ON s.ApiName = StageName
          WINDOW w AS (PARTITION BY OpportunityId ORDER BY CreatedDate, h.Id))
        SELECT opp, CASE
            WHEN closed AND won THEN 'Opportunity Won'
            WHEN closed THEN 'Opportunity Lost'
            WHEN prev_closed THEN 'Opportunity Reopened'
            WHEN visit = 1 AND (CASE StageName {milestones} END) IS NOT NULL
              THEN CASE StageName {milestones} END
            WHEN prev IS NULL THEN NULL
            ELSE 'Opportunity Stage Changed' END AS act, t
        FROM h WHERE prev IS NULL OR prev <> StageName
        EXCEPT ALL SELECT NULL, NULL, NULL""").fetchall()
    derived = sorted((o, a, t) for o, a, t in derived if a is not None)
    truth = sorted(con.execute(
        f"SELECT SalesOpportunityId, ActivityName, EventTime FROM '{mixed}/ground_truth.parquet' "
        "WHERE source_record LIKE 'salesforce/OpportunityHistory.csv:%'").fetchall())
    assert derived == truth and len(truth) > 5000


def test_history_quirks_are_present(mixed: Path) -> None:
    con = duckdb.connect()
    amount_only, ties = con.execute(f"""
        WITH h AS (SELECT *, lag(StageName) OVER w AS ps, lag(Amount) OVER w AS pa,
                          lag(CreatedDate) OVER w AS pt
                   FROM read_csv('{mixed}/salesforce/OpportunityHistory.csv', all_varchar=true)
                   WINDOW w AS (PARTITION BY OpportunityId ORDER BY CreatedDate, Id))
        SELECT count(*) FILTER (WHERE ps = StageName AND pa <> Amount),
               count(*) FILTER (WHERE pt = CreatedDate) FROM h""").fetchone()
    assert amount_only > 300 and ties > 100
    sap = mixed / "sap-s4hana"
    cancelled = con.execute(
        f"SELECT count(*) FROM read_csv('{sap}/VBRK.csv', all_varchar=true) WHERE FKSTO = 'X'"
    ).fetchone()[0]
    leaked = con.execute(
        f"SELECT count(*) FROM read_csv('{sap}/VBRK.csv', all_varchar=true) k "
        f"JOIN '{mixed}/ground_truth.parquet' g ON g.source_record = "
        f"'sap-s4hana/VBRK.csv:VBELN=' || k.VBELN WHERE k.FKSTO = 'X' OR k.VBTYP = 'N'"
    ).fetchone()[0]
    assert cancelled > 5 and leaked == 0
    open_items = con.execute(
        f"SELECT count(*) FROM read_csv('{sap}/BSID.csv', all_varchar=true) WHERE AUGDT = '00000000'"
    ).fetchone()[0]
    assert open_items > 10


def test_manifest_states_extraction_time_and_zone(mixed: Path) -> None:
    import json

    sap = json.loads((mixed / "sap-s4hana" / "_manifest.json").read_text())
    sf = json.loads((mixed / "salesforce" / "_manifest.json").read_text())
    assert sap["extracted_at"] == sf["extracted_at"] == "2025-01-01T02:00:00Z"
    assert sap["time_zone"] == "Europe/Berlin" and sf["time_zone"] == "UTC"
    assert sap["files"]["VBAK.csv"]["rows"] > 0 and "Opportunity.csv" in sf["files"]
    ldu = duckdb.connect().execute(
        f"SELECT DISTINCT LastDataUpdate, max(EventTime) <= LastDataUpdate "
        f"FROM '{mixed}/ground_truth.parquet' GROUP BY 1").fetchall()
    assert len(ldu) == 1 and ldu[0][1]


def test_cli_writes_a_landscape_and_rejects_an_unknown_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "lead2cash"
    ok = subprocess.run([exe, "simulate", "--out", tmp_path / "o", "--cases", "60", "--seed", "2",
                         "--landscape", "oracle-cx", "--noise", "0.1"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "60 opportunities" in ok.stdout and (tmp_path / "o/oracle-cx/opportunities.json").exists()
    bad = subprocess.run([exe, "simulate", "--out", tmp_path / "b", "--landscape", "sap"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown landscape 'sap'" in bad.stderr
    assert "salesforce+sap-s4hana" in bad.stderr and not (tmp_path / "b").exists()


def test_output_folder_must_be_a_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(Lead2CashError, match="cannot create the output folder"):
        simulate(tmp_path / "file", 10, 1)
    with pytest.raises(Lead2CashError, match="at least 1"):
        simulate(tmp_path / "out", 0, 1)
