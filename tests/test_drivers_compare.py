"""Drivers recover the effects the simulated company is configured with; significance is right;
compare reports the figures the other analyses report."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from lead2cash.conformance import Rule
from lead2cash.io.importer import import_log
from lead2cash.mining import DuckDBEngine, dfg, kpis, parse_filter
from lead2cash.mining import variants as variants_mod
from lead2cash.mining.compare import compare
from lead2cash.mining.drivers import _p_value, drivers
from lead2cash.simulate import SimulationParams, simulate
from lead2cash.store import Workspace


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    """A seeded company whose APAC deals move slowly (every stage 1.8 times longer)."""
    folder = tmp_path_factory.mktemp("drivers")
    simulate(folder, 5000, 31, params=SimulationParams(
        chunk_cases=2500, cycle_factor_region={"APAC": 1.8}))
    with Workspace(folder / "log.duckdb", memory_limit="1GB") as ws:
        import_log(ws, folder / "ground_truth.parquet")
    with Workspace(folder / "log.duckdb", read_only=True) as ws, DuckDBEngine(ws) as e:
        yield e


def _top(report: object, feature: str) -> str:
    """The value of `feature` with the highest target rate among the listed segments."""
    rows = [d for d in report.drivers if d.feature == feature]  # type: ignore[attr-defined]
    return max(rows, key=lambda d: d.rate).value


def test_drivers_recover_the_configured_effects(engine: DuckDBEngine) -> None:
    lost = drivers(engine, target="lost")
    top = _top(lost, "LeadSource")
    assert top == "Purchased List"  # configured win odds 0.4, the lowest
    d = next(x for x in lost.drivers if x.feature == "LeadSource" and x.value == top)
    assert d.significant and d.lift > 1 and d.rate > d.rest_rate
    assert all(x.feature not in ("OpportunityOutcome", "PaymentTerms") for x in lost.drivers)
    assert not any(x.value in ("has Opportunity Lost", "has Sales Order Created") for x in lost.drivers)
    late = drivers(engine, target="late-payment")
    assert _top(late, "PaymentTerms") == "Due on Receipt"  # due the day it is invoiced
    slow = drivers(engine, target="slow")
    assert _top(slow, "SalesRegion") == "APAC"
    apac = next(x for x in slow.drivers if x.feature == "SalesRegion" and x.value == "APAC")
    assert apac.significant and apac.lift > 1.3
    for report in (lost, late, slow):
        assert report.drivers and all(x.cases >= report.min_support_cases for x in report.drivers)
        assert report.target_cases <= report.population
        assert all(0.0 <= x.p_value <= 1.0 for x in report.drivers)
        significant = [x.significant for x in report.drivers]
        assert significant == sorted(significant, reverse=True)  # significant first
        assert {x.significant for x in report.drivers} == {
            x.p_value < report.alpha / report.segments_tested for x in report.drivers}


def test_drivers_of_a_rule_and_of_activity_counts(engine: DuckDBEngine) -> None:
    rule = Rule("no-reopen", "absence", "Opportunity Reopened")
    report = drivers(engine, target=rule, min_cases=5, min_support=0.0)
    assert report.target == "no-reopen" and report.population == 5000
    assert report.target_cases > 0
    quotes = drivers(engine, target="lost", min_support=0.0)
    names = {x.value for x in quotes.drivers}
    assert "Quote Issued 3 or more times" in names and "has Opportunity Reopened" in names


def test_p_values_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for k1, n1, k2, n2 in ((40, 100, 25, 100), (300, 1000, 250, 1000), (2, 10, 30, 200),
                           (0, 12, 10, 90), (5, 5, 40, 200)):
        expected_small = min(n1 * (k1 + k2) / (n1 + n2), n2 * (k1 + k2) / (n1 + n2),
                             n1 * (n1 + n2 - k1 - k2) / (n1 + n2)) < 5
        ours = _p_value(k1, n1, k2, n2)
        if expected_small:
            ref = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        else:
            p = (k1 + k2) / (n1 + n2)
            z = (k1 / n1 - k2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
            ref = 2 * stats.norm.sf(abs(z))
        assert ours == pytest.approx(ref, rel=1e-6), (k1, n1, k2, n2)


def test_compare_reports_the_figures_of_the_other_analyses(engine: DuckDBEngine) -> None:
    a, b = parse_filter("SalesRegion = 'EMEA'"), parse_filter("SalesRegion = 'APAC'")
    c = compare(engine, a, b, top=5)
    ka, kb = kpis.report(engine, a).overall.to_dict(), kpis.report(engine, b).overall.to_dict()
    assert c.kpi_deltas["win_rate"] == kb["win_rate"] - ka["win_rate"]
    assert c.kpi_deltas["sales_cycle_median_s"] > 0  # APAC is configured slower
    edges_b = {(e.source, e.target): e for e in dfg.discover(engine, b).edges}
    for d in c.edges_by_share:
        e = edges_b.get(d.key)  # type: ignore[arg-type]
        assert d.share_b == (e.cases / c.cases_b if e else 0.0)
        assert d.median_b_s == (e.duration.median_s if e else None)
    shares = [abs(d.share_delta) for d in c.edges_by_share]
    assert shares == sorted(shares, reverse=True) and len(shares) == 5
    va = {v.activities: v for v in variants_mod.discover(engine, a).variants}
    for d in c.variants_by_share:
        assert d.share_a == (va[d.key].share if d.key in va else 0.0)
    timed = [abs(d.median_delta_s or 0) for d in c.variants_by_duration]
    assert timed == sorted(timed, reverse=True)
    assert c.to_dict()["kpis"][0]["kpi"] == "cases"


def test_drivers_reject_bad_targets(engine: DuckDBEngine) -> None:
    from lead2cash.errors import Lead2CashError

    with pytest.raises(Lead2CashError, match="unknown drivers target"):
        drivers(engine, target="late")
    with pytest.raises(Lead2CashError, match="slow quantile"):
        drivers(engine, target="slow", slow_quantile=1.5)


