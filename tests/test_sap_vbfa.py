"""SAP's document flow as objects: documents, their events and relations, any document as the case."""

from __future__ import annotations

from pathlib import Path

import pytest

from lead2cash.errors import InputError
from lead2cash.io.importer import ImportOptions, import_log
from lead2cash.mining import DuckDBEngine, variants
from lead2cash.mining.object_centric import report
from lead2cash.store import Workspace

SMALL = Path(__file__).parent / "data" / "sap-vbfa-small.csv"
BERLIN = "Europe/Berlin"


def _import(ws: Workspace, path: Path, case_type: str | None = None, **kw):
    return import_log(ws, path, ImportOptions(format="sap-vbfa", timezone=BERLIN,
                                              case_type=case_type, **kw))


def q(ws: Workspace, sql: str) -> list[tuple]:
    return ws.con.execute(sql).fetchall()


def test_small_document_flow(workspace: Workspace) -> None:
    """Quote 0020000001 → order 101; contract → order 102; one delivery for both orders, one goods
    movement for it; invoice 1 bills order 101 and the delivery; invoice 2 (order 102) is
    cancelled; invoice 4 bills order 102. The inquiry (A), goods movement (R), cancellation (N)
    and the transfer order row (Q, a date in VBELN) are no objects."""
    r = _import(workspace, SMALL)
    assert r.case_type == "SalesOrder" and "(6 of 7)" in r.case_type_reason
    assert r.object_types == {"Invoice": 3, "SalesOrder": 2, "Contract": 1, "Delivery": 1, "Quote": 1}
    assert (r.unique_events, r.e2o, r.o2o, r.events, r.cases) == (7, 15, 8, 7, 2)
    assert q(workspace, "SELECT SalesOpportunityId, ActivityName, strftime(EventTime, '%d %H:%M') "
             "FROM events ORDER BY event_id") == [
        ("0000000101", "Quote Accepted", "05 07:30"), ("0000000101", "Sales Order Created", "05 07:30"),
        ("0000000102", "Sales Order Created", "06 09:15"), ("0000000101", "Order Fulfilled", "11 06:00"),
        ("0000000102", "Order Fulfilled", "11 06:00"), ("0000000101", "Invoice Generated", "15 11:00"),
        ("0000000102", "Invoice Generated", "18 08:30")]
    assert q(workspace, "SELECT object_id, value FROM object_attributes WHERE attribute = 'cancelled' "
             "ORDER BY 1") == [("0090000001", "false"), ("0090000002", "true"), ("0090000004", "false")]
    assert q(workspace, "SELECT qualifier, count(*) FROM object_objects GROUP BY 1 ORDER BY 1") == [
        ("delivery of", 2), ("invoice of", 4), ("order of", 2)]
    assert q(workspace, "SELECT DISTINCT SourceSystem FROM events") == [("SAP S/4HANA",)]
    flat = report(workspace).flattening
    assert (flat.convergent_events, flat.duplicated_rows, flat.events_left_out) == (1, 1, 1)


def test_small_flow_on_invoices_and_deliveries(workspace: Workspace) -> None:
    r = _import(workspace, SMALL, "Invoice")
    assert (r.events, r.cases) == (2, 2)  # the cancelled invoice has no Invoice Generated
    with DuckDBEngine(workspace, case_type="Delivery") as engine:
        v = variants.discover(engine)
        assert [(x.activities, x.cases) for x in v.variants] == [
            (("Order Fulfilled", "Invoice Generated"), 1)]


def test_unreadable_creation_time_names_row_and_column(workspace: Workspace, tmp_path: Path) -> None:
    lines = SMALL.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("20240106", "2024010X")  # the contract → order 102 flow
    bad = tmp_path / "VBFA.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        _import(workspace, bad)
    assert "VBFA.csv, line 4, column 'ERDAT': cannot read the document's creation date" in str(err.value)
    assert "'2024010X'" in str(err.value)
    r = _import(workspace, bad, skip_bad_rows=True)
    assert r.rejected == 1 and r.object_types["SalesOrder"] == 2
    assert q(workspace, "SELECT count(*) FROM unique_events WHERE ActivityName = "
             "'Sales Order Created'") == [(1,)]


def test_not_a_vbfa_table(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("VBELN,ERDAT\n1,20240101\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a VBFA table: no column VBELV, VBTYP_V, VBTYP_N, ERZET"):
        _import(workspace, path)


@pytest.mark.slow
def test_real_document_flow_on_orders_and_invoices(workspace: Workspace, shared_data: Path) -> None:
    """The real VBFA extract: every document keeps its identity, so a delivery shared by up to 22
    orders gives its goods issue and invoice to each of them (the connector, flattening on one
    chain root, gives them to one order only)."""
    path = shared_data / "sap-vbfa.csv.gz"
    r = _import(workspace, path, "SalesOrder")
    assert r.object_types == {"Invoice": 34_084, "Delivery": 16_119, "SalesOrder": 11_457,
                              "Quote": 534, "Contract": 47}
    assert (r.unique_events, r.e2o, r.o2o, r.rejected) == (51_310, 81_314, 29_880, 0)
    assert q(workspace, "SELECT ActivityName, count(*) FROM unique_events GROUP BY 1 ORDER BY 1") == [
        ("Invoice Generated", 34_071), ("Order Fulfilled", 15_467), ("Quote Accepted", 328),
        ("Quote Issued", 454), ("Sales Order Created", 990)]
    assert (r.events, r.cases) == (20_579, 10_180)
    assert q(workspace, "SELECT ActivityName, count(*), count(DISTINCT SalesOpportunityId) FROM events "
             "GROUP BY 1 ORDER BY 1") == [
        ("Invoice Generated", 9_082, 8_973), ("Order Fulfilled", 10_179, 9_428),
        ("Quote Accepted", 328, 328), ("Sales Order Created", 990, 990)]
    flat = report(workspace).flattening
    assert (flat.convergent_events, flat.duplicated_rows, flat.max_case_objects_per_event) == (299, 458, 22)
    r = _import(workspace, path, "Invoice")
    assert (r.events, r.cases) == (34_071, 34_071)
