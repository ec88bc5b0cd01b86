"""The application layer under both faces: stored case facts give the KPIs computed from the
events, units are named, the scope is the filter language, the cache computes once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lead2cash.app.cache import ResultCache
from lead2cash.app.figures import HEADLINES, OVERVIEW
from lead2cash.app.scope import Scope
from lead2cash.app.units import CALENDAR_TIME, TimeBasis, time_basis
from lead2cash.errors import Lead2CashError
from lead2cash.mining import DuckDBEngine, parse_filters
from lead2cash.mining.calendar import load_calendars
from lead2cash.mining.kpis import facts_of, flat_kpis, from_facts, kpi_set, kpis, report
from lead2cash.store import Workspace


def _same(a: dict, b: dict) -> None:
    for d in (a, b):
        d["freshness"] = {k: v for k, v in d["freshness"].items() if k not in ("checked_at", "age_hours")}
    assert a == b


@pytest.mark.parametrize(("filters", "by", "working"), [
    ([], None, False),
    (["SalesRegion = 'EMEA'"], None, False),
    (["has 'Quote Issued'"], "LeadSource", False),
    (["outcome = 'Won'"], "SalesRegion", True),
])
def test_stored_case_facts_give_the_computed_kpis(company_db: Path, filters: list[str], by: str | None,
                                                  working: bool) -> None:
    calendar = load_calendars("de") if working else None
    with Workspace(company_db, read_only=True) as ws, DuckDBEngine(ws) as engine:
        t = engine.tables(parse_filters(filters))
        assert t.case_facts is not None  # stored at load time
        stored = report(engine, parse_filters(filters), by=by, calendar=calendar).to_dict()
        computed = kpis(t.events, by=by, calendar=calendar, steps=t.steps).to_dict()
    _same(stored, computed)


@pytest.mark.parametrize("working", [False, True])
def test_kpis_of_cases_taken_from_the_whole_log_equal_kpis_read_for_them(company_db: Path,
                                                                       working: bool) -> None:
    """The dashboard takes a filter's case facts from the whole log's, in memory, and the
    values that depend on each case alone (durations, due dates, groups) from the whole log's,
    computed once; `mine kpis --filter` reads the filter's facts alone: the same KPIs, also
    per segment and in working time."""
    calendar = load_calendars("de") if working else None
    filters = parse_filters(["SalesRegion = 'EMEA'"])
    with Workspace(company_db, read_only=True) as ws, DuckDBEngine(ws) as engine:
        whole = facts_of(engine.tables(), "LeadSource", calendar=calendar)
        from_facts(whole, calendar=calendar)  # the whole log's per-case values, as at start
        alone = facts_of(engine.tables(filters), "LeadSource", calendar=calendar)
    part = whole.restrict(whole.cases["SalesOpportunityId"].isin(alone.cases["SalesOpportunityId"]))
    assert part.whole is whole and alone.whole is None and 0 < len(part.cases) < len(whole.cases)
    _same(from_facts(part, "LeadSource", calendar=calendar).to_dict(),
          from_facts(alone, "LeadSource", calendar=calendar).to_dict())
    full = kpi_set(part).to_dict()
    nested = ("funnel", "stalls", "discounts", "value_at_stake")
    assert flat_kpis(part) == {k: v for k, v in full.items() if k not in nested}


def test_durations_name_their_unit() -> None:
    assert CALENDAR_TIME.human(9 * 86400 + 3600) == "9d 1h"
    working = time_basis(load_calendars("de"))
    assert working.day_s == 8 * 3600 and working.name == "working (de)"
    assert working.human(27 * 8 * 3600 + 3 * 3600) == "27wd 3h"  # never '9d 3h'
    assert working.unit("d") == "working d (8 h)" and working.short("h") == "wh"
    cycle = next(f for f in HEADLINES if f.key == "sales_cycle_median_s")
    assert cycle.header(working) == "cycle median (wd)" and cycle.format(16 * 3600, working) == "2.0"
    assert cycle.format(2 * 86400, CALENDAR_TIME) == "2.0" and cycle.header(CALENDAR_TIME) == "cycle median (d)"
    open_pipeline = next(f for f in OVERVIEW if f.key == "value_at_stake.open_amount")
    assert open_pipeline.value({"value_at_stake": {"open_amount": 12.5}}) == 12.5
    assert TimeBasis("calendar", 86400).note() == "calendar time"


def test_scope_is_the_filter_language() -> None:
    scope = Scope.from_params({"region": "O'Brien Land", "outcome": "open", "amount": "ge250k",
                               "q": "has 'Quote Issued'", "start": "2024-01-01", "window": "active"})
    assert scope.filter_texts() == ["active from 2024-01-01", "SalesRegion = 'O''Brien Land'", "open",
                                    "OpportunityAmount >= 250000", "has 'Quote Issued'"]
    assert scope.filters() == tuple(parse_filters(scope.filter_texts()))
    assert Scope.from_params(dict(scope.params())) == scope  # the URL round-trips
    assert scope.without("region").region == "" and scope.with_condition("closed").q.endswith("and closed")
    with pytest.raises(Lead2CashError, match="ends .* before it starts"):
        Scope.from_params({"start": "2024-02-01", "end": "2024-01-01"})
    with pytest.raises(Lead2CashError, match="amount band"):
        Scope.from_params({"amount": "huge"})


def test_cache_computes_each_key_once_for_concurrent_askers() -> None:
    cache, calls = ResultCache(2), []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 8 and len(calls) == 1
    with pytest.raises(ZeroDivisionError):
        cache.get("bad", lambda: 1 / 0)
    assert cache.get("bad", lambda: 7) == 7  # errors are not kept
    cache.get("x", lambda: 1)
    cache.get("y", lambda: 2)
    assert cache.get("k", lambda: 0) == 0  # least recently used went first


def test_a_new_version_brings_its_own_selection_of_cases(tmp_path: Path) -> None:
    """The cases each filter keeps are selected per version: after a refresh, a filtered view
    counts the new log's cases (the old version's selection goes with it), and a compare view
    (its sides computed in threads of their own) reads one version throughout."""
    from mining_log import load_frame, synthetic_frame

    from lead2cash.app.views import Dashboard

    scope = Scope.from_params({"region": "EMEA"})
    logs = [synthetic_frame(cases=n, seed=s) for n, s in ((30, 3), (45, 4))]
    expected = [int(f.loc[f["SalesRegion"] == "EMEA", "SalesOpportunityId"].nunique()) for f in logs]
    with Workspace(tmp_path / "ws.duckdb") as writer:
        load_frame(writer, logs[0])
        d = Dashboard(writer.path)
        try:
            first = d.selection
            assert d.kpis(scope)["cases"] == expected[0]
            assert d.compare(scope, "outcome = 'Won'", "")["b"]["kpis"]["cases"] == expected[0]
            load_frame(writer, logs[1])
            assert d.kpis(scope)["cases"] == expected[1]
            assert d.selection is not first and d.selection.selected == 1
            assert d.compare(scope, "outcome = 'Won'", "")["b"]["kpis"]["cases"] == expected[1]
            assert sum(d.process_map(scope, 1.0, 1.0)["start_activities"].values()) == expected[1]
        finally:
            d.close()


def test_late_payments_by_group_add_up_to_the_overall_and_rank_the_top(company_db: Path) -> None:
    """Every case is in one group ('(none)' included), so the groups' counts and amounts add up
    to the overall late payments; `top` keeps the groups with most late, then most overdue,
    then most paid with terms, ties in name order."""
    from lead2cash.mining.kpis_o2c import late_payments, late_payments_by

    with Workspace(company_db, read_only=True) as ws, DuckDBEngine(ws) as engine:
        f = facts_of(engine.tables())
    overall = late_payments(f)
    groups = late_payments_by(f, "CustomerName")
    assert [g.group for g in groups] == sorted(g.group for g in groups)
    for field in ("paid_with_terms", "late_cases", "overdue_open_cases"):
        assert sum(getattr(g, field) for g in groups) == getattr(overall, field) > 0, field
    assert sum(g.overdue_open_amount for g in groups) == pytest.approx(overall.overdue_open_amount)
    late_s = sum(g.late_mean_s * g.late_cases for g in groups if g.late_cases)
    assert late_s == pytest.approx(overall.late_mean_s * overall.late_cases)
    ranked = sorted(groups, key=lambda g: (-g.late_cases, -g.overdue_open_cases, -g.paid_with_terms))
    assert late_payments_by(f, "CustomerName", 7) == ranked[:7]
