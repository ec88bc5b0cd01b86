"""Source columns named like the store's own columns are user data, never claimed by name.

SAP's public order-to-cash log numbers its events in an `Event_ID` column (text such as
`EV-0000001`); other tools write `event_type` or `source_record` attributes of their own.
Such columns are kept as extra attributes; DuckDB names ignore letter case, so they are
stored as `<name>_source`. Only a file carrying all three store columns spelt exactly (a
lead2cash export) or an explicit mapping fills them.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from lead2cash.errors import InputError
from lead2cash.io.export import export_log
from lead2cash.io.importer import ImportOptions, import_log
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data"
SAP = DATA / "sap_o2c_event_id.csv"
SAP_KEYS = ImportOptions(case="Case_ID", activity="Activity", time="Timestamp")


def store(ws: Workspace, cols: str) -> list[tuple]:
    return ws.con.execute(f"SELECT {cols} FROM events ORDER BY event_id").fetchall()


def test_csv_event_id_and_event_type_are_kept_as_attributes(workspace: Workspace) -> None:
    result = import_log(workspace, SAP, SAP_KEYS)
    assert result.events == 8
    assert result.renamed == {"Event_ID": "Event_ID_source", "Event_Type": "Event_Type_source"}
    assert result.extras == ("Event_ID_source", "Event_Type_source", "User", "Document_Number",
                             "Net_Value")
    rows = store(workspace, "event_id, Event_ID_source, Event_Type_source, event_type, "
                            "source_record")
    assert [r[0] for r in rows] == list(range(8))  # numbered in file order
    assert rows[0] == (0, "EV-0000001", "Document", "imported", "sap_o2c_event_id.csv:line 2")
    assert rows[6][1:3] == ("EV-0000007", "Change")
    # The two events at the same second keep the file's order.
    assert store(workspace, "ActivityName")[5:7] == [("Create Sales Order",), ("Change Price",)]
    assert workspace.meta()["renamed"] == '{"Event_ID": "Event_ID_source", "Event_Type": "Event_Type_source"}'


def test_parquet_with_exact_and_other_spellings(tmp_path: Path, workspace: Workspace) -> None:
    table = pacsv.read_csv(SAP)
    n = table.num_rows
    table = (table.rename_columns(["event_id", *table.column_names[1:]])  # exact, but text
             .append_column("Source_Record", pa.array([f"VBAK:{i}" for i in range(n)]))
             .append_column("event_id_source", pa.array(["mine"] * n)))
    pq.write_table(table, tmp_path / "sap.parquet")
    result = import_log(workspace, tmp_path / "sap.parquet", SAP_KEYS)
    assert result.renamed == {"event_id": "event_id_source2", "Event_Type": "Event_Type_source",
                              "Source_Record": "Source_Record_source"}
    first = store(workspace, "event_id, event_id_source2, Source_Record_source, event_id_source, "
                             "source_record")[0]
    assert first == (0, "EV-0000001", "VBAK:0", "mine", "sap.parquet:row 1")


def test_parquet_names_differing_only_in_case_keep_their_values(
    tmp_path: Path, workspace: Workspace
) -> None:
    table = pacsv.read_csv(SAP)
    table = table.append_column("event_id", pa.array(range(100, 100 + table.num_rows)))
    pq.write_table(table, tmp_path / "sap.parquet")
    result = import_log(workspace, tmp_path / "sap.parquet", SAP_KEYS)
    assert "Event_ID_source" in result.extras and "event_id_1" in result.extras  # DuckDB's name
    assert store(workspace, "Event_ID_source, event_id_1")[:2] == [("EV-0000001", 100),
                                                                  ("EV-0000002", 101)]


def test_xes_event_attributes_named_like_store_columns(workspace: Workspace) -> None:
    result = import_log(workspace, DATA / "event_id_attribute.xes")
    assert result.renamed == {"Event_ID": "Event_ID_source",
                              "SOURCE_RECORD": "SOURCE_RECORD_source"}
    assert store(workspace, "event_id, Event_ID_source, SOURCE_RECORD_source, source_record") == [
        (0, "EV-0000001", "VBAK:4500017",
         "event_id_attribute.xes:trace 1 (case SO-0004500017), event 1"),
        (1, "EV-0000002", "LIKP:80001234",
         "event_id_attribute.xes:trace 1 (case SO-0004500017), event 2"),
        (2, "EV-0000006", "VBAK:4500018",
         "event_id_attribute.xes:trace 2 (case SO-0004500018), event 1"),
    ]


@pytest.mark.parametrize("name", ["log.csv", "log.parquet", "log.xes"])
def test_our_own_export_keeps_its_store_columns(tmp_path: Path, name: str) -> None:
    with Workspace(tmp_path / "a.duckdb") as a, Workspace(tmp_path / "b.duckdb") as b:
        import_log(a, SAP, SAP_KEYS)
        with a.transaction() as con:
            con.execute("UPDATE events SET event_id = 100 - event_id, event_type = 'explicit'")
        export_log(a, tmp_path / name)
        result = import_log(b, tmp_path / name)
        assert not result.renamed and {"event_id", "event_type", "source_record"} <= set(
            result.mapping)
        cols = "event_id, event_type, source_record, Event_ID_source"
        assert store(b, cols) == store(a, cols)


def test_explicit_mapping_still_claims_a_column(tmp_path: Path, workspace: Workspace) -> None:
    mapped = ImportOptions(case="Case_ID", activity="Activity", time="Timestamp",
                           mapping={"event_id": "Event_ID"})
    with pytest.raises(InputError) as err:  # SAP's ids are text, not the numbers event_id needs
        import_log(workspace, SAP, mapped)
    assert "column 'Event_ID'" in str(err.value) and "unique whole number" in str(err.value)
    numbered = tmp_path / "numbered.csv"
    numbered.write_text("Event_ID,case,act,ts\n20,A,x,2024-01-01\n10,A,y,2024-01-01\n")
    import_log(workspace, numbered, ImportOptions(case="case", activity="act", time="ts",
                                                  mapping={"event_id": "Event_ID"}))
    assert store(workspace, "event_id, ActivityName") == [(10, "y"), (20, "x")]
