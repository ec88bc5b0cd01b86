"""OCEL 2.0: our three formats read by pm4py with our counts, pm4py's read by us with its counts,
the published schemas, round trips, bad input, and the published example logs when present."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from ocel_support import OCEL_DATA, SMALL, SMALL_COUNTS, our_counts, pm4py_counts, third_party

from lead2cash.errors import InputError, Lead2CashError
from lead2cash.io.export import export_log
from lead2cash.io.importer import ImportOptions, import_log
from lead2cash.io.object_import import ObjectImportResult
from lead2cash.io.ocel_write import write_ocel
from lead2cash.store import Workspace

FORMATS = ("out.json", "out.xml", "out.sqlite")
FLAT = (
    "SalesOpportunityId,ActivityName,EventTime,OpportunityAmount,SalesStage,CustomerName,Priority\n"
    "OPP-1,Opportunity Created,2024-01-01T09:00:00Z,100,Qualification,\"Müller & <Söhne>\",2\n"
    "OPP-1,Quote Issued,2024-01-03T09:00:00.250000Z,120,Proposal,\"Müller & <Söhne>\",2\n"
    "OPP-1,Opportunity Won,2024-01-05T09:00:00Z,120,Closed Won,\"Müller & <Söhne>\",1\n"
    "OPP-2,Opportunity Created,2024-01-02T09:00:00Z,50,Qualification,Foo,3\n"
)


def test_small_log_imports_with_its_counts(workspace: Workspace) -> None:
    result = import_log(workspace, SMALL)
    assert isinstance(result, ObjectImportResult)
    assert our_counts(workspace) == SMALL_COUNTS == pm4py_counts(SMALL)
    assert (result.case_type, result.events, result.cases) == ("Opportunity", 10, 2)
    assert "the type most events touch (10 of 17)" in result.case_type_reason
    assert result.object_types == {"Opportunity": 2, "Invoice": 3, "Quote": 3, "Delivery": 2,
                                   "Payment": 2, "SalesOrder": 2, "Customer": 1}
    # the case object's attributes fill the case attributes as they stood at each event
    amounts = workspace.con.execute(
        "SELECT ActivityName, OpportunityAmount, CustomerName FROM events "
        "WHERE SalesOpportunityId = 'O1' ORDER BY EventTime").fetchall()
    assert amounts[0] == ("Opportunity Created", 100.0, "Acme GmbH")
    assert amounts[-2:] == [("Opportunity Won", 120.0, "Acme GmbH"),
                            ("Sales Order Created", 120.0, "Acme GmbH")]
    owner = workspace.con.execute("SELECT OpportunityOwner FROM events WHERE "
                                  "ActivityName = 'Opportunity Created' ORDER BY 1").fetchall()
    assert owner == [("Jane Doe",), ("Jim Roe",)]


def test_case_type_flattens_and_repeats_shared_events(workspace: Workspace) -> None:
    result = import_log(workspace, SMALL, ImportOptions(case_type="SalesOrder"))
    assert (result.events, result.cases, result.unique_events) == (8, 2, 17)
    assert workspace.con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall() \
        == [(8, 8)]  # the shared delivery's event is in both orders, each copy its own id
    assert "--case-type: 7 of 17 events touch a SalesOrder" in result.case_type_reason


@pytest.mark.parametrize("name", FORMATS)
def test_pm4py_reads_our_files_with_our_counts(workspace: Workspace, tmp_path: Path,
                                               name: str) -> None:
    import_log(workspace, SMALL)
    counts = write_ocel(workspace, tmp_path / name)
    assert (counts.events, counts.objects, counts.object_types, counts.e2o, counts.o2o) == \
        SMALL_COUNTS == pm4py_counts(tmp_path / name)


@pytest.mark.parametrize("name", FORMATS)
def test_a_flat_log_exports_with_its_case_objects(workspace: Workspace, tmp_path: Path,
                                                  name: str) -> None:
    (tmp_path / "flat.csv").write_text(FLAT, encoding="utf-8")
    import_log(workspace, tmp_path / "flat.csv")
    assert export_log(workspace, tmp_path / name, "ocel2") == 4
    assert pm4py_counts(tmp_path / name) == (4, 2, 1, 4, 0) == our_counts(workspace)


@pytest.mark.parametrize("fmt", ["json", "xml", "sqlite"])
def test_we_read_pm4py_files_with_its_counts(workspace: Workspace, tmp_path: Path, fmt: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py

        ocel = pm4py.read_ocel2(str(SMALL))
        target = tmp_path / f"pm4py.{fmt}"
        {"json": pm4py.write_ocel2_json, "xml": pm4py.write_ocel2_xml,
         "sqlite": pm4py.write_ocel2_sqlite}[fmt](ocel, str(target))
    import_log(workspace, target)
    assert our_counts(workspace) == SMALL_COUNTS == pm4py_counts(target)


def test_object_attribute_changes_survive_our_export(workspace: Workspace, tmp_path: Path) -> None:
    import_log(workspace, SMALL)
    write_ocel(workspace, tmp_path / "out.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py

        original, ours = pm4py.read_ocel2(str(SMALL)), pm4py.read_ocel2(str(tmp_path / "out.json"))
    assert len(ours.object_changes) == len(original.object_changes) == 4
    assert sorted(ours.object_changes["ocel:field"]) == sorted(original.object_changes["ocel:field"])


def test_flat_log_round_trip_through_ocel(tmp_path: Path) -> None:
    (tmp_path / "flat.csv").write_text(FLAT, encoding="utf-8")
    with Workspace(tmp_path / "a.duckdb") as a, Workspace(tmp_path / "b.duckdb") as b:
        import_log(a, tmp_path / "flat.csv")
        write_ocel(a, tmp_path / "log.xml")
        import_log(b, tmp_path / "log.xml")
        sql = ("SELECT * EXCLUDE (event_id, source_record) FROM events "
               "ORDER BY SalesOpportunityId, EventTime")
        assert b.con.execute(sql).fetchall() == a.con.execute(sql).fetchall()
        assert b.columns() == a.columns()


def _schema_errors(doc: object) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(third_party("ocel20-schema-json.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [e.message for e in validator.iter_errors(doc)]


def test_json_validates_against_the_published_schema(workspace: Workspace, tmp_path: Path) -> None:
    import_log(workspace, SMALL)
    write_ocel(workspace, tmp_path / "out.json")
    doc = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert _schema_errors(doc) == []
    # the check can fail: a number where the schema wants text
    doc["events"][0]["attributes"] = [{"name": "amount", "value": 1.5}]
    assert _schema_errors(doc) == ["1.5 is not of type 'string'"]


def test_xml_validates_against_the_published_xsd(workspace: Workspace, tmp_path: Path) -> None:
    """Two known disagreements between the XSD published with the specification and OCEL 2.0
    itself: the XSD lists relationships as <object> elements (with a type), while the
    specification's own example, the published logs, pm4py and rust4pm write (and read)
    <relationship>, as we do; and it keys attribute names per type but checks them log-wide,
    so two types sharing an attribute name (Quote and SalesOrder both have `net`) fail its
    keyref. Nothing else may fail, and a log with one type of each validates whole once its
    relationships are spelt the XSD's way."""
    etree = pytest.importorskip("lxml.etree")
    xsd = etree.XMLSchema(etree.parse(str(third_party("ocel20-schema-xml.xsd"))))
    known = ("Element 'relationship': This element is not expected",
             "More than one match found for key-sequence")

    def errors(doc: object) -> list[str]:
        xsd.validate(doc)
        return [e.message for e in xsd.error_log if not any(k in e.message for k in known)]

    import_log(workspace, SMALL)
    write_ocel(workspace, tmp_path / "small.xml")
    doc = etree.parse(str(tmp_path / "small.xml"))
    assert errors(doc) == []
    next(doc.iter("event")).attrib.pop("time")  # the check can fail
    assert errors(doc) == ["Element 'event': The attribute 'time' is required but missing."]

    (tmp_path / "one.csv").write_text(
        "SalesOpportunityId,ActivityName,EventTime,OpportunityAmount\n"
        "OPP-1,Opportunity Created,2024-01-01T09:00:00Z,100\n"
        "OPP-2,Opportunity Created,2024-01-02T09:00:00Z,50\n", encoding="utf-8")
    import_log(workspace, tmp_path / "one.csv")
    write_ocel(workspace, tmp_path / "one.xml")
    doc = etree.parse(str(tmp_path / "one.xml"))
    for rel in doc.iter("relationship"):
        rel.tag = "object"
        rel.set("type", "Opportunity")
    assert xsd.validate(doc), [e.message for e in xsd.error_log]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _small(mutate) -> str:
    doc = json.loads(SMALL.read_text(encoding="utf-8"))
    mutate(doc)
    return json.dumps(doc, indent=1)


def _set(path: list, value: object):
    def mutate(doc: dict) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return mutate


_DELETE = object()
BAD = [
    ("bad.json", '{"events": [\n  {"id": "e1",\n  "type": }\n', ("bad.json, line 3, column 11: "
     "not valid JSON")),
    ("old.json", '{"ocel:events": {}, "ocel:objects": {}}', "an OCEL 1.0 JSON log, not OCEL 2.0"),
    ("small.json", _small(_set(["events", 2, "time"], _DELETE)),
     "small.json, event 'e3', column 'time': 'time' is missing"),
    ("small.json", _small(_set(["events", 2, "time"], "yesterday")),
     "small.json, event 'e3', column 'time': cannot read this event time (value 'yesterday')"),
    ("small.json", _small(_set(["events", 3, "id"], "e3")),
     "small.json, event 'e3', column 'id': this event id appears more than once"),
    ("small.json", _small(_set(["events", 0, "relationships", 0, "objectId"], "O9")),
     ("small.json, event 'e1', column 'objectId': refers to an object that is not in the log "
     "(value 'O9')")),
    ("small.json", _small(_set(["objects", 2, "relationships", 0, "objectId"], "O9")),
     "small.json, object 'Q1', column 'objectId': refers to an object that is not in the log"),
    ("small.json", _small(_set(["events", 12, "attributes", 0, "value"], "sixty")),
     ("small.json, event 'e13', column 'amount': cannot read this value as float for amount "
     "(value 'sixty')")),
    ("small.json", _small(_set(["objects", 0, "attributes", 0, "value"], "lots")),
     ("small.json, object 'O1', column 'value': this object attribute value does not fit its "
     "declared type (value 'lots')")),
    ("small.json", _small(_set(["events", 0, "attributes", 0, "name"], "EventTime")),
     "small.json, event 'e1', column 'EventTime': this event attribute's name is reserved"),
    ("bad.xml", "<log>\n<events>\n<event id='e1' type='A' time='2024-01-01T00:00:00Z'>\n</log>",
     ("bad.xml, line 4, column 2: not "
     "well-formed XML")),
    ("bad.xml", "<log><events><event type='A' time='2024-01-01T00:00:00Z'/></events></log>",
     "bad.xml, line 1, column 'id': <event> has no 'id'"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD)
def test_bad_input_names_the_place_and_changes_nothing(
        workspace: Workspace, tmp_path: Path, name: str, text: str, message: str) -> None:
    import_log(workspace, SMALL)
    before = our_counts(workspace)
    with pytest.raises(InputError) as err:
        import_log(workspace, _write(tmp_path, name, text))
    assert message in str(err.value)
    assert err.value.hint
    assert our_counts(workspace) == before


def test_bad_sqlite_and_unknown_case_type(workspace: Workspace, tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE event (ocel_id TEXT, ocel_type TEXT)")
    with pytest.raises(InputError, match="not an OCEL 2.0 SQLite log \\(no table object, "):
        import_log(workspace, db)
    with pytest.raises(InputError, match="no objects of type 'Order'") as err:
        import_log(workspace, SMALL, ImportOptions(case_type="Order"))
    assert "Opportunity (10 events)" in str(err.value.hint)


def test_skip_bad_rows_sets_dangling_relations_aside(workspace: Workspace, tmp_path: Path) -> None:
    text = _small(_set(["events", 0, "relationships", 1, "objectId"], "C9"))
    result = import_log(workspace, _write(tmp_path, "small.json", text),
                        ImportOptions(skip_bad_rows=True))
    assert result.rejected == 1
    assert our_counts(workspace) == (17, 15, 7, 36, 16)
    assert workspace.con.execute("SELECT \"row\", \"column\", value FROM rejected_rows").fetchall() \
        == [("event 'e1'", "objectId", "C9")]


def test_cli_import_and_export(tmp_path: Path) -> None:
    env = {**os.environ, "LEAD2CASH_DB": str(tmp_path / "w.duckdb"), "COLUMNS": "200"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "lead2cash", *a], env=env, check=False,
                                    capture_output=True, text=True, timeout=300)
    out = run("import", str(SMALL), "--case-type", "Invoice")
    assert out.returncode == 0, out.stderr
    assert "case type: Invoice, --case-type: 5 of 17 events touch a Invoice" in out.stdout
    assert "17 events, 15 objects" in out.stdout
    out = run("export", str(tmp_path / "x.json"), "--format", "ocel2")
    assert out.returncode == 0, out.stderr
    assert "17 events, 15 objects of 7 types, 37 event-object and 16 object-object" in out.stdout
    out = run("export", str(tmp_path / "x.json"))
    assert out.returncode == 2 and "--format ocel2" in out.stdout + out.stderr


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "xml", "sqlite"])
def test_order_management_log_has_the_published_counts(workspace: Workspace, fmt: str) -> None:
    """The OCEL 2.0 order-management example (Knopp, van der Aalst; doi:10.5281/zenodo.8337463):
    21,008 events of 11 types, 10,840 objects of 6 types, as its publisher states."""
    path = third_party(*(f"order-management.{e}" for e in {"json": ("json", "jsonocel"),
                       "xml": ("xml", "xmlocel"), "sqlite": ("sqlite",)}[fmt]))
    result = import_log(workspace, path)
    events, objects, types, e2o, o2o = our_counts(workspace)
    assert (events, objects, types) == (21_008, 10_840, 6)
    assert workspace.con.execute("SELECT count(DISTINCT ActivityName) FROM unique_events"
                                 if result.unique_events != result.events else
                                 "SELECT count(DISTINCT ActivityName) FROM events").fetchall() == [(11,)]
    assert (events, objects, types, e2o, o2o) == pm4py_counts(path)


@pytest.mark.parametrize("name", ["ocel20_example.jsonocel", "ocel20_example.xmlocel",
                                  "ocel20_example.sqlite"])
def test_pm4py_example_logs_read_with_its_counts(workspace: Workspace, name: str) -> None:
    path = third_party(name)
    import_log(workspace, path)
    assert our_counts(workspace) == pm4py_counts(path)


def test_no_objects_no_export(tmp_path: Path) -> None:
    with Workspace(tmp_path / "w.duckdb") as ws:
        (tmp_path / "flat.csv").write_text(FLAT, encoding="utf-8")
        import_log(ws, tmp_path / "flat.csv")
        with ws.transaction() as con:
            con.execute("DROP TABLE objects")
        with pytest.raises(Lead2CashError, match="holds no objects"):
            write_ocel(ws, tmp_path / "x.json")


assert OCEL_DATA  # the folder third-party files are looked up in (see ocel_support)
