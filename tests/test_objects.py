"""Objects in the workspace: a flat log's case objects, the connectors' contract, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lead2cash.errors import Lead2CashError
from lead2cash.io.importer import import_log
from lead2cash.model import ACTIVITY_NAMES
from lead2cash.object_model import ACTIVITY_QUALIFIERS, CASE_OBJECT_TYPE, ObjectType
from lead2cash.objects import ObjectLog, case_type, object_type_counts
from lead2cash.store import Workspace

FLAT = (
    "SalesOpportunityId,ActivityName,EventTime,OpportunityAmount,SalesStage,CustomerName\n"
    "OPP-1,Opportunity Created,2024-01-01T09:00:00Z,100,Qualification,Acme\n"
    "OPP-1,Quote Issued,2024-01-03T09:00:00Z,120,Proposal,Acme\n"
    "OPP-1,Opportunity Won,2024-01-05T09:00:00Z,120,Closed Won,Acme\n"
    "OPP-2,Opportunity Created,2024-01-02T09:00:00Z,,Qualification,Foo\n"
    "OPP-2,Site Visit,2024-01-04T09:00:00Z,50,,Foo\n"
)


def rows(ws: Workspace, sql: str) -> list[tuple]:
    return ws.con.execute(sql).fetchall()


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    path = tmp_path / "flat.csv"
    path.write_text(FLAT, encoding="utf-8")
    return path


def test_qualifiers_name_every_model_activity() -> None:
    assert set(ACTIVITY_QUALIFIERS) == set(ACTIVITY_NAMES)
    assert [t.value for t in ObjectType][:8] == [
        "Opportunity", "Quote", "Contract", "SalesOrder", "Delivery", "Invoice", "Payment", "Customer"]


def test_flat_import_gets_one_object_per_case(workspace: Workspace, flat: Path) -> None:
    import_log(workspace, flat)
    assert case_type(workspace.con) == CASE_OBJECT_TYPE
    assert object_type_counts(workspace.con) == {"Opportunity": 2}
    assert rows(workspace, "SELECT e.SalesOpportunityId, r.object_id, r.qualifier FROM events e "
                "JOIN event_objects r USING (event_id) ORDER BY e.event_id") == [
        ("OPP-1", "OPP-1", "creates"), ("OPP-1", "OPP-1", "quotes"), ("OPP-1", "OPP-1", "wins"),
        ("OPP-2", "OPP-2", "creates"), ("OPP-2", "OPP-2", "concerns")]
    # the case attributes and the stage with their changes over time
    assert rows(workspace, "SELECT attribute, value, changed_at IS NULL FROM object_attributes "
                "WHERE object_id = 'OPP-1' ORDER BY attribute, changed_at NULLS FIRST") == [
        ("CustomerName", "Acme", True), ("OpportunityAmount", "100.0", True),
        ("OpportunityAmount", "120.0", False), ("SalesStage", "Qualification", True),
        ("SalesStage", "Proposal", False), ("SalesStage", "Closed Won", False)]
    assert rows(workspace, "SELECT strftime(changed_at, '%d') FROM object_attributes WHERE "
                "object_id = 'OPP-1' AND value = 'Closed Won'") == [("05",)]
    # only attributes that occur are declared, with OCEL 2.0 value types
    assert rows(workspace, "SELECT attribute, value_type FROM object_attribute_types ORDER BY 1") == [
        ("CustomerName", "string"), ("OpportunityAmount", "float"), ("SalesStage", "string")]
    assert rows(workspace, "SELECT count(*) FROM object_objects") == [(0,)]


def test_xes_import_gets_the_case_objects_too(workspace: Workspace, shared_data: Path) -> None:
    import_log(workspace, shared_data / "running-example.xes")
    assert object_type_counts(workspace.con) == {"Opportunity": 6}
    assert rows(workspace, "SELECT count(*), count(DISTINCT event_id) FROM event_objects") == [(42, 42)]


def _load(ws: Workspace, log: ObjectLog) -> None:
    events = ("SELECT * FROM (VALUES (0, 'OPP-1', 'Opportunity Created', TIMESTAMP '2024-01-01', "
              "'x', NULL::TIMESTAMP), (1, 'OPP-1', 'Quote Issued', TIMESTAMP '2024-01-02', 'x', "
              "NULL::TIMESTAMP)) v(event_id, c, a, t, s, u)")
    from lead2cash.model import ATTRIBUTE_NAMES

    cols = ["event_id"] + [{"SalesOpportunityId": "c", "ActivityName": "a", "EventTime": "t",
                            "SourceSystem": "s"}.get(n, "NULL") for n in ATTRIBUTE_NAMES]
    with ws.transaction():
        ws.replace_log(f"SELECT {', '.join(cols)}, 'explicit', NULL FROM ({events})", {}, {}, log)


def test_connector_contract_adds_documents_beside_the_derived_case_objects(
        workspace: Workspace) -> None:
    log = ObjectLog(
        objects="SELECT * FROM (VALUES ('Q-1', 'Quote', 'QUOTE.csv:row 2')) v(a, b, c)",
        e2o="SELECT * FROM (VALUES (1, 'Q-1', 'creates')) v(a, b, c)",
        attributes="SELECT * FROM (VALUES ('Q-1', 'status', 'Sent', NULL::TIMESTAMP), "
                   "('Q-1', 'status', 'Accepted', TIMESTAMP '2024-01-03')) v(a, b, c, d)",
        o2o="SELECT * FROM (VALUES ('Q-1', 'OPP-1', 'quote of')) v(a, b, c)",
    )
    _load(workspace, log)
    assert object_type_counts(workspace.con) == {"Opportunity": 1, "Quote": 1}
    assert rows(workspace, "SELECT event_id, object_id, qualifier FROM event_objects ORDER BY 1, 2") == [
        (0, "OPP-1", "creates"), (1, "OPP-1", "quotes"), (1, "Q-1", "creates")]
    assert rows(workspace, "SELECT object_type, attribute, value_type FROM object_attribute_types "
                "WHERE object_type = 'Quote'") == [("Quote", "status", "string")]


@pytest.mark.parametrize(("log", "message"), [
    (ObjectLog(objects="SELECT 'Q-1', 'Quote', NULL", e2o="SELECT 1, 'Q-9', 'creates'"),
     ("object table event_objects, column object_id: refers to an object that is not in the "
     "objects table (value 'Q-9')")),
    (ObjectLog(objects="SELECT 'Q-1', 'Quote', NULL", e2o="SELECT 7, 'Q-1', 'creates'"),
     "column event_id: refers to an event that was not loaded (value 7)"),
    (ObjectLog(objects="SELECT 'OPP-1', 'Quote', NULL", e2o="SELECT 1, 'OPP-1', 'x'"),
     "an object id appears more than once (value 'OPP-1')"),
    (ObjectLog(objects="SELECT 'Q-1', 'Quote', NULL", e2o="SELECT 1, 'Q-1', 'x'",
               attribute_types="SELECT 'Quote', 'net', 'money'"),
     "column value_type: not an OCEL 2.0 value type (value 'money')"),
    (ObjectLog(objects="SELECT 'Q-1'", e2o="SELECT 1, 'Q-1', 'x'"),
     "object table objects: the SELECT does not give its columns"),
    (ObjectLog(objects="SELECT 'Q-1', NULL, NULL", e2o="SELECT 1, 'Q-1', 'x'"),
     "object table objects: a required value is missing"),
])
def test_contract_violations_name_the_table_and_leave_the_workspace(
        workspace: Workspace, flat: Path, log: ObjectLog, message: str) -> None:
    import_log(workspace, flat)
    before = rows(workspace, "SELECT * FROM objects ORDER BY 1")
    with pytest.raises(Lead2CashError, match=None) as err:
        _load(workspace, log)
    assert message in str(err.value)
    assert rows(workspace, "SELECT * FROM objects ORDER BY 1") == before
    assert rows(workspace, "SELECT count(*) FROM events") == [(5,)]


def test_a_failed_import_keeps_the_objects(workspace: Workspace, flat: Path, tmp_path: Path) -> None:
    import_log(workspace, flat)
    bad = tmp_path / "bad.csv"
    bad.write_text("SalesOpportunityId,ActivityName,EventTime\nX,Opportunity Created,yesterday\n",
                   encoding="utf-8")
    with pytest.raises(Lead2CashError):
        import_log(workspace, bad)
    assert object_type_counts(workspace.con) == {"Opportunity": 2}
    assert rows(workspace, "SELECT count(*) FROM event_objects") == [(5,)]
