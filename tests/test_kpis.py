"""KPIs on a hand-built log (tests/kpi_log.py) whose every number was worked out by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pytest
from kpi_log import write_log

from lead2cash.errors import Lead2CashError
from lead2cash.mining.calendar import BUILTIN_CALENDARS, CalendarSet, working_seconds
from lead2cash.mining.kpis import KpiOptions, kpis
from lead2cash.mining.kpis_o2c import DueRule, parse_terms
from lead2cash.store import Workspace

NOW = datetime(2024, 3, 7)

DAY = 86_400.0


def in_days(seconds: float | None) -> float | None:
    """A duration from the results (seconds) in days of 24 hours."""
    return None if seconds is None else seconds / DAY


def in_hours(seconds: float | None) -> float | None:
    """A duration from the results (seconds) in hours."""
    return None if seconds is None else seconds / 3600.0


@pytest.fixture
def events(workspace: Workspace) -> Iterator[ir.Table]:
    """The hand-built log in a real workspace file, as the Ibis table the engine seam gives."""
    write_log(workspace)
    yield ibis.duckdb.from_connection(workspace.con).table("events")


@pytest.fixture
def report(events: ir.Table) -> dict[str, Any]:
    """The whole-log KPIs as JSON-ready dict."""
    return kpis(events, now=NOW).to_dict()


def test_headline_keys_and_values(report: dict[str, Any]) -> None:
    assert report["cases"] == 6
    assert (report["won"], report["lost"], report["open"]) == (3, 1, 2)
    assert report["win_rate"] == 0.75
    # Closed cycles: 10, 20, 30 and 39 days (C4 closes on its final Won after a reopen).
    assert in_days(report["sales_cycle_median_s"]) == 25.0
    assert in_days(report["sales_cycle_mean_s"]) == 24.75
    assert in_days(report["sales_cycle_p90_s"]) == pytest.approx(36.3)
    assert in_days(report["sales_cycle_won_median_s"]) == 20.0
    assert in_days(report["sales_cycle_lost_median_s"]) == 30.0
    assert report["reopen_rate"] == 0.25
    assert report["regression_rate"] == pytest.approx(1 / 6)
    assert in_hours(report["handoff_median_s"]) == 24.0
    assert in_hours(report["handoff_mean_s"]) == 20.0
    assert in_days(report["dso_mean_s"]) == pytest.approx(62 / 3)
    assert in_days(report["dso_median_s"]) == 20.0
    assert report["late_payment_rate"] == pytest.approx(2 / 3)
    assert in_days(report["late_mean_s"]) == 6.0
    assert report["time"] == "calendar" and report["as_of"] == "2024-03-06T00:00:00Z"


def test_milestone_transitions(report: dict[str, Any]) -> None:
    # C4's first decision (Lost) precedes its quote, so it is left out.
    assert report["quote_to_decision_count"] == 3
    assert in_days(report["quote_to_decision_median_s"]) == 15.0
    assert in_days(report["quote_accepted_to_contract_mean_s"]) == 2.0
    assert in_days(report["fulfilment_median_s"]) == 4.0
    assert in_days(report["fulfilment_to_invoice_mean_s"]) == 0.5


def test_funnel_conversion_and_time_in_stage(report: dict[str, Any]) -> None:
    funnel = {s["stage"]: s for s in report["funnel"]}
    reached = [s["cases_reached"] for s in report["funnel"]]
    assert reached == [6, 6, 5, 5, 4, 3, 3, 3]
    assert funnel["Opportunity Qualified"]["conversion_to_next"] == pytest.approx(5 / 6)
    assert funnel["Quote Issued"]["conversion_to_next"] == 0.75
    assert funnel["Opportunity Won"]["conversion_to_next"] is None
    # Time in stage runs to the next stage event (Lost and Reopened count as exits).
    assert in_days(funnel["Opportunity Created"]["time_in_stage_mean_s"]) == 3.0
    assert in_days(funnel["Quote Issued"]["time_in_stage_median_s"]) == 17.5
    assert funnel["Opportunity Qualified"]["time_in_stage_count"] == 4


def test_stalls_and_value_at_stake(report: dict[str, Any]) -> None:
    assert report["stalls"] == [
        dict(stage="Opportunity Qualified", open_cases=1, open_amount=10000.0,
             age_median_s=9.0 * DAY, stalled_cases=0, stalled_amount=0.0),
        dict(stage="Requirements Gathered", open_cases=1, open_amount=40000.0,
             age_median_s=54.0 * DAY, stalled_cases=1, stalled_amount=40000.0),
    ]
    assert report["value_at_stake"] == dict(
        stall_threshold_days=30.0, open_amount=50000.0, stalled_open_cases=1,
        stalled_open_amount=40000.0, lost_amount=20000.0,
        lost_amount_by_stage={"Quote Issued": 20000.0},
    )


def test_discount_effectiveness(report: dict[str, Any]) -> None:
    d = report["discounts"]
    assert (d["discounted_cases"], d["share_above_policy"]) == (5, 0.4)
    assert [b["group"] for b in d["bands"]] == ["< 5%", "5% – 10%", "10% – 20%", "20% – 30%", "≥ 30%"]
    assert [b["win_rate"] for b in d["bands"]] == [1.0, 0.0, 1.0, 1.0, None]
    owners = {o["group"]: o for o in d["owners"]}
    assert owners["Bob"]["discount_mean"] == 0.125
    assert in_days(owners["Bob"]["sales_cycle_median_s"]) == 29.5
    assert owners["Ann"]["win_rate"] == 0.5 and owners["Ann"]["amount_mean"] == 60000.0


def test_freshness(events: ir.Table) -> None:
    fresh = kpis(events, now=NOW).freshness
    assert fresh.newest_update == "2024-03-06T00:00:00Z"
    assert fresh.oldest_update == "2024-03-01T00:00:00Z"
    assert fresh.age_hours == 24.0
    assert fresh.events_without_update == 1


def test_slices_by_attribute_and_amount_band(events: ir.Table) -> None:
    by_region = kpis(events, by="SalesRegion", now=NOW).to_dict()
    seg = {s["segment"]: s for s in by_region["segments"]}
    assert list(seg) == ["APAC", "EMEA", "North America"]
    assert (seg["EMEA"]["win_rate"], seg["North America"]["win_rate"]) == (0.5, 1.0)
    assert seg["APAC"]["win_rate"] is None and seg["APAC"]["open"] == 2
    assert seg["North America"]["late_payment_rate"] == 1.0
    assert by_region["win_rate"] == 0.75  # overall stays at the top level
    banded = kpis(events, amount_bands=[25000, 60000], now=NOW).to_dict()
    cases = {s["segment"]: s["cases"] for s in banded["segments"]}
    assert cases == {"< 25,000": 2, "25,000 – 60,000": 3, "≥ 60,000": 1}
    both = kpis(events, by="LeadSource", amount_bands=[25000], now=NOW).to_dict()
    names = [s["segment"] for s in both["segments"]]
    assert names[0] == "Cold Call / ≥ 25,000" and "Website / < 25,000" in names


def test_options_change_thresholds(events: ir.Table) -> None:
    r = kpis(events, options=KpiOptions(stall_days=5, discount_policy=0.05), now=NOW).to_dict()
    assert r["value_at_stake"]["stalled_open_cases"] == 2
    assert r["discounts"]["share_above_policy"] == 0.6


def test_working_time_uses_the_calendar(events: ir.Table) -> None:
    cal = CalendarSet(BUILTIN_CALENDARS["default"], {"EMEA": BUILTIN_CALENDARS["de"]})
    r = kpis(events, calendar=cal, now=NOW).to_dict()
    # Hand-offs: C1 (EMEA, Berlin) Thu 00:00 -> 12:00 UTC is 09:00-13:00 local = 4 h;
    # C2 Sun -> Mon 00:00 UTC = 0 h; C4 Fri 00:00 -> Sat 00:00 = 8 h.
    assert in_hours(r["handoff_median_s"]) == 4.0
    assert in_hours(r["handoff_mean_s"]) == 4.0
    assert r["time"] == "working (default)"
    # Sales cycles in working days of 8 h equal numpy's business-day count here (midnight to midnight).
    starts = np.array(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01"], dtype="datetime64[us]")
    ends = np.array(["2024-01-11", "2024-01-21", "2024-01-31", "2024-02-09"], dtype="datetime64[us]")
    regions = np.array(["EMEA", "North America", "EMEA", "North America"], dtype=object)
    days = working_seconds(starts, ends, cal, regions) / (8 * 3600)
    assert r["day_s"] == 8 * 3600  # a working day of the default calendar
    assert r["sales_cycle_mean_s"] / r["day_s"] == pytest.approx(days.mean())
    assert days.tolist() == [7.0, 15.0, 21.0, 29.0]  # Berlin: Jan 1 is a holiday


def test_unknown_slice_column(events: ir.Table) -> None:
    with pytest.raises(Lead2CashError, match="cannot slice by 'Region'"):
        kpis(events, by="Region")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Net 30", DueRule("invoice", 30)),
        ("NET60", DueRule("invoice", 60)),
        ("2% 10, Net 30", DueRule("invoice", 30)),
        ("Due on Receipt", DueRule("invoice", 0)),
        ("50% upfront / 50% on delivery", DueRule("delivery", 0)),
        ("Payable within 45 days", DueRule("invoice", 45)),
        ("Cash on delivery", DueRule("delivery", 0)),
        ("to be agreed", None),
        (None, None),
    ],
)
def test_parse_payment_terms(text: str | None, rule: DueRule | None) -> None:
    assert parse_terms(text) == rule


def test_unparsed_terms_are_reported(workspace: Workspace) -> None:
    write_log(workspace)
    with workspace.transaction() as con:
        con.execute("UPDATE events SET PaymentTerms = 'see contract' WHERE SalesOpportunityId = 'C1'")
    r = kpis(ibis.duckdb.from_connection(workspace.con).table("events"), now=NOW).to_dict()
    assert r["unparsed_terms"] == ["see contract"]
    assert r["paid_with_terms"] == 2 and r["late_payment_rate"] == 1.0


def test_cli_json_table_and_bad_bands(workspace: Workspace) -> None:
    from typer.testing import CliRunner

    from lead2cash.cli import app
    from lead2cash.mining import derived

    write_log(workspace)
    with workspace.transaction() as con:
        derived.derive(con)
    db = str(workspace.path)
    workspace.close()
    runner = CliRunner()
    out = runner.invoke(app, ["mine", "kpis", "--db", db, "--json", "--by", "SalesRegion",
                              "--working-time", "default", "-f", "SalesRegion != 'APAC'"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["cases"] == 4 and data["win_rate"] == 0.75
    assert [s["segment"] for s in data["segments"]] == ["EMEA", "North America"]
    assert data["time"] == "working (default)"
    table = runner.invoke(app, ["mine", "kpis", "--db", db, "--amount-bands", "25000,60000"])
    assert table.exit_code == 0 and "Funnel" in table.stdout and "Value at stake" in table.stdout
    bad = runner.invoke(app, ["mine", "kpis", "--db", db, "--amount-bands", "10k"])
    assert bad.exit_code != 0 and "not a list of numbers" in str(bad.exception)
    # A calendar file per region: EMEA (Berlin) hand-off of C1 is 4 working hours.
    toml = workspace.path.parent / "cal.toml"
    toml.write_text('[regions.EMEA]\nextends = "de"\n', encoding="utf-8")
    emea = runner.invoke(app, ["mine", "kpis", "--db", db, "--json", "--working-time", str(toml),
                               "-f", "SalesRegion = 'EMEA'"])
    assert json.loads(emea.stdout)["handoff_median_s"] == 4 * 3600.0
    toml.write_text('hours = ["9-17"]\n', encoding="utf-8")
    wrong = runner.invoke(app, ["mine", "kpis", "--db", db, "--working-time", str(toml)])
    assert wrong.exit_code != 0 and "column 'hours'" in str(wrong.exception)


@pytest.mark.parametrize(("event_id", "won"), [(-1, 3), (10_000, 4)])
def test_ties_between_closing_events_follow_event_id(
    workspace: Workspace, event_id: int, won: int
) -> None:
    write_log(workspace)
    with workspace.transaction() as con:
        con.execute(
            "INSERT INTO events (event_id, SalesOpportunityId, ActivityName, EventTime, event_type) "
            "VALUES (?, 'C3', 'Opportunity Won', TIMESTAMP '2024-01-31', 'explicit')", [event_id])
    r = kpis(ibis.duckdb.from_connection(workspace.con).table("events"), now=NOW).to_dict()
    assert r["won"] == won and r["won"] + r["lost"] == 4


def test_stage_history_regressions_and_current_stage(workspace: Workspace) -> None:
    write_log(workspace)
    with workspace.transaction() as con:
        con.execute("UPDATE events SET SalesStage = 'Qualification' WHERE ActivityName = "
                    "'Opportunity Qualified' AND SalesOpportunityId IN ('C3', 'C6')")
        add = ("INSERT INTO events (event_id, SalesOpportunityId, ActivityName, EventTime, "
               "SalesStage, OpportunityAmount, event_type) "
               "VALUES (?, ?, 'Opportunity Stage Changed', ?, ?, ?, 'explicit')")
        # C6 moves on to Needs Analysis, then back to Qualification: a regression; it is open
        # and now sits in the CRM stage 'Qualification' since Feb 28 (7 days before as-of).
        con.execute(add, [2001, "C6", datetime(2024, 2, 27), "Needs Analysis", 10000.0])
        con.execute(add, [2002, "C6", datetime(2024, 2, 28), "Qualification", 10000.0])
        # C3 re-enters Qualification after it was lost: not a regression.
        con.execute(add, [2003, "C3", datetime(2024, 2, 1), "Qualification", 20000.0])
    r = kpis(ibis.duckdb.from_connection(con).table("events"), now=NOW).to_dict()
    assert r["regressed_cases"] == 2  # C5 (activity order) and C6 (stage history)
    stalls = {s["stage"]: s for s in r["stalls"]}
    assert stalls["Qualification"]["age_median_s"] / DAY == 7.0
    assert stalls["Requirements Gathered"]["open_cases"] == 1
    assert r["value_at_stake"]["lost_amount_by_stage"] == {"Qualification": 20000.0}


def test_no_cases_gives_empty_answers(events: ir.Table) -> None:
    none = events.filter(events.SalesRegion == "Mars")
    r = kpis(none, by="SalesRegion", amount_bands=[5], calendar=CalendarSet(BUILTIN_CALENDARS["us"]))
    d = r.to_dict()
    assert (d["cases"], d["win_rate"], in_days(d["sales_cycle_median_s"]), d["segments"]) == (0, None, None, [])
    assert d["stalls"] == [] and d["funnel"][0]["cases_reached"] == 0 and r.as_of is None
