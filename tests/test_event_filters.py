"""Event filters (keep/drop events, rename, merge, lifecycle transitions) on both engines, and
rework that does not count a repeat on another document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from mining_log import load_frame

from lead2cash.errors import Lead2CashError
from lead2cash.io.importer import import_log
from lead2cash.mining import DuckDBEngine, Engine, SparkEngine, dfg, parse_filter, performance
from lead2cash.mining import variants as variants_mod
from lead2cash.mining.activity_times import activity_times
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data"
MIN = 60.0


@pytest.fixture(scope="module")
def lifecycle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lifecycle") / "log.duckdb"
    with Workspace(path, memory_limit="1GB") as ws:
        import_log(ws, DATA / "lifecycle.xes")
    return path


@pytest.fixture(scope="module")
def lifecycle(lifecycle_path: Path) -> Iterator[DuckDBEngine]:
    with Workspace(lifecycle_path, read_only=True) as ws, DuckDBEngine(ws) as e:
        yield e


def _traces(engine: Engine, text: str) -> dict[str, list[str]]:
    v = variants_mod.discover(engine, parse_filter(text) if text else [])
    return {" > ".join(x.activities): x.cases for x in v.variants}  # type: ignore[misc]


def _loops(engine: Engine, text: str) -> int:
    pm = dfg.discover(engine, parse_filter(text) if text else [])
    return sum(e.frequency for e in pm.edges if e.source == e.target)


def test_lifecycle_complete_keeps_one_event_per_instance(lifecycle: DuckDBEngine) -> None:
    assert _loops(lifecycle, "") == 7  # start -> complete pairs, schedule -> start
    assert _traces(lifecycle, "lifecycle complete") == {"A > B": 1, "A > A > B": 1, "A": 1}
    assert _loops(lifecycle, "lifecycle complete") == 1  # two instances of A in t2


def test_lifecycle_pairs_give_processing_and_waiting_times(lifecycle: DuckDBEngine) -> None:
    times = {a.activity: a for a in activity_times(lifecycle, parse_filter("lifecycle pairs"))}
    a, b = times["A"], times["B"]
    assert (a.instances, b.instances) == (4, 2)  # t3's B never completed: no instance
    assert a.processing.mean_s == (30 + 10 + 30 + 0) / 4 * MIN  # t3's A has no start: 0
    assert (b.processing.min_s, b.processing.max_s) == (10 * MIN, 60 * MIN)
    assert a.waiting.count == 1 and a.waiting.mean_s == 10 * MIN  # t2: 09:10 -> 09:20
    assert sorted([b.waiting.min_s, b.waiting.max_s]) == [15 * MIN, 30 * MIN]
    raw = {x.activity: x for x in activity_times(lifecycle)}
    assert raw["A"].processing.max_s == 0  # without start times every instance is instantaneous


def test_lifecycle_needs_the_column(tmp_path: Path) -> None:
    frame = pd.DataFrame({"SalesOpportunityId": ["c"], "ActivityName": ["A"],
                          "EventTime": [datetime(2024, 1, 1)], "event_id": [0]})
    with Workspace(tmp_path / "x.duckdb", memory_limit="1GB") as ws:
        load_frame(ws, frame)
        with pytest.raises(Lead2CashError, match="no 'lifecycle:transition' column"):
            dfg.discover(DuckDBEngine(ws), parse_filter("lifecycle pairs"))


T0 = datetime(2024, 1, 1)
ROWS = [  # case, activity, hours after T0, SalesStage, source_record
    ("c1", "Opportunity Created", 0, "Prospecting", "sf/Opportunity.csv:Id=1"),
    ("c1", "Quote Issued", 1, "Proposal", "sf/Quote.csv:Id=q1"),
    ("c1", "Quote Issued", 2, "Proposal", "sf/Quote.csv:Id=q2"),  # a revision: rework
    ("c1", "Order Fulfilled", 3, None, "sap/LIKP.csv:VBELN=d1"),
    ("c1", "Order Fulfilled", 4, None, "sap/LIKP.csv:VBELN=d2"),  # a split delivery: not rework
    ("c1", "Invoice Generated", 5, None, "sap/VBRK.csv:VBELN=i1"),
    ("c1", "Invoice Generated", 6, None, "sap/VBRK.csv:VBELN=i1"),  # the same invoice twice: rework
    ("c2", "Opportunity Created", 0, "Prospecting", "log.csv:line 2"),
    ("c2", "Payment Received", 1, None, "log.csv:line 3"),
    ("c2", "Payment Received", 2, None, "log.csv:line 4"),  # no document known: counts
    ("c2", "Opportunity Stage Changed", 3, "Closed", "log.csv:line 5"),
]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    path = tmp_path_factory.mktemp("docs") / "log.duckdb"
    frame = pd.DataFrame([{"SalesOpportunityId": c, "ActivityName": a,
                           "EventTime": T0 + timedelta(hours=h), "SalesStage": s,
                           "source_record": r} for c, a, h, s, r in ROWS])
    frame["event_id"] = range(len(frame))
    with Workspace(path, memory_limit="1GB") as ws:
        load_frame(ws, frame)
    with Workspace(path, read_only=True) as ws, DuckDBEngine(ws) as e:
        yield e


def test_rework_counts_repeats_on_the_same_document_only(documents: DuckDBEngine) -> None:
    r = performance.rework(documents)
    repeated = {x.activity: (x.cases, x.extra_events) for x in r.repeated}
    assert repeated == {"Quote Issued": (1, 1), "Invoice Generated": (1, 1),
                        "Payment Received": (1, 1)}
    assert r.cases_with_repeats == 2


def test_keep_drop_rename_merge(documents: DuckDBEngine) -> None:
    t = _traces(documents, "drop activities ('Quote Issued', 'Order Fulfilled')")
    assert t == {"Opportunity Created > Invoice Generated > Invoice Generated": 1,
                 "Opportunity Created > Payment Received > Payment Received > "
                 "Opportunity Stage Changed": 1}
    t = _traces(documents, "keep events SalesStage in ('Prospecting', 'Proposal')")
    assert t == {"Opportunity Created > Quote Issued > Quote Issued": 1, "Opportunity Created": 1}
    t = _traces(documents, "keep events SalesStage != 'Proposal' and has 'Opportunity Stage Changed'")
    assert t == {"Opportunity Created > Opportunity Stage Changed": 1}  # missing stage: dropped
    t = _traces(documents, "merge ('Order Fulfilled', 'Invoice Generated') -> 'Delivery' and "
                           "rename 'Opportunity Created' -> 'Created' and has 'Delivery'")
    assert t == {"Created > Quote Issued > Quote Issued > Delivery > Delivery > Delivery > Delivery": 1}
    gone = _traces(documents, "keep activities ('Quote Issued')")
    assert gone == {"Quote Issued > Quote Issued": 1}  # c2 had none: it disappears


@pytest.mark.spark
@pytest.mark.slow
def test_event_filters_equal_on_spark(lifecycle: DuckDBEngine, lifecycle_path: Path,
                                      documents: DuckDBEngine) -> None:
    for duck, ws in ((lifecycle, lifecycle.workspace), (documents, documents.workspace)):
        with SparkEngine.from_workspace(ws) as spark:
            for text in ("lifecycle complete", "lifecycle pairs",
                         "drop activities ('Quote Issued') and rename 'Invoice Generated' -> 'I'",
                         "keep events SalesStage in ('Prospecting', 'Proposal')"):
                if "lifecycle" in text and duck is documents:
                    continue
                f = parse_filter(text)
                assert dfg.discover(spark, f) == dfg.discover(duck, f), text
                assert activity_times(spark, f) == activity_times(duck, f), text
                assert performance.rework(spark, f) == performance.rework(duck, f), text


@pytest.mark.slow
def test_bpic2012_self_loops_against_pm4py(shared_data: Path, tmp_path: Path) -> None:
    """bpic2012: 38,004 W_Completeren aanvraag self-loops with every transition; with
    `lifecycle complete` the same process map as pm4py's on the complete events."""
    pm4py = pytest.importorskip("pm4py")
    with Workspace(tmp_path / "b.duckdb", memory_limit="2GB") as ws:
        import_log(ws, shared_data / "bpic2012.xes.gz")
        engine = DuckDBEngine(ws)
        loop = ("W_Completeren aanvraag", "W_Completeren aanvraag")
        raw = {(e.source, e.target): e.frequency for e in dfg.discover(engine).edges}
        done = {(e.source, e.target): e.frequency
                for e in dfg.discover(engine, parse_filter("lifecycle complete")).edges}
    assert raw[loop] == 38004
    frame = pm4py.read_xes(str(shared_data / "bpic2012.xes.gz"))
    frame = frame[frame["lifecycle:transition"].str.lower() == "complete"]
    ref, _, _ = pm4py.discover_dfg(frame)
    assert done == dict(ref)
    assert done[loop] < raw[loop]
