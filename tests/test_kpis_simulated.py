"""KPIs on the simulator's ground truth recover the behaviour it was configured with."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pytest
from kpi_log import load_simulated

from lead2cash.mining.kpis import kpis
from lead2cash.simulate.params import SimulationParams
from lead2cash.store import Workspace

PARAMS = SimulationParams()
DAY = 86_400.0


def in_days(seconds: float) -> float:
    """A duration from the results (seconds) in days."""
    return seconds / DAY


def in_hours(seconds: float) -> float:
    """A duration from the results (seconds) in hours."""
    return seconds / 3600.0


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> ir.Table:
    """3,000 simulated opportunities (Salesforce landscape), ground truth loaded as a workspace."""
    out = tmp_path_factory.mktemp("sim")
    ws = Workspace(out / "log.duckdb", memory_limit="1GB")
    load_simulated(ws, out, 3000, 1)
    return ibis.duckdb.from_connection(ws.con).table("events")


def _segments(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Segments by name."""
    return {s["segment"]: s for s in report["segments"]}


def test_win_rate_follows_lead_source_odds(events: ir.Table) -> None:
    seg = _segments(kpis(events, by="LeadSource").to_dict())
    odds = PARAMS.win_odds_lead_source
    ranked = sorted(["Partner Referral", "Web", "Purchased List"], key=lambda s: -odds[s])
    rates = [seg[s]["win_rate"] for s in ranked]
    assert rates == sorted(rates, reverse=True), rates
    assert rates[0] > 2 * rates[-1]


def test_late_payment_days_follow_region_lateness(events: ir.Table) -> None:
    report = kpis(events, by="SalesRegion").to_dict()
    seg = _segments(report)
    by_lateness = sorted(PARAMS.late_days_region, key=PARAMS.late_days_region.get)
    late_days = [in_days(seg[r]["late_mean_s"]) for r in by_lateness]
    assert late_days == sorted(late_days), late_days
    assert report["unparsed_terms"] == []  # every simulated term is understood


def test_discounts_raise_win_rate_and_cycle_and_some_reps_rely_on_them(events: ir.Table) -> None:
    d = kpis(events).to_dict()["discounts"]
    bands = [b for b in d["bands"] if b["cases"] >= 50]
    assert bands[0]["win_rate"] < bands[-1]["win_rate"]
    assert in_days(bands[0]["sales_cycle_median_s"]) < in_days(bands[-1]["sales_cycle_median_s"])
    heavy = [o for o in d["owners"] if o["discount_mean"] > 0.10]
    share = len(heavy) / len(d["owners"])
    assert abs(share - PARAMS.rep_discount_share) < 0.15, share


def test_rework_rates_match_the_configured_ones(events: ir.Table) -> None:
    r = kpis(events).to_dict()
    # Reopens: a share of closed deals; regressions: deals past the first stage, of all cases.
    assert PARAMS.reopen_rate / 2 < r["reopen_rate"] < PARAMS.reopen_rate * 1.5
    assert PARAMS.regression_rate / 2 < r["regression_rate"] < PARAMS.regression_rate * 1.2
    assert in_hours(r["handoff_median_s"]) > 0 and in_days(r["dso_mean_s"]) > 0
