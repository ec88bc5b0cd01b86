"""Any object as the case: the flattening matches pm4py's, DuckDB and Spark agree, and
`mine objects` counts what the hand-written log holds (worked out by hand below)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from ocel_support import SMALL

from lead2cash.errors import Lead2CashError
from lead2cash.io.importer import import_log
from lead2cash.mining import DuckDBEngine, SparkEngine, dfg, performance, variants
from lead2cash.mining.object_centric import report
from lead2cash.store import Workspace

TYPES = ("Opportunity", "Quote", "SalesOrder", "Delivery", "Invoice", "Payment", "Customer")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("small") / "small.duckdb"
    with Workspace(path) as ws:
        import_log(ws, SMALL)
    return path


def _traces(engine) -> dict[str, tuple[str, ...]]:
    frame = engine.execute(engine.cases().select("SalesOpportunityId", "variant"))
    return {c: tuple(v.split("\x1f")) for c, v in zip(frame.SalesOpportunityId, frame.variant,
                                                      strict=True)}


@pytest.mark.parametrize("object_type", TYPES)
def test_flattening_is_pm4pys(small: Path, object_type: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py

        flat = pm4py.ocel_flattening(pm4py.read_ocel2(str(SMALL)), object_type)
    expected: dict[str, tuple[str, ...]] = {}
    for case, group in flat.sort_values("time:timestamp", kind="stable").groupby("case:concept:name"):
        expected[case] = tuple(group["concept:name"])
    with Workspace(small, read_only=True) as ws, DuckDBEngine(ws, case_type=object_type) as engine:
        assert engine.case_type == object_type
        assert _traces(engine) == expected


def test_the_workspace_case_type_is_the_default(small: Path) -> None:
    with Workspace(small, read_only=True) as ws:
        with DuckDBEngine(ws) as default, DuckDBEngine(ws, case_type="Opportunity") as chosen:
            assert default.case_type == "Opportunity"
            assert dfg.discover(default).to_dict() == dfg.discover(chosen).to_dict()
        with pytest.raises(Lead2CashError, match="no objects of this type") as err:
            DuckDBEngine(ws, case_type="Order")
        assert "SalesOrder (2)" in str(err.value.hint)


def test_an_order_is_delivered_in_parts_and_billed_twice(small: Path) -> None:
    with Workspace(small, read_only=True) as ws, DuckDBEngine(ws, case_type="SalesOrder") as engine:
        v = variants.discover(engine)
        assert sorted((x.activities, x.cases) for x in v.variants) == [
            (("Sales Order Created", "Order Fulfilled", "Invoice Generated"), 1),
            (("Sales Order Created", "Order Fulfilled", "Order Fulfilled", "Invoice Generated",
              "Invoice Generated"), 1)]
        assert performance.case_durations(engine).duration.max_s == 7 * 86400


@pytest.mark.spark
@pytest.mark.parametrize("object_type", ["SalesOrder", "Invoice", "Opportunity"])
def test_spark_flattens_as_duckdb_does(small: Path, object_type: str) -> None:
    with Workspace(small, read_only=True) as ws:
        with DuckDBEngine(ws, case_type=object_type) as duck:
            expected = (dfg.discover(duck).to_dict(), variants.discover(duck).to_dict(),
                        performance.rework(duck).to_dict())
        with SparkEngine.from_workspace(ws, case_type=object_type) as spark:
            assert spark.case_type == object_type
            assert (dfg.discover(spark).to_dict(), variants.discover(spark).to_dict(),
                    performance.rework(spark).to_dict()) == expected


def test_object_report_counts_the_small_log(small: Path) -> None:
    with Workspace(small, read_only=True) as ws:
        r = report(ws, "SalesOrder")
        by_type = {t.object_type: t for t in r.types}
        assert {t: x.objects for t, x in by_type.items()} == {
            "Opportunity": 2, "Invoice": 3, "Quote": 3, "Delivery": 2, "Payment": 2,
            "SalesOrder": 2, "Customer": 1}
        so = by_type["SalesOrder"]
        assert (so.objects_with_events, so.events, so.relations) == (2, 7, 8)
        assert so.events_per_object.histogram == {"3": 1, "5": 1}
        assert (("Sales Order Created", "Order Fulfilled", "Order Fulfilled", "Invoice Generated",
                 "Invoice Generated"), 1) in so.lifecycles
        # SO1 holds e8, e11, e12, e13, e15; SO2 e10, e12, e14: e12 (the shared delivery) twice
        f = r.flattening
        assert (f.events, f.events_kept, f.events_left_out, f.convergent_events,
                f.flattened_events, f.duplicated_rows, f.max_case_objects_per_event) == \
            (17, 7, 10, 1, 8, 1, 2)
        div = {d.object_type: d for d in f.divergence}
        # SO1: e11 (D1) -> e12 (D2) and e13 (I1) -> e15 (I2) put one object's step after another's
        assert (div["Delivery"].pairs_between_objects, div["Delivery"].misordered_pairs) == (1, 1)
        assert (div["Invoice"].cases_with_several, div["Invoice"].misordered_pairs) == (1, 1)
        assert div["Quote"].pairs_between_objects == 0
        fan = {(x.source_type, x.target_type): x for x in r.fan_out}
        quotes = fan[("Opportunity", "Quote")].per_source
        assert (quotes.objects, quotes.none, quotes.mean, quotes.max) == (2, 0, 1.5, 2)
        assert fan[("SalesOrder", "Invoice")].per_source.histogram == {"1": 1, "2": 1}
        assert fan[("Payment", "Invoice")].per_source.histogram == {"1": 1, "2": 1}
        assert fan[("Delivery", "SalesOrder")].qualifiers == ("delivery of",)
        assert fan[("Delivery", "SalesOrder")].per_source.histogram == {"1": 1, "2": 1}
        assert r.activities["Payment Received"] == (2, ("Invoice", "Payment"))
        assert {t: len(m.edges) for t, m in r.maps.items()}["Payment"] == 0
        on_opp = report(ws).flattening
        # O1: e3 (Q1) -> e4 (Q2) misorders, e4 -> e6 share Q2; O2: e5 -> e9 -> e10 all Q3
        quote = {d.object_type: d for d in on_opp.divergence}["Quote"]
        assert (quote.cases_with_several, quote.pairs_between_objects, quote.misordered_pairs,
                quote.cases_misordered) == (1, 4, 1, 1)
        assert (on_opp.events_kept, on_opp.events_left_out, on_opp.convergent_events) == (10, 7, 0)


def test_mine_objects_and_case_type_on_the_command_line(small: Path) -> None:
    env = {**os.environ, "LEAD2CASH_DB": str(small), "COLUMNS": "200"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "lead2cash", "mine", *a], env=env, check=False,
                                    capture_output=True, text=True, timeout=300)
    out = run("objects", "--json", "--case-type", "Invoice")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["flattening"]["convergent_events"] == 1  # e16: one payment clears I1 and I3
    assert sorted(data["process_map"]["object_types"]) == sorted(TYPES)
    out = run("variants", "--case-type", "Payment", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total_cases"] == 2
    out = run("dfg", "--case-type", "Order")
    assert out.returncode == 2 and "no objects of this type" in out.stdout + out.stderr
    out = run("objects")
    assert out.returncode == 0 and "Flattening on Opportunity" in out.stdout


def test_kpis_on_another_case_type_say_what_the_cases_are(small: Path) -> None:
    """The Lead-to-Cash KPIs are defined per opportunity: on a log flattened on Invoice they
    are computed from its events (no stored facts) and the report says what its cases are."""
    env = {**os.environ, "LEAD2CASH_DB": str(small), "COLUMNS": "200"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "lead2cash", "mine", "kpis", *a], env=env,
                                    check=False, capture_output=True, text=True, timeout=300)
    out = run("--case-type", "Invoice", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["case_type"], data["cases"], data["won"]) == ("Invoice", 3, 0)
    assert "the cases are Invoice objects, not opportunities" in data["note"]
    out = run("--case-type", "Invoice")
    assert out.returncode == 0 and "Note: the cases are Invoice objects" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    data = json.loads(run("--json").stdout)
    assert (data["case_type"], data["note"], data["cases"]) == ("Opportunity", None, 2)


def test_the_session_opens_the_log_flattened_on_a_case_type(small: Path) -> None:
    from lead2cash.app.session import open_engine, parse_case_type

    assert parse_case_type("  ") is None and parse_case_type(" Invoice ") == "Invoice"
    with open_engine(small, case_type="Invoice") as (engine, filters):
        assert (engine.case_type, filters) == ("Invoice", [])
        assert variants.discover(engine).total_cases == 3
    with open_engine(small, case_type=" ") as (engine, _):
        assert engine.case_type == "Opportunity"
