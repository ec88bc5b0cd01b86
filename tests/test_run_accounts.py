"""Accounting of every run: rows read = rows used + rows set aside per input file, with reasons;
the `runs` and `rejected` commands."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from extract_fixtures import salesforce_org, write_csv
from typer.testing import CliRunner

from lead2cash.cli import app
from lead2cash.io.export import export_log
from lead2cash.io.importer import ImportOptions, import_log
from lead2cash.sources.accounting import NO_LINK
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace
from lead2cash.workspace.runs import FileAccount

KEYS = ImportOptions(case="case", activity="act", time="ts", skip_bad_rows=True)


def data_rows(path: Path) -> int:
    """Rows of a CSV file below its header, counted without our reader."""
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def test_the_sum_must_hold() -> None:
    with pytest.raises(ValueError, match="unaccounted"):
        FileAccount("f.csv", 1, "x", rows_read=5, rows_used=3, rows_set_aside=1)


def test_import_accounts_for_every_row(tmp_path: Path) -> None:
    f = tmp_path / "log.csv"
    f.write_text(
        "case,act,ts\n"
        "A,Opportunity Created,2024-01-01\n"
        "A,Quote Issued,2024-01-02,surplus\n"  # malformed: set aside by the reader
        "B,Opportunity Created,not a time\n"  # unreadable time
        ",Quote Issued,2024-01-03\n"  # no case
        "B,Quote Issued,2024-01-04\n",
        encoding="utf-8",
    )
    with Workspace(tmp_path / "w.duckdb") as ws:
        result = import_log(ws, f, KEYS)
        run = ws.last_run
        assert run is not None and run.outcome == "ok" and run.kind == "import"
        (account,) = run.files
        assert account.rows_read == 5 == data_rows(f) + 0  # csv.reader counts the ragged row too
        assert (account.rows_used, account.rows_set_aside) == (2, 3)
        assert account.rows_used == result.events == run.events
        assert account.rows_set_aside == result.rejected
        assert sum(account.reasons.values()) == 3
        assert account.reasons["SalesOpportunityId is missing"] == 1
        assert account.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
        assert account.size == f.stat().st_size
        stored = ws.con.execute(
            "SELECT rows_read, rows_used, rows_set_aside FROM run_files").fetchall()
        assert stored == [(5, 2, 3)]
        assert ws.con.execute("SELECT count(DISTINCT row) FROM rejected_rows").fetchone() == (3,)


@pytest.mark.parametrize("fmt", ["parquet", "xes"])
def test_import_of_other_formats_uses_every_row(tmp_path: Path, fmt: str) -> None:
    src = tmp_path / "log.csv"
    src.write_text("case,act,ts\nA,Opportunity Created,2024-01-01\nA,Quote Issued,2024-01-02\n"
                   "B,Opportunity Created,2024-01-03\n", encoding="utf-8")
    with Workspace(tmp_path / "a.duckdb") as ws:
        import_log(ws, src, KEYS)
        out = tmp_path / f"log.{fmt}"
        export_log(ws, out)
    with Workspace(tmp_path / "b.duckdb") as ws:
        import_log(ws, out)
        (account,) = ws.last_run.files  # type: ignore[union-attr]
    assert (account.rows_read, account.rows_used, account.rows_set_aside) == (3, 3, 0)


@pytest.fixture
def org_with_orphans(tmp_path: Path) -> Path:
    """The two-opportunity org plus records the mapping reads that belong to no opportunity."""
    folder = salesforce_org(tmp_path / "salesforce")
    history = list(csv.DictReader((folder / "QuoteHistory.csv").open()))
    history.append({"Id": "q3", "QuoteId": "0Q0Z", "Field": "Status", "NewValue": "Presented",
                    "CreatedDate": "2024-01-05T12:00:00.000+0000"})  # its quote is not exported
    write_csv(folder, "QuoteHistory", history)
    write_csv(folder, "Contract", [
        {"Id": "800A", "Status": "Activated", "ActivatedDate": "2024-01-04T15:00:00.000+0000"},
        {"Id": "800Z", "Status": "Activated", "ActivatedDate": "2024-01-07T15:00:00.000+0000"},
        {"Id": "800D", "Status": "Draft", "ActivatedDate": ""},  # not an event: used as context
    ])
    write_csv(folder, "Order", [
        {"Id": "801A", "OpportunityId": "006A", "CreatedDate": "2024-01-06T09:00:00.000+0000"},
        {"Id": "801Z", "OpportunityId": "", "CreatedDate": "2024-01-08T09:00:00.000+0000"},
    ])
    return folder


def test_extract_accounts_for_every_row_of_every_file(tmp_path: Path,
                                                      org_with_orphans: Path) -> None:
    with Workspace(tmp_path / "w.duckdb") as ws:
        extract(ws, {"salesforce": org_with_orphans})
        run = ws.last_run
        assert run is not None and run.kind == "extract" and run.outcome == "ok"
        accounts = {a.file: a for a in run.files}
        rejected = ws.con.execute(
            "SELECT file, row, value, reason FROM rejected_rows ORDER BY file, row").fetchall()
    files = sorted(p.name for p in org_with_orphans.iterdir())
    assert sorted(a.split("/")[1] for a in accounts) == files  # every file read is accounted
    for name in files:
        account = accounts[f"salesforce/{name}"]
        assert account.rows_read == data_rows(org_with_orphans / name), name
        assert account.rows_read == account.rows_used + account.rows_set_aside
        assert account.sha256 == hashlib.sha256((org_with_orphans / name).read_bytes()).hexdigest()
    aside = {k: (a.rows_set_aside, a.reasons) for k, a in accounts.items() if a.rows_set_aside}
    assert aside == {
        "salesforce/QuoteHistory.csv": (1, {NO_LINK.format(how="q.OpportunityId"): 1}),
        "salesforce/Contract.csv": (1, {NO_LINK.format(how="o.Id"): 1}),
        "salesforce/Order.csv": (1, {NO_LINK.format(how="t.OpportunityId"): 1}),
    }
    assert [(f, r) for f, r, _, _ in rejected] == [
        ("salesforce/Contract.csv", "row 2"), ("salesforce/Order.csv", "row 2"),
        ("salesforce/QuoteHistory.csv", "row 3")]


def test_runs_and_rejected_commands(tmp_path: Path, org_with_orphans: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    runner = CliRunner()
    out = runner.invoke(app, ["extract", "--source", f"salesforce={org_with_orphans}", "--db", db])
    assert out.exit_code == 0, out.output
    assert "Rows per input file" in out.stdout and "not linked" in out.stdout
    runs = json.loads(runner.invoke(app, ["runs", "--db", db, "--json"]).stdout)
    assert len(runs) == 1 and runs[0]["outcome"] == "ok" and runs[0]["events"] > 0
    assert sum(f["rows_set_aside"] for f in runs[0]["files"]) == 3
    table = runner.invoke(app, ["runs", "--db", db])
    assert table.exit_code == 0 and "extract" in table.stdout and "ok" in table.stdout
    rejected = json.loads(runner.invoke(app, ["rejected", "--db", db, "--json"]).stdout)
    assert rejected["total"] == 3 and len(rejected["rows"]) == 3
    assert {r["file"] for r in rejected["by_reason"]} == {
        "salesforce/Contract.csv", "salesforce/Order.csv", "salesforce/QuoteHistory.csv"}
    listing = runner.invoke(app, ["rejected", "--db", db, "--limit", "1"])
    assert listing.exit_code == 0 and "(1 of 3)" in listing.stdout
    missing = runner.invoke(app, ["runs", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code != 0 and "no workspace here yet" in str(missing.exception)
