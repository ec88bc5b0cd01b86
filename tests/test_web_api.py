"""The dashboard's JSON API and pages on a simulated company's workspace (FastAPI TestClient):
every endpoint answers, the numbers equal `lead2cash mine ... --json` on the same filter, every
case set counts what its KPI counts, bad parameters get readable messages, nothing is written."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_support import cli_json, get, without_volatile

from lead2cash.app.figures import HEADLINES
from lead2cash.app.scope import Scope
from lead2cash.app.views import Dashboard
from lead2cash.web import create_app
from lead2cash.web.pages import NAV

SCOPE = {"region": "EMEA", "amount": "10k-50k"}
FILTERS = ["SalesRegion = 'EMEA'", "OpportunityAmount >= 10000", "OpportunityAmount < 50000"]


def test_scope_writes_the_filter_language() -> None:
    scope = Scope.from_params(SCOPE)
    assert scope.filter_texts() == FILTERS
    assert Scope.from_params({"start": "2024-01-01", "end": "2024-07-01", "outcome": "won"}).filter_texts() == [
        "started from 2024-01-01 to 2024-07-01", "outcome = 'Won'"]


@pytest.mark.parametrize("scoped", [False, True])
def test_kpis_equal_the_cli(client: TestClient, company_db: Path, scoped: bool) -> None:
    params = SCOPE if scoped else {}
    args = [x for f in (FILTERS if scoped else []) for x in ("-f", f)]
    api = get(client, "/api/kpis", **params)
    cli = cli_json("mine", "kpis", "--db", str(company_db), *args)
    assert without_volatile(api) == without_volatile(cli)
    assert api["cases"] > 0


def test_map_variants_performance_equal_the_cli(client: TestClient, company_db: Path) -> None:
    db, args = str(company_db), [x for f in FILTERS for x in ("-f", f)]
    api_map = get(client, "/api/map", activities=0.8, paths=0.4, **SCOPE)
    assert (api_map.pop("time"), api_map.pop("day_s")) == ("calendar", 86400.0)
    assert api_map == cli_json("mine", "dfg", "--db", db, "--activities", "0.8", "--paths", "0.4", *args)
    assert get(client, "/api/variants", top=20, **SCOPE) == cli_json(
        "mine", "variants", "--db", db, "--top", "20", *args)
    assert get(client, "/api/performance", **SCOPE) == cli_json("mine", "performance", "--db", db, *args)
    quality, check = get(client, "/api/quality"), cli_json("check", "--db", db, codes=(0, 1, 2))
    for report in (quality, check):  # the data's age is measured against the clock
        report["findings"] = [f for f in report["findings"] if f["rule"] != "data-age"]
    assert quality == check


def test_compare_shows_each_segments_kpis(client: TestClient, company_db: Path) -> None:
    """The compare view's figures are the KPIs `mine kpis` prints for each segment's filter."""
    view = get(client, "/api/compare", **SCOPE)
    for side, condition in (("a", "outcome = 'Won'"), ("b", "outcome = 'Lost'")):
        args = [x for f in [*FILTERS, condition] for x in ("-f", f)]
        cli = cli_json("mine", "kpis", "--db", str(company_db), *args)
        assert view[side]["kpis"] == {h.key: h.value(cli) for h in HEADLINES}, side
        assert view[side]["kpis"]["cases"] > 0


def _terminal(client: TestClient, path: str, **params: Any) -> list[list[str]]:
    """The command lines a page's footer names, as argument lists after `lead2cash`."""
    import re
    import shlex

    r = client.get(path, params=params)
    assert r.status_code == 200, (path, r.text[:300])
    footer = r.text[r.text.index('id="terminal"'):]
    lines = [shlex.split(html.unescape(c)) for c in re.findall(r"<code>(.*?)</code>", footer)]
    assert lines and all(line[0] == "lead2cash" for line in lines), lines
    return [line[1:] for line in lines]


def test_each_page_names_the_commands_giving_its_numbers(client: TestClient) -> None:
    """Run the footer's commands: they print the numbers the page shows (the map page names
    `mine dfg` with its shares, not `mine kpis`; compare names each segment's KPIs and map)."""
    (kpis,) = _terminal(client, "/", **SCOPE)
    assert kpis[:2] == ["mine", "kpis"]
    assert without_volatile(cli_json(*kpis)) == without_volatile(get(client, "/api/kpis", **SCOPE))
    (dfg,) = _terminal(client, "/map", activities=0.8, paths=0.4, **SCOPE)
    assert dfg[:2] == ["mine", "dfg"] and "--paths" in dfg and "--activities" in dfg
    api_map = get(client, "/api/map", activities=0.8, paths=0.4, **SCOPE)
    assert cli_json(*dfg) == {k: v for k, v in api_map.items() if k not in ("time", "day_s")}
    (top,) = _terminal(client, "/variants", **SCOPE)
    assert top[:2] == ["mine", "variants"]
    assert cli_json(*top) == get(client, "/api/variants", top=int(top[top.index("--top") + 1]), **SCOPE)
    view = get(client, "/api/compare", **SCOPE)
    lines = _terminal(client, "/compare", **SCOPE)
    assert [line[1] for line in lines] == ["kpis", "kpis", "dfg", "dfg"]
    for side, k, m in (("a", lines[0], lines[2]), ("b", lines[1], lines[3])):
        assert {h.key: h.value(cli_json(*k)) for h in HEADLINES} == view[side]["kpis"], side
        assert cli_json(*m) == {x: v for x, v in view[side]["map"].items() if x not in ("time", "day_s")}
    assert _terminal(client, "/quality")[0][0] == "check"


def test_each_filter_is_selected_once(company_db: Path) -> None:
    """A scope's cases are selected once per filter and shared by every view: the compare
    view's segments and a clicked edge select only their own new condition."""
    d = Dashboard(company_db)
    try:
        scope = Scope.from_params(SCOPE)
        d.overview(scope), d.process_map(scope, 1.0, 0.4), d.variants(scope, 30)
        d.order_to_cash(scope), d.animation(scope), d.cases(scope, "late")
        assert d.selection.selected == len(FILTERS)
        d.compare(scope, "outcome = 'Won'", "outcome = 'Lost'")
        d.cases(scope.with_condition("follows 'Quote Issued' -> 'Quote Accepted'"))
        assert d.selection.selected == len(FILTERS) + 3
        mask = d.selection.mask(scope.filters())
        assert mask is not None and 0 < mask.sum() == d.kpis(scope)["cases"]
    finally:
        d.close()


def test_every_json_endpoint_answers(client: TestClient) -> None:
    overview = get(client, "/api/overview", **SCOPE)
    assert [c["key"] for c in overview["cards"]][:3] == ["cases", "events", "win_rate"]
    assert sum(overview["weekly"]["started"]) == overview["cards"][0]["value"]
    assert overview["freshness"]["stale"] is True  # the simulated extract is from the past
    funnel = get(client, "/api/funnel", **SCOPE)
    assert funnel["funnel"][0]["cases_reached"] <= overview["cards"][0]["value"]
    assert get(client, "/api/discounts", **SCOPE)["policy_threshold"] == 0.2
    o2c = get(client, "/api/o2c", **SCOPE)
    assert [t["name"] for t in o2c["transitions"]] == ["handoff", "fulfilment", "fulfilment_to_invoice", "dso"]
    assert sum(g["late_cases"] for g in o2c["by_region"]) == o2c["late_cases"]
    compare = get(client, "/api/compare")
    assert compare["a"]["kpis"]["win_rate"] == 1.0 and compare["b"]["kpis"]["win_rate"] == 0.0
    assert compare["delta"]["cases"] == compare["b"]["kpis"]["cases"] - compare["a"]["kpis"]["cases"]
    anim = get(client, "/api/animation", limit=50, **SCOPE)
    assert 0 < len(anim["cases"]) <= 50 and all(c["events"] for c in anim["cases"])
    assert set(get(client, "/api/choices")) == {"region", "owner", "source", "product", "type"}
    assert get(client, "/api/scope", **SCOPE)["filters"] == FILTERS
    assert get(client, "/api/health")["ok"] is True
    working = get(client, "/api/map", time="working", paths=0.3, **SCOPE)
    assert working["time"] == "working (default)" and working["day_s"] == 8 * 3600
    calendar = get(client, "/api/map", paths=0.3, **SCOPE)
    assert [e["cases"] for e in working["edges"]] == [e["cases"] for e in calendar["edges"]]
    assert working["edges"][0]["duration_mean_s"] != calendar["edges"][0]["duration_mean_s"]


def test_case_sets_count_what_the_kpis_count(client: TestClient) -> None:
    k = get(client, "/api/kpis", **SCOPE)
    expected = {
        "all": k["cases"], "won": k["won"], "lost": k["lost"], "open": k["open"],
        "reopened": k["reopened_cases"], "ever_closed": k["ever_closed_cases"],
        "regressed": k["regressed_cases"], "stalled": k["value_at_stake"]["stalled_open_cases"],
        "late": k["late_cases"], "paid": k["paid_cases"], "overdue": k["overdue_open_cases"],
        "measured:handoff": k["handoff_count"], "discounted": k["discounts"]["discounted_cases"], "measured:dso": k["dso_count"],
        **{f"reached:{s['stage']}": s["cases_reached"] for s in k["funnel"]},
        **{f"stage:{s['stage']}": s["open_cases"] for s in k["stalls"]},
        **{f"stalled:{s['stage']}": s["stalled_cases"] for s in k["stalls"]},
        **{f"band:{g['group']}": g["cases"] for g in k["discounts"]["bands"]},
        **{f"owner:{g['group']}": g["cases"] for g in k["discounts"]["owners"]},
    }
    o2c = get(client, "/api/o2c", **SCOPE)
    for attr, key in (("PaymentTerms", "by_terms"), ("SalesRegion", "by_region"), ("CustomerName", "by_customer")):
        for g in o2c[key]:
            expected |= {f"late@{attr}={g['group']}": g["late_cases"],
                         f"overdue@{attr}={g['group']}": g["overdue_open_cases"],
                         f"paid_with_terms@{attr}={g['group']}": g["paid_with_terms"]}
    for name, count in expected.items():
        assert get(client, "/api/cases", set=name, limit=1, **SCOPE)["total"] == count, name


def test_map_clicks_list_the_cases_behind_them(client: TestClient) -> None:
    pm = get(client, "/api/map", **SCOPE)
    edge, act = pm["edges"][0], pm["activities"][0]
    follows = get(client, "/api/cases", follows=edge["source"], to=edge["target"], **SCOPE)
    assert follows["total"] == edge["cases"]
    assert get(client, "/api/cases", has=act["activity"], **SCOPE)["total"] == act["cases"]
    v = get(client, "/api/variants", top=3, **SCOPE)["variants"][0]
    import json as _json
    assert get(client, "/api/cases", variant=_json.dumps(v["activities"]), **SCOPE)["total"] == v["cases"]


def test_case_list_csv_and_explorer(client: TestClient) -> None:
    page = get(client, "/api/cases", set="won", limit=5, **SCOPE)
    csv = client.get("/api/cases.csv", params={"set": "won", **SCOPE})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == page["total"] + 1
    case_id, customer = page["rows"][0][0], page["rows"][0][1]
    assert any(r["case"] == case_id for r in get(client, "/api/search", text=case_id[-8:]))
    assert any(r["customer"] == customer for r in get(client, "/api/search", text=customer.lower()))
    case = get(client, "/api/case", id=case_id)
    times = [e["EventTime"] for e in case["events"]]
    assert times == sorted(times) and all(e["source_record"] and e["SourceSystem"] for e in case["events"])


@pytest.mark.parametrize(("params", "message"), [
    ({"q": "SalesRegion = "}, "expected a value"),
    ({"q": "Nope = 'x'"}, "no such attribute"),
    ({"start": "2024-13-01"}, "is not a date"),
    ({"outcome": "maybe"}, "outcome 'maybe' is not known"),
    ({"paths": "abc"}, "paths"),
    ({"paths": "7"}, "out of range"),
])
def test_bad_parameters_get_readable_messages(client: TestClient, params: dict[str, str], message: str) -> None:
    api = client.get("/api/map", params=params)
    assert api.status_code == 400 and message in api.json()["error"]
    page = client.get("/map", params=params)
    assert page.status_code == 400 and message in html.unescape(page.text) and "Traceback" not in page.text
    assert 'data-testid="error"' in page.text


def test_every_page_renders_with_the_scope(client: TestClient) -> None:
    for path, key, _ in NAV:
        r = client.get(path, params=SCOPE)
        assert r.status_code == 200, (path, r.text[:300])
        assert f'data-nav="{key}"' in r.text and "region=EMEA" in r.text  # links keep the scope
    for path in ("/cases?set=late", "/explorer?text=a", "/fragments/cases?has=Quote%20Issued",
                 "/fragments/search?text=0"):
        assert client.get(path).status_code == 200, path


def test_nothing_is_written(company_db: Path, dashboard: Dashboard) -> None:
    before = hashlib.sha256(company_db.read_bytes()).hexdigest()
    client = TestClient(create_app(dashboard))
    for path, _, _ in NAV:
        client.get(path, params={"region": "APAC"})
    client.get("/api/animation")
    assert hashlib.sha256(company_db.read_bytes()).hexdigest() == before
    assert all(r.methods <= {"GET", "HEAD"} for r in client.app.routes if hasattr(r, "methods"))
