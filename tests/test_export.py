"""Export to CSV and Parquet, then re-import, gives the same log, column for column."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lead2cash.errors import Lead2CashError
from lead2cash.io.export import export_log
from lead2cash.io.importer import import_log
from lead2cash.store import Workspace

SOURCE = (
    "SalesOpportunityId,ActivityName,EventTime,SourceSystem,LastDataUpdate,OpportunityAmount,"
    "CustomerName,DiscountPercentage,SalesCycleDuration,Region Code\n"
    'OPP-1,Opportunity Created,2024-01-01T09:00:00.123456+01:00,SAP S/4HANA,2024-07-27T02:00:00Z,'
    '125000.5,"Müller, ""Söhne"" & Co",0.05,35 days 04:00:00,EMEA-1\n'
    "OPP-1,Opportunity Won,2024-02-05T12:00:00Z,SAP S/4HANA,2024-07-27T02:00:00Z,125000.5,"
    '"Müller, ""Söhne"" & Co",0.05,35 days 04:00:00,EMEA-1\n'
    "OPP-2,Opportunity Created,2024-01-01T08:00:00.123456Z,SAP S/4HANA,2024-07-27T02:00:00Z,,,,,\n"
)


def table(ws: Workspace) -> list[tuple]:
    return ws.con.execute("SELECT * EXCLUDE (source_record) FROM events ORDER BY event_id").fetchall()


@pytest.mark.parametrize("name", ["out.csv", "out.parquet", "out.csv.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    src = tmp_path / "src.csv"
    src.write_text(SOURCE, encoding="utf-8")
    with Workspace(tmp_path / "a.duckdb") as a, Workspace(tmp_path / "b.duckdb") as b:
        import_log(a, src)
        assert export_log(a, tmp_path / name) == 3
        import_log(b, tmp_path / name)
        assert table(b) == table(a)
        assert b.con.execute("SELECT source_record FROM events ORDER BY event_id").fetchall() == \
            a.con.execute("SELECT source_record FROM events ORDER BY event_id").fetchall()
        assert [c for c in b.columns()] == [c for c in a.columns()]


def test_parquet_has_model_names_and_utc_times(tmp_path: Path, workspace: Workspace) -> None:
    src = tmp_path / "src.csv"
    src.write_text(SOURCE, encoding="utf-8")
    import_log(workspace, src)
    export_log(workspace, tmp_path / "out.parquet")
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert schema.names[:4] == ["event_id", "SalesOpportunityId", "ActivityName", "EventTime"]
    assert str(schema.field("EventTime").type) == "timestamp[us, tz=UTC]"
    assert str(schema.field("SalesCycleDuration").type) == "duration[us]"
    frame = pq.read_table(tmp_path / "out.parquet").to_pandas()
    assert str(frame["SalesCycleDuration"][0]) == "35 days 04:00:00"


def test_unknown_extension(tmp_path: Path, workspace: Workspace) -> None:
    src = tmp_path / "src.csv"
    src.write_text(SOURCE, encoding="utf-8")
    import_log(workspace, src)
    with pytest.raises(Lead2CashError, match="cannot tell the export format"):
        export_log(workspace, tmp_path / "out.xlsx")
