"""Rule-based conformance: every template on cases that satisfy and break it, rule files and
their errors, rules as filters, and the built-in rules on a simulated company."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mining_log import load_frame

from lead2cash.conformance import Rule, RuleSet, check_rules, load_rules, parse_rules
from lead2cash.errors import InputError
from lead2cash.io.importer import import_log
from lead2cash.mining import DuckDBEngine, Not, parse_filter
from lead2cash.simulate import SimulationParams, simulate
from lead2cash.store import Workspace

T0 = datetime(2024, 3, 1, 9)
# Each case: (day, activity) events; equal days keep their order (event_id decides).
CASES: dict[str, list[tuple[float, str]]] = {
    "c01": [(0, "A"), (1, "B")],
    "c02": [(0, "B"), (1, "A")],
    "c03": [(0, "A")],
    "c04": [(0, "B")],
    "c05": [(0, "A"), (1, "C"), (40, "B")],
    "c06": [(0, "A"), (1, "A"), (2, "B")],
    "c07": [(0, "C"), (1, "A")],
    "c08": [(0, "A"), (1, "B"), (2, "A")],
    "c09": [(0, "X")],
    "c10": [(0, "B"), (1, "A"), (2, "B")],
    "c11": [(0, "A"), (0, "B")],
}
AMOUNT = {c: 1000.0 * (i + 1) for i, c in enumerate(CASES)}


def _frame() -> pd.DataFrame:
    rows = []
    for case, events in CASES.items():
        for day, act in events:
            rows.append({"SalesOpportunityId": case, "ActivityName": act,
                         "EventTime": T0 + timedelta(days=day), "OpportunityAmount": AMOUNT[case]})
    frame = pd.DataFrame(rows)
    frame["event_id"] = range(len(frame))
    return frame


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    path = tmp_path_factory.mktemp("rules") / "log.duckdb"
    with Workspace(path, memory_limit="1GB") as ws:
        load_frame(ws, _frame())
    with Workspace(path, read_only=True) as ws, DuckDBEngine(ws) as e:
        yield e


D = 86400.0
TEMPLATE_CASES: list[tuple[Rule, set[str]]] = [
    (Rule("r", "init", "A"), {"c02", "c04", "c07", "c09", "c10"}),
    (Rule("r", "end", "B"), {"c02", "c03", "c07", "c08", "c09"}),
    (Rule("r", "existence", "A"), {"c04", "c09"}),
    (Rule("r", "existence", "A", n=2), set(CASES) - {"c06", "c08"}),
    (Rule("r", "existence", "A", within_s=3600), {"c02", "c04", "c07", "c09", "c10"}),
    (Rule("r", "absence", "B"), {"c01", "c02", "c04", "c05", "c06", "c08", "c10", "c11"}),
    (Rule("r", "absence", "A", n=2), {"c06", "c08"}),
    (Rule("r", "exactly", "A", n=1), {"c04", "c06", "c08", "c09"}),
    (Rule("r", "response", "A", "B"), {"c02", "c03", "c07", "c08"}),
    (Rule("r", "response", "A", "B", within_s=2 * D), {"c02", "c03", "c05", "c07", "c08"}),
    (Rule("r", "precedence", "A", "B"), {"c02", "c04", "c10"}),
    (Rule("r", "precedence", "A", "B", within_s=0.5 * D), {"c01", "c02", "c04", "c05", "c06",
                                                         "c08", "c10"}),
    (Rule("r", "succession", "A", "B"), {"c02", "c03", "c04", "c07", "c08", "c10"}),
    (Rule("r", "chain-response", "A", "B"), {"c02", "c03", "c05", "c06", "c07", "c08"}),
    (Rule("r", "chain-response", "A", "B", within_s=0.5 * D), {"c01", "c02", "c03", "c05", "c06",
                                                             "c07", "c08", "c10"}),
    (Rule("r", "responded-existence", "A", "B"), {"c03", "c07"}),
    (Rule("r", "responded-existence", "A", "B", within_s=D), {"c03", "c05", "c06", "c07"}),
    (Rule("r", "not-coexistence", "A", "C"), {"c05", "c07"}),
    (Rule("r", "not-succession", "A", "B"), {"c01", "c05", "c06", "c08", "c10", "c11"}),
    (Rule("r", "not-succession", "A", "B", unless="C"), {"c01", "c06", "c08", "c10", "c11"}),
    (Rule("r", "absence", "B", when=tuple(parse_filter("has 'C'")), when_text="has 'C'"), {"c05"}),
]


@pytest.mark.parametrize(("rule", "breaking"), TEMPLATE_CASES, ids=[r.text() for r, _ in TEMPLATE_CASES])
def test_each_template_finds_the_cases_that_break_it(engine: DuckDBEngine, rule: Rule,
                                                     breaking: set[str]) -> None:
    report = check_rules(engine, rules=RuleSet((rule,), "test"))
    (result,) = report.rules
    assert set(report.case_rules) == breaking
    assert result.violating_cases == len(breaking)
    assert result.amount_at_stake == sum(AMOUNT[c] for c in breaking)
    assert result.examples == tuple(sorted(breaking))[:5]
    applicable = 2 if rule.when else len(CASES)
    assert result.applicable_cases == applicable
    assert report.conforming_cases == len(CASES) - len(breaking)
    # the rule as a filter keeps exactly the breaking cases; Not(rule) the others
    kept = set(engine.execute(engine.cases([rule]).select("SalesOpportunityId")).SalesOpportunityId)
    assert kept == breaking
    other = set(engine.execute(engine.cases([Not(rule)]).select("SalesOpportunityId")).SalesOpportunityId)
    assert other == set(CASES) - breaking


def test_breaks_in_the_filter_language(engine: DuckDBEngine) -> None:
    rules = {"a-first": Rule("a-first", "init", "A")}
    chosen = parse_filter("breaks 'a-first' and has 'B'", rules)
    kept = set(engine.execute(engine.cases(chosen).select("SalesOpportunityId")).SalesOpportunityId)
    assert kept == {"c02", "c04", "c10"}


def test_unknown_activities_are_reported(engine: DuckDBEngine) -> None:
    report = check_rules(engine, rules=RuleSet((Rule("r", "precedence", "A", "Qoute"),), "t"))
    assert report.unknown_activities == ("Qoute",)


def test_rule_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('''
[[rule]]
id = "quote-in-time"
template = "precedence"
a = "Quote Issued"
b = "Quote Accepted"
within = "30d"
when = "outcome = 'Won'"
description = "Accepted within 30 days of the quote"
''')
    (rule,) = load_rules(path).rules
    assert (rule.id, rule.template, rule.a, rule.b, rule.within_s) == (
        "quote-in-time", "precedence", "Quote Issued", "Quote Accepted", 30 * D)
    assert rule.text() == "precedence(Quote Issued, Quote Accepted) within 30d when outcome = 'Won'"


BAD_FILES = [
    ('[[rule]]\nid = "x"\ntemplate = "precedense"\na = "A"\n', "line 3", "unknown template"),
    ('[[rule]]\nid = "x"\ntemplate = "response"\na = "A"\n', "line 1", "has no 'b'"),
    ('[[rule]]\nid = "x"\ntemplate = "init"\na = "A"\nwithin = "3d"\n', "line 5", "no time limit"),
    ('[[rule]]\nid = "x"\ntemplate = "response"\na = "A"\nb = "B"\nwithin = "3 days"\n', "line 6",
     "not a duration"),
    ('[[rule]]\nid = "x"\ntemplate = "init"\na = "A"\ncolour = "red"\n', "line 5", "unknown key"),
    ('[[rule]]\nid = "x"\ntemplate = "init"\na = "A"\n\n[[rule]]\nid = "x"\ntemplate = "end"\n'
     'a = "B"\n', "line 6", "already used"),
    ('[[rule]]\nid = "x"\ntemplate = "absence"\na = "A"\nwhen = "outcome =="\n', "line 5",
     "not a filter"),
    ('[[rule]]\nid = "x"\ntemplate = init\n', "line 3", "not valid TOML"),
    ('[[rule]]\nid = "x"\ntemplate = "exactly"\na = "A"\n', "line 1", "needs a count"),
    ('[[rule]]\nid = "x"\ntemplate = "existence"\na = "A"\nn = 0\n', "line 5", "whole number"),
    ('# nothing here\n', None, "no [[rule]]"),
]


@pytest.mark.parametrize(("text", "where", "problem"), BAD_FILES, ids=[p for _, _, p in BAD_FILES])
def test_a_bad_rule_file_names_the_line(text: str, where: str | None, problem: str) -> None:
    with pytest.raises(InputError) as err:
        parse_rules(text, "rules.toml")
    assert problem in err.value.message
    assert err.value.message.startswith(f"rules.toml, {where}" if where else "rules.toml")
    assert err.value.hint


def test_the_built_in_rules_parse_and_name_model_activities() -> None:
    from lead2cash.model import ACTIVITY_NAMES

    rules = load_rules().rules
    assert len(rules) >= 10
    assert all(a in ACTIVITY_NAMES for r in rules for a in r.activities)


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A simulated company with injected deviations and one without, each imported."""
    out = []
    for rate in (0.04, 0.0):
        folder = tmp_path_factory.mktemp(f"company{rate}")
        simulate(folder, 2500, 23, params=SimulationParams(
            chunk_cases=1000, order_for_lost_rate=rate, order_before_win_rate=rate,
            payment_before_invoice_rate=rate))
        with Workspace(folder / "log.duckdb", memory_limit="1GB") as ws:
            import_log(ws, folder / "ground_truth.parquet")
        out.append(folder)
    yield out[0], out[1]


def test_built_in_rules_find_exactly_the_injected_deviations(company: tuple[Path, Path]) -> None:
    deviating, clean = company
    with open(deviating / "deviations.csv", newline="") as f:
        injected = {r["SalesOpportunityId"]: r["deviation"] for r in csv.DictReader(f)}
    assert {"order for lost deal", "order before win", "payment before invoice"} == set(injected.values())
    with Workspace(deviating / "log.duckdb", read_only=True) as ws, DuckDBEngine(ws) as e:
        report = check_rules(e)
    assert set(report.case_rules) == set(injected)
    by_rule = {r.rule.id: r for r in report.rules}
    lost = {c for c, kind in injected.items() if kind == "order for lost deal"}
    assert lost <= {c for c, ids in report.case_rules.items() if "no-order-for-lost-deal" in ids}
    early = {c for c, kind in injected.items() if kind == "order before win"}
    assert early <= {c for c, ids in report.case_rules.items() if "order-after-won" in ids}
    paid = {c for c, kind in injected.items() if kind == "payment before invoice"}
    assert paid <= {c for c, ids in report.case_rules.items() if "payment-after-invoice" in ids}
    assert by_rule["payment-after-invoice"].amount_at_stake > 0
    with Workspace(clean / "log.duckdb", read_only=True) as ws, DuckDBEngine(ws) as e:
        assert check_rules(e).case_rules == {}  # the happy-path company breaks no rule
    assert not (clean / "deviations.csv").exists()


_EVENTS = st.lists(st.tuples(st.integers(0, 3), st.sampled_from("ABC")), min_size=1, max_size=6)


@settings(max_examples=30, deadline=None)
@given(cases=st.lists(_EVENTS, min_size=1, max_size=6),
       template=st.sampled_from(["response", "precedence", "not-succession"]),
       pair=st.sampled_from([("A", "B"), ("B", "A"), ("A", "A"), ("A", "C")]))
def test_positions_give_the_cases_the_windows_give(cases: list, template: str,
                                                   pair: tuple[str, str]) -> None:
    """Without a time limit, response, precedence and not-succession are read from each case's
    first and last positions of A and B; on random logs (ties in time, A = B) they break in
    exactly the cases the ordered windows find."""
    import tempfile

    import ibis

    rows = [{"SalesOpportunityId": f"c{i}", "ActivityName": act,
             "EventTime": T0 + timedelta(hours=hour)}
            for i, events in enumerate(cases) for hour, act in events]
    frame = pd.DataFrame(rows).assign(event_id=lambda f: range(len(f)))
    rule = Rule("r", template, *pair)
    with tempfile.TemporaryDirectory() as tmp:
        with Workspace(Path(tmp) / "w.duckdb", memory_limit="500MB") as ws:
            load_frame(ws, frame)
            with DuckDBEngine(ws) as e:
                steps = e.tables().steps
                a, b = ibis.literal(pair[0]), ibis.literal(pair[1])
                fast = set(e.execute(rule._by_positions(steps, a, b).as_table()).iloc[:, 0])
                windows = set(e.execute(rule._windowed(steps, a, b, None).as_table()).iloc[:, 0])
    assert fast == windows
