"""Import of real files with the quirks exports have, and every bad-input case with a real file."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from lead2cash.errors import InputError, Lead2CashError
from lead2cash.io.importer import ImportOptions, import_log
from lead2cash.store import Workspace

KEYS = ImportOptions(case="case", activity="act", time="ts")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def rows(ws: Workspace, cols: str = "SalesOpportunityId, ActivityName, EventTime") -> list[tuple]:
    return ws.con.execute(f"SELECT {cols} FROM events ORDER BY event_id").fetchall()


def test_semicolons_bom_quotes_decimal_commas_and_offsets(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "crm.csv",
              "\ufeffcase;act;ts;OpportunityAmount;DiscountPercentage\n"
              'OPP-1;"Quote; Issued";15.04.2023 10:30;1.234,56;15%\n'
              "OPP-1;Opportunity Won;2023-04-16T10:00:00+02:00;12,5;0,1\n")
    result = import_log(workspace, f, ImportOptions(case="case", activity="act", time="ts",
                                                    timezone="Europe/Paris"))
    assert (result.events, result.cases, result.rejected) == (2, 1, 0)
    assert rows(workspace, "ActivityName, EventTime, OpportunityAmount, DiscountPercentage") == [
        ("Quote; Issued", datetime(2023, 4, 15, 8, 30), 1234.56, 0.15),  # CEST = UTC+2
        ("Opportunity Won", datetime(2023, 4, 16, 8, 0), 12.5, 0.1),
    ]


def test_naive_times_and_bare_dates_use_the_timezone(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "d.csv", "case,act,ts\nA,x,2024-01-05\nA,y,2024-07-01 12:00\nA,z,2024-07-01T12:00-05\n")
    import_log(workspace, f, ImportOptions(case="case", activity="act", time="ts",
                                           timezone="Europe/Paris"))
    assert rows(workspace, "EventTime") == [(datetime(2024, 1, 4, 23, 0),), (datetime(2024, 7, 1, 10, 0),),
                                            (datetime(2024, 7, 1, 17, 0),)]


def test_cp1252_file_keeps_its_characters(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "latin.csv", "case,act,ts,CustomerName\nK1,Opportunity Created,"
              "2024-01-02 03:04:05,Société Générale – €\n", encoding="cp1252")
    import_log(workspace, f, KEYS)
    assert rows(workspace, "CustomerName") == [("Société Générale – €",)]


def test_utf16_file_with_byte_order_mark_is_detected(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "u16.txt", "case\tact\tts\tCustomerName\r\nK1\tOpportunity Created\t"
              "2024-01-02 03:04:05\tBäckerei Groß – €\r\n", encoding="utf-16")  # Excel "Unicode text"
    import_log(workspace, f, KEYS)
    assert rows(workspace, "CustomerName") == [("Bäckerei Groß – €",)]


def test_unknown_encoding_is_a_clear_error(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "x.csv", "case,act,ts\nK1,x,2024-01-02\n")
    with pytest.raises(Lead2CashError, match="unknown encoding 'klingon'"):
        import_log(workspace, f, ImportOptions(case="case", activity="act", time="ts",
                                               encoding="klingon"))


def test_tab_delimited_with_microseconds_and_ties(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "t.tsv", "case\tact\tts\nA\tx\t2024-01-01 00:00:00.000001\n"
              "A\ty\t2024-01-01 00:00:00.000001\nA\tz\t2024-01-01 00:00:00\n")
    import_log(workspace, f, KEYS)
    ordered = workspace.con.execute(
        "SELECT ActivityName FROM events ORDER BY EventTime, event_id").fetchall()
    assert ordered == [("z",), ("x",), ("y",)]  # ties keep file order
    assert rows(workspace, "EventTime")[0][0] == datetime(2024, 1, 1, 0, 0, 0, 1)


def test_extra_columns_and_lineage_are_kept(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "x.csv", "case,act,ts,Channel\nA,x,2024-01-01,Web\n")
    result = import_log(workspace, f, KEYS)
    assert result.extras == ("Channel",)
    assert rows(workspace, '"Channel", source_record, event_type') == [("Web", "x.csv:line 2", "imported")]


def test_source_system_and_extraction_time_stamps(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "x.csv", "case,act,ts\nA,x,2024-01-01\n")
    import_log(workspace, f, ImportOptions(case="case", activity="act", time="ts",
                                           source_system="Salesforce CRM",
                                           extracted_at=datetime.fromisoformat("2024-07-27T04:00:00+02:00")))
    assert rows(workspace, "SourceSystem, LastDataUpdate") == [
        ("Salesforce CRM", datetime(2024, 7, 27, 2, 0))]


def test_mapping_file(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "x.csv", "Deal,Step,When,Value\nD1,Quote Issued,2024-01-01,10\n")
    m = write(tmp_path / "map.toml", '[mapping]\nSalesOpportunityId = "Deal"\nActivityName = "Step"\n'
              'EventTime = "When"\nOpportunityAmount = "Value"\n')
    from lead2cash.cli.log_commands import _read_map

    import_log(workspace, f, ImportOptions(mapping=_read_map(m)))
    assert rows(workspace, "SalesOpportunityId, OpportunityAmount") == [("D1", 10.0)]


# ---- bad input: each fails with file, row, column, value and a fix; the workspace is unchanged


@pytest.fixture
def loaded(tmp_path: Path, workspace: Workspace) -> Workspace:
    """A workspace already holding a one-event log, to prove failures leave it as it was."""
    import_log(workspace, write(tmp_path / "good.csv", "case,act,ts\nGOOD,x,2024-01-01\n"), KEYS)
    return workspace


def assert_unchanged(ws: Workspace) -> None:
    assert rows(ws, "SalesOpportunityId") == [("GOOD",)]


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("case,act,ts\nA,x,2024-01-01\nB,y\n", KEYS, ["bad.csv", "line 3", "Expected Number of Columns", "--skip-bad-rows"]),
        ("case,act,ts\nA,x,2024-01-01\nB,y,yesterday\n", KEYS, ["bad.csv", "line 3", "column 'ts'", "'yesterday'", "ISO 8601"]),
        ("case,act,ts\nA,x,2024-01-01\nB,,2024-01-02\n", KEYS, ["bad.csv", "line 3", "column 'act'", "ActivityName is missing"]),
        ("case,act,ts,OpportunityAmount\nA,x,2024-01-01,12abc\n", KEYS, ["line 2", "column 'OpportunityAmount'", "'12abc'", "number"]),
        ("case,act,ts\nA,x,04/05/2024\n", KEYS, ["line 2", "'04/05/2024'", "--time-format"]),
        ("id,what,when\nA,x,2024-01-01\n", ImportOptions(), ["bad.csv", "no column for SalesOpportunityId, ActivityName, EventTime", "--case COLUMN", "id, what, when"]),
        ("case,act,ts\nA,x,2024-01-01\n", ImportOptions(case="nope", activity="act", time="ts"), ["column 'nope'", "no such column"]),
        ("case,act,ts\nA,x,2024-01-01\n", ImportOptions(case="case", activity="act", time="ts", timezone="Mars/Base"), ["unknown time zone 'Mars/Base'"]),
        ("case,act,ts,act\nA,x,2024-01-01,y\n", KEYS, ["bad.csv", "column 'act'", "twice"]),
        ("", KEYS, ["bad.csv", "empty"]),
        ("event_id,event_type,source_record,case,act,ts\n1,,,A,x,2024-01-01\n1,,,B,y,2024-01-02\n", KEYS, ["line 2", "column 'event_id'", "unique"]),
    ],
)
def test_bad_input_fails_clearly_and_changes_nothing(
    tmp_path: Path, loaded: Workspace, text: str, options: ImportOptions, expected: list[str]
) -> None:
    bad = write(tmp_path / "bad.csv", text)
    with pytest.raises(InputError) as err:
        import_log(loaded, bad, options)
    message = str(err.value)
    for part in expected:
        assert part in message, (part, message)
    assert "fix:" in message
    assert_unchanged(loaded)


def test_missing_file(tmp_path: Path, loaded: Workspace) -> None:
    with pytest.raises(InputError, match="nowhere.csv: no such file"):
        import_log(loaded, tmp_path / "nowhere.csv", KEYS)
    assert_unchanged(loaded)


def test_broken_parquet(tmp_path: Path, loaded: Workspace) -> None:
    bad = write(tmp_path / "bad.parquet", "not parquet at all")
    with pytest.raises(InputError, match="bad.parquet: cannot read as Parquet"):
        import_log(loaded, bad)
    assert_unchanged(loaded)


def test_skip_bad_rows_sets_them_aside_with_reasons(tmp_path: Path, workspace: Workspace) -> None:
    bad = write(tmp_path / "bad.csv", "case,act,ts\nA,x,2024-01-01\nB,y\nC,z,never\nD,,2024-01-03\n"
                "E,w,2024-01-04\n")
    result = import_log(workspace, bad, ImportOptions(case="case", activity="act", time="ts",
                                                      skip_bad_rows=True))
    assert (result.events, result.rejected) == (2, 3)
    assert rows(workspace, "SalesOpportunityId, source_record") == [("A", "bad.csv:line 2"),
                                                                    ("E", "bad.csv:line 6")]
    rejected = workspace.con.execute(
        'SELECT row, "column", value, reason FROM rejected_rows ORDER BY row').fetchall()
    assert [r[0] for r in rejected] == ["line 3", "line 4", "line 5"]
    assert rejected[1][1:3] == ("ts", "never")
    assert "timestamp" in rejected[1][3] and "ActivityName is missing" in rejected[2][3]


def test_cli_prints_no_traceback_and_exits_2(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", "case,act,ts\nA,x,not-a-time\n")
    env = {**os.environ, "LEAD2CASH_DB": str(tmp_path / "ws.duckdb")}
    proc = subprocess.run(
        [sys.executable, "-m", "lead2cash", "import", str(bad), "--case", "case", "--activity", "act",
         "--time", "ts"], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "bad.csv, line 2, column 'ts'" in " ".join(proc.stderr.split())


def test_parquet_durations_and_zoned_times(tmp_path: Path, workspace: Workspace) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datetime import timedelta, timezone

    zone = timezone(timedelta(hours=2))
    table = pa.table({
        "SalesOpportunityId": ["A", "A"],
        "ActivityName": ["Opportunity Created", "Opportunity Won"],
        "EventTime": pa.array([datetime(2024, 1, 1, 12, tzinfo=zone), datetime(2024, 1, 3, 12, tzinfo=zone)],
                              pa.timestamp("us", tz="+02:00")),
        "SalesCycleDuration": pa.array([172_800_000_000, 172_800_000_000], pa.duration("us")),
        "Wait": pa.array([90, None], pa.duration("s")),
    })
    pq.write_table(table, tmp_path / "log.parquet")
    import_log(workspace, tmp_path / "log.parquet")
    assert rows(workspace, 'EventTime, SalesCycleDuration, "Wait"') == [
        (datetime(2024, 1, 1, 10), timedelta(days=2), timedelta(seconds=90)),
        (datetime(2024, 1, 3, 10), timedelta(days=2), None),
    ]


def test_transcoded_copy_is_removed(tmp_path: Path, workspace: Workspace) -> None:
    f = write(tmp_path / "latin.csv", "case,act,ts\nK1,Créé,2024-01-02\n", encoding="cp1252")
    import_log(workspace, f, KEYS)
    assert rows(workspace, "ActivityName") == [("Créé",)]
    assert not any(workspace.temp_directory.glob("*.csv"))
