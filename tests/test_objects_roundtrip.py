"""Round trip of the objects: simulate a landscape, extract it, get the simulator's documents
(objects), what each event touches (E2O) and how the documents relate (O2O), exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lead2cash.simulate import LANDSCAPES, SimulationParams, simulate
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

from test_extract_roundtrip import REAL_EXPORTS, _differences

# landscapes whose renderers and connectors build documents (the others: docs/objects.md)
WITH_OBJECTS = ("salesforce", "sap-s4hana", "salesforce+sap-s4hana", "dynamics365", "oracle-cx")
# per landscape, O2O relations (qualifier, target type) the simulation makes one-to-many: several
# quotes per opportunity, deliveries and invoices per order, payments per invoice (Salesforce
# Billing keeps each part payment; SAP clears an invoice with one clearing document)
ONE_TO_MANY = {
    "salesforce": ("quote of Opportunity", "invoice of SalesOrder", "clears Invoice"),
    "sap-s4hana": ("quote of Opportunity", "invoice of SalesOrder", "delivery of SalesOrder"),
    "salesforce+sap-s4hana": ("quote of Opportunity", "invoice of SalesOrder",
                              "delivery of SalesOrder"),
    "dynamics365": ("quote of Opportunity", "invoice of SalesOrder"),
    "oracle-cx": ("quote of Opportunity", "invoice of SalesOrder", "clears Invoice"),
}
# the document types each landscape's systems hold
TYPES = {
    "salesforce": ("Quote", "Contract", "SalesOrder", "Invoice", "Payment", "Customer"),
    "sap-s4hana": ("Quote", "Contract", "SalesOrder", "Delivery", "Invoice", "Payment", "Customer"),
    "salesforce+sap-s4hana": ("Quote", "Contract", "SalesOrder", "Delivery", "Invoice", "Payment",
                              "Customer"),
    "dynamics365": ("Quote", "SalesOrder", "Invoice", "Customer"),
    "oracle-cx": ("Quote", "SalesOrder", "Invoice", "Payment", "Customer"),
}


def _object_differences(ws: Workspace, truth: Path) -> dict[str, object]:
    """Objects, E2O and O2O rows only on one side (document types; opportunities are the
    events' cases, compared by the event round trip)."""
    con = ws.con
    con.register("gt_objects_arrow", pq.read_table(truth))
    con.execute("CREATE OR REPLACE TEMP TABLE gto AS SELECT * REPLACE "
                "(EventTime::TIMESTAMP AS EventTime) FROM gt_objects_arrow")
    con.unregister("gt_objects_arrow")
    sides = {
        "objects": (
            "SELECT DISTINCT object_id, object_type FROM gto WHERE relation = 'object'",
            "SELECT object_id, object_type FROM objects WHERE object_type <> 'Opportunity'"),
        "e2o": (
            "SELECT SalesOpportunityId, ActivityName, EventTime, object_id, qualifier "
            "FROM gto WHERE relation = 'e2o'",
            "SELECT e.SalesOpportunityId, e.ActivityName, e.EventTime, r.object_id, r.qualifier "
            "FROM event_objects r JOIN events e USING (event_id) JOIN objects o USING (object_id) "
            "WHERE o.object_type <> 'Opportunity'"),
        "o2o": (
            "SELECT DISTINCT object_id, target_id, qualifier FROM gto WHERE relation = 'o2o' "
            # links to opportunities the extraction holds (all simulated ones are cases)
            "AND target_id IN (SELECT object_id FROM objects)",
            "SELECT source_id, target_id, qualifier FROM object_objects"),
    }
    out: dict[str, object] = {}
    for name, (truth_sql, ours) in sides.items():
        for label, a, b in (("only in ground truth", truth_sql, ours),
                            ("only in extract", ours, truth_sql)):
            rows = con.execute(f"SELECT * FROM ({a} EXCEPT ALL {b}) LIMIT 3").fetchall()
            if rows:
                out[f"{name} {label}"] = rows
    return out


def _counts(ws: Workspace) -> dict[str, int]:
    rows = ws.con.execute("SELECT object_type, count(*) FROM objects GROUP BY 1").fetchall()
    return dict(rows)


@pytest.mark.parametrize("real", [False, True], ids=["plain", "real-exports"])
@pytest.mark.parametrize("landscape", WITH_OBJECTS)
def test_extract_keeps_every_object_and_relation(
    tmp_path: Path, workspace: Workspace, landscape: str, real: bool
) -> None:
    params = SimulationParams(short_id_share=0.3, partial_payment_rate=0.3, multi_delivery_rate=0.4)
    if real:
        params = replace(params, **REAL_EXPORTS)
    result = simulate(tmp_path / "sim", 300, 5, landscape, params)
    assert result.ground_truth_objects is not None
    systems = LANDSCAPES[landscape].systems
    extract(workspace, {m.KEY: tmp_path / "sim" / m.KEY for m in systems})
    assert _object_differences(workspace, result.ground_truth_objects) == {}
    counts = _counts(workspace)
    assert set(counts) == {"Opportunity", *TYPES[landscape]}
    assert all(n > 0 for n in counts.values()), counts
    # one-to-many shapes the round trip covers
    fan = dict(workspace.con.execute("""
        SELECT r.qualifier || ' ' || t.object_type, max(n) FROM (
          SELECT target_id, qualifier, count(*) AS n FROM object_objects GROUP BY ALL) r
        JOIN objects t ON t.object_id = r.target_id GROUP BY ALL""").fetchall())
    for pair in ONE_TO_MANY[landscape]:
        assert fan[pair] > 1, (pair, fan)


def test_one_receipt_clearing_several_invoices(tmp_path: Path, workspace: Workspace) -> None:
    """`joint_receipt_rate`: an Oracle receipt applied to several invoices of an order is one
    Payment object clearing each of them; the round trip keeps it."""
    params = SimulationParams(multi_delivery_rate=0.8, joint_receipt_rate=0.7,
                              bounced_payment_rate=0.2, partial_payment_rate=0.3)
    result = simulate(tmp_path / "sim", 300, 8, "oracle-cx", params)
    extract(workspace, {"oracle-cx": tmp_path / "sim" / "oracle-cx"})
    assert _differences(workspace, result.ground_truth) == {}  # the events stay exact too
    assert result.ground_truth_objects is not None
    assert _object_differences(workspace, result.ground_truth_objects) == {}
    joint = workspace.con.execute("""
        SELECT count(*), max(n) FROM (SELECT source_id, count(*) AS n FROM object_objects
          WHERE qualifier = 'clears' GROUP BY 1 HAVING count(*) > 1)""").fetchall()[0]
    assert joint[0] > 5 and joint[1] >= 2
    # each invoice it clears has its Payment Received touching the one receipt
    events = workspace.con.execute("""
        SELECT count(*) FROM event_objects r JOIN objects o USING (object_id)
        WHERE o.object_type = 'Payment' AND r.object_id IN (SELECT source_id FROM object_objects
          WHERE qualifier = 'clears' GROUP BY 1 HAVING count(*) > 1)""").fetchall()[0][0]
    assert events >= 2 * joint[0]


def test_extract_keeps_attribute_history(tmp_path: Path, workspace: Workspace) -> None:
    """OpportunityHistory's amount and probability become the opportunity's attributes over
    time: the first value held from the start, then each change at its history row's time."""
    params = SimulationParams(amount_change_rate=0.5)
    simulate(tmp_path / "sim", 120, 6, "salesforce", params)
    extract(workspace, {"salesforce": tmp_path / "sim" / "salesforce"})
    con = workspace.con
    kinds = dict(con.execute("SELECT attribute, value_type FROM object_attribute_types "
                             "WHERE object_type = 'Opportunity'").fetchall())
    assert kinds["Probability"] == "float" and kinds["OpportunityAmount"] == "float"
    # every opportunity with history has exactly one starting probability, and its changes
    # follow the stages (probabilities rise while the deal advances)
    starts = con.execute("SELECT count(*), count(DISTINCT object_id) FROM object_attributes "
                         "WHERE attribute = 'Probability' AND changed_at IS NULL").fetchall()[0]
    assert starts[0] == starts[1] > 100
    changes = con.execute("SELECT count(*) FROM object_attributes WHERE attribute = 'Probability' "
                          "AND changed_at IS NOT NULL").fetchall()[0][0]
    assert changes > starts[0]  # deals move through several stages
    # amount changes (amount_change_rate): the history's value, not the final amount only
    moved = con.execute("SELECT count(DISTINCT object_id) FROM object_attributes WHERE "
                        "attribute = 'OpportunityAmount' AND changed_at IS NOT NULL").fetchall()[0][0]
    assert moved > 10
    one = con.execute("SELECT count(*) FROM (SELECT object_id FROM object_attributes WHERE "
                      "attribute = 'OpportunityAmount' AND changed_at IS NULL GROUP BY 1 "
                      "HAVING count(*) > 1)").fetchall()[0][0]
    assert one == 0


def test_case_type_invoice_on_an_extracted_company(tmp_path: Path) -> None:
    """`mine dfg --case-type Invoice` on an extracted simulated company: the invoice's process,
    created then paid (in parts: two payments of one invoice follow each other)."""
    sim = tmp_path / "sim"
    simulate(sim, 300, 7, "salesforce", SimulationParams(partial_payment_rate=0.5))
    db = tmp_path / "ws.duckdb"
    run = [sys.executable, "-m", "lead2cash"]
    done = subprocess.run([*run, "extract", "--db", str(db), "--source", f"salesforce={sim / 'salesforce'}"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = subprocess.run([*run, "mine", "dfg", "--db", str(db), "--case-type", "Invoice", "--json"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    dfg = json.loads(out.stdout)
    edges = {(e["source"], e["target"]): e for e in dfg["edges"]}
    with Workspace(db, read_only=True) as ws:
        invoices, partial = ws.con.execute("""
            SELECT count(DISTINCT i.object_id), count(DISTINCT i.object_id) FILTER (WHERE n > 1)
            FROM objects i LEFT JOIN (SELECT target_id, count(*) AS n FROM object_objects
              WHERE qualifier = 'clears' GROUP BY 1) p ON p.target_id = i.object_id
            WHERE i.object_type = 'Invoice' AND i.object_id IN (SELECT object_id FROM event_objects)
        """).fetchall()[0]
    # every invoice with events is a case, each starts with its creation
    assert dfg["start_activities"] == {"Invoice Generated": invoices}
    assert {a["activity"] for a in dfg["activities"]} == {"Invoice Generated", "Payment Received"}
    assert edges[("Invoice Generated", "Payment Received")]["cases"] > 0
    # an invoice paid in two parts: Payment Received directly follows Payment Received
    assert edges[("Payment Received", "Payment Received")]["cases"] == partial > 0
