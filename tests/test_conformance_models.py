"""Models: PNML and BPMN reading (and their errors), the reference model, replay and alignments
on hand-checked traces, and time limits that are reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from mining_log import load_frame, synthetic_frame

from lead2cash.conformance import (
    Aligner,
    TokenReplayer,
    align_log,
    load_model,
    read_bpmn,
    read_pnml,
    reference_model,
    replay_log,
    write_pnml,
)
from lead2cash.errors import InputError, Lead2CashError
from lead2cash.mining import DuckDBEngine, parse_filter
from lead2cash.model import ACTIVITY_NAMES, HAPPY_PATH
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data"
LOST = ("Opportunity Created", "Quote Issued", "Opportunity Lost")
WON = ("Opportunity Created", "Quote Issued", "Opportunity Won", "Sales Order Created",
       "Invoice Generated", "Order Fulfilled", "Payment Received")


def test_bpmn_gateways_become_choices_and_concurrency() -> None:
    net = read_bpmn(DATA / "quote_to_order.bpmn")
    replay, align = TokenReplayer(net), Aligner(net)
    for trace in (LOST, WON, WON[:4] + ("Order Fulfilled", "Invoice Generated", WON[-1])):
        r = replay.replay(trace)
        assert (r.fit, r.fitness, r.missing, r.remaining) == (True, 1.0, 0, 0)
        assert align.align(trace).fitness == 1.0  # type: ignore[union-attr]
    skipped = ("Opportunity Created", "Opportunity Won", *WON[3:])  # no quote: one token missing
    r = replay.replay(skipped)
    assert (r.fit, r.missing, r.remaining, r.underfed) == (False, 1, 1, ("Opportunity Won",))
    a = align.align(skipped)
    assert a is not None and a.deviations == 1
    assert [(m.kind, m.model) for m in a.moves if m.kind == "model"] == [("model", "Quote Issued")]
    extra = LOST + ("Sales Order Created",)
    a = align.align(extra)
    assert a is not None and [m.log for m in a.moves if m.kind == "log"] == ["Sales Order Created"]
    assert a.fitness == 1 - 1 / (4 + 3)  # bwc: 4 events + the model's shortest run (3 activities)


def test_bpmn_elements_without_a_translation_are_refused(tmp_path: Path) -> None:
    text = (DATA / "quote_to_order.bpmn").read_text().replace(
        '<bpmn:exclusiveGateway id="decide" />', '<bpmn:inclusiveGateway id="decide" />')
    path = tmp_path / "m.bpmn"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_bpmn(path)
    assert "line 9:" in err.value.message and "inclusiveGateway" in err.value.message


def test_pnml_round_trip_keeps_the_net(tmp_path: Path) -> None:
    net = reference_model()
    write_pnml(net, tmp_path / "ref.pnml")
    back = read_pnml(tmp_path / "ref.pnml")
    assert back.places == net.places and back.transitions == net.transitions
    assert back.arcs == net.arcs and dict(back.initial) == dict(net.initial)
    assert dict(back.final) == dict(net.final)


PNML = """<?xml version="1.0"?>
<pnml><net id="n"><page id="p">
  <place id="i"><initialMarking><text>1</text></initialMarking></place>
  <place id="o"/>
  <transition id="t"><name><text>Quote Issued</text></name></transition>
  <arc id="a1" source="i" target="t"/>
  <arc id="a2" source="t" target="{target}"/>
</page></net></pnml>
"""


@pytest.mark.parametrize(("target", "problem", "line"), [
    ("o", None, None),
    ("nowhere", "does not join a declared place and transition", "line 7"),
])
def test_pnml_errors_name_the_line(tmp_path: Path, target: str, problem: str | None,
                                   line: str | None) -> None:
    path = tmp_path / "n.pnml"
    path.write_text(PNML.format(target=target))
    if problem is None:
        net = read_pnml(path)
        assert dict(net.final) == {"o": 1}  # no <finalmarkings>: the one place without outputs
        return
    with pytest.raises(InputError) as err:
        read_pnml(path)
    assert problem in err.value.message and line in err.value.message


def test_pnml_not_xml_and_two_sinks(tmp_path: Path) -> None:
    path = tmp_path / "bad.pnml"
    path.write_text("<pnml><net>\n<place id='x'>\n</pnml>")
    with pytest.raises(InputError, match="line 3"):
        read_pnml(path)
    path.write_text(PNML.format(target="o").replace('<place id="o"/>', '<place id="o"/><place id="q"/>'))
    with pytest.raises(InputError, match="2 places have no outgoing arc"):
        read_pnml(path)
    with pytest.raises(Lead2CashError, match="unknown model format"):
        load_model(tmp_path / "model.xml")


def test_the_reference_model_fits_the_happy_path_and_lost_deals() -> None:
    net = reference_model()
    assert net.labels <= set(ACTIVITY_NAMES)
    replay, align = TokenReplayer(net), Aligner(net)
    for trace in (HAPPY_PATH, ("Opportunity Created", "Opportunity Qualified", "Opportunity Lost"),
                  HAPPY_PATH[:5] + ("Opportunity Lost", "Opportunity Reopened", "Quote Issued")
                  + HAPPY_PATH[5:]):
        assert replay.replay(trace).fit, trace
        a = align.align(trace)
        assert a is not None and a.deviations == 0
    a = align.align(("Opportunity Created", "Opportunity Stage Changed", "Opportunity Lost"))
    assert a is not None and [m.log for m in a.moves if m.kind == "log"] == ["Opportunity Stage Changed"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> DuckDBEngine:
    path = tmp_path_factory.mktemp("models") / "log.duckdb"
    with Workspace(path, memory_limit="1GB") as ws:
        load_frame(ws, synthetic_frame(cases=80, seed=3))
    ws = Workspace(path, read_only=True)
    return DuckDBEngine(ws)


def test_replay_is_weighted_by_cases(engine: DuckDBEngine) -> None:
    report = replay_log(engine, per_case=True, top=None)
    assert report.cases == 80 == sum(v.cases for v in report.variants)
    assert report.per_case is not None and len(report.per_case) == 80
    by_variant = {v.activities: v.replay.fitness for v in report.variants}
    assert report.average_trace_fitness == pytest.approx(sum(report.per_case.values()) / 80)
    assert report.fitting_cases == sum(v.cases for v in report.variants if v.replay.fit)
    assert set(report.per_case.values()) <= set(by_variant.values())
    deviating = {a.activity: a for a in report.activities}
    assert sum(a.deviating_events for a in report.activities) > 0
    assert all(a.in_model for a in deviating.values())  # the synthetic log uses model activities
    only_open = replay_log(engine, filters=parse_filter("open"))
    assert only_open.cases < report.cases


def test_alignments_report_the_variants_that_run_out_of_time(engine: DuckDBEngine) -> None:
    full = align_log(engine, time_limit=60.0)
    assert full.variants_timed_out == 0 and full.aligned_cases == full.cases == 80
    long = ("Opportunity Created",) + ("Quote Issued", "Opportunity Lost") * 40
    aligner = Aligner(reference_model())
    assert aligner.align(long, time_limit=1e-6) is None  # reported as None, never a guess
    assert aligner.align(long, time_limit=60.0) is not None
    with pytest.raises(Lead2CashError, match="time limit must be positive"):
        align_log(engine, time_limit=0)
