"""The dashboard's Conformance and Drivers views (FastAPI TestClient over the simulated
company's DuckDB workspace): their JSON equals `lead2cash mine conformance --json` and
`mine drivers --json` on the same filter, a rule's count links to exactly its breaking cases,
the map marks the activities where the token replay deviates, bad targets get a message."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_support import cli_json, get

from lead2cash.app.views import Dashboard

SCOPE = {"region": "EMEA"}
FILTERS = ["SalesRegion = 'EMEA'"]


@pytest.fixture(scope="module")
def company_db(deviating_db: Path) -> Path:
    """The simulated company with deviations (conftest.py): some rules are broken."""
    return deviating_db


@pytest.mark.parametrize("scoped", [False, True])
def test_conformance_equals_the_cli(client: TestClient, company_db: Path, scoped: bool) -> None:
    params = SCOPE if scoped else {}
    args = ["--db", str(company_db), *[x for f in (FILTERS if scoped else []) for x in ("-f", f)]]
    api = get(client, "/api/conformance", **params)
    assert api["rules"] == cli_json("mine", "conformance", *args)
    assert api["replay"] == cli_json("mine", "conformance", "--method", "replay", *args)
    assert api["rules"]["cases"] > 0 and len(api["rules"]["rules"]) >= 10
    assert 0 < api["replay"]["log_fitness"] <= 1
    if not scoped:
        emea = get(client, "/api/conformance", **SCOPE)
        assert emea["rules"]["cases"] < api["rules"]["cases"]


@pytest.mark.parametrize("target", ["lost", "late-payment", "slow", "order-after-won"])
def test_drivers_equal_the_cli(client: TestClient, company_db: Path, target: str) -> None:
    api = get(client, "/api/drivers", target=target)
    assert api["report"] == cli_json("mine", "drivers", "--target", target, "--db", str(company_db))
    assert {"lost", "late-payment", "slow", "order-after-won"} <= set(api["targets"])
    if target == "lost":
        assert api["report"]["population"] > 0 and api["report"]["drivers"]
        d = api["report"]["drivers"][0]
        assert {"lift", "support", "amount_at_stake", "p_value", "significant"} <= set(d)
    scoped = get(client, "/api/drivers", target=target, **SCOPE)
    assert scoped["report"] == cli_json("mine", "drivers", "--target", target, "--db",
                                        str(company_db), "-f", FILTERS[0])


def test_a_rule_links_to_its_breaking_cases(client: TestClient) -> None:
    rules = get(client, "/api/conformance")["rules"]
    broken = [r for r in rules["rules"] if r["violating_cases"]]
    assert broken, "the simulated company breaks no rule: the link is untested"
    for rule in broken:
        listed = get(client, "/api/cases", breaks=rule["id"], limit=1000)
        assert listed["total"] == rule["violating_cases"], rule["id"]
        assert set(rule["example_cases"]) <= {row[0] for row in listed["rows"]}
    page = client.get("/conformance")
    assert page.status_code == 200
    first = broken[0]
    link = f'/cases?set=all&amp;breaks={first["id"]}'
    assert link in page.text and f'data-count="{first["violating_cases"]}"' in page.text
    cases = client.get("/cases", params={"set": "all", "breaks": first["id"]})
    assert cases.status_code == 200 and f"breaks '{first['id']}'" in html.unescape(cases.text)
    # the same rule as a condition of the filter bar
    scoped = get(client, "/api/kpis", q=f"breaks '{first['id']}'")
    assert scoped["cases"] == first["violating_cases"]


def test_the_map_marks_where_the_replay_deviates(client: TestClient) -> None:
    view = get(client, "/api/conformance")
    replay = {a["activity"]: a for a in view["replay"]["activities"]}
    marked = view["map"]["deviations"]
    assert marked, "no deviation to show"
    for activity, share in marked.items():
        a = replay[activity]
        assert share == a["deviating_events"] / a["events"] > 0
    assert set(marked) == {a for a, x in replay.items() if x["deviating_events"]}
    assert [d["activity"] for d in view["deviations"]] == sorted(
        marked, key=lambda a: (-marked[a], -replay[a]["deviating_events"], a))
    assert view["map"]["activities"]  # the scope's process map itself


def test_pages_render_the_numbers(client: TestClient) -> None:
    view = get(client, "/api/conformance", **SCOPE)
    page = client.get("/conformance", params=SCOPE)
    assert page.status_code == 200 and 'data-nav="conformance"' in page.text
    assert f'{view["replay"]["log_fitness"]:.4f}' in page.text and "region=EMEA" in page.text
    drivers = get(client, "/api/drivers", target="late-payment", **SCOPE)["report"]
    page = client.get("/drivers", params={"target": "late-payment", **SCOPE})
    assert page.status_code == 200 and 'data-nav="drivers"' in page.text
    assert html.unescape(drivers["definition"]) in html.unescape(page.text)
    assert page.text.count("data-driver=") == max(1, len(drivers["drivers"])) or not drivers["drivers"]


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/api/drivers", {"target": "fast"}, "not lost, late-payment, slow or a rule id"),
    ("/drivers", {"target": "fast"}, "not lost, late-payment, slow or a rule id"),
    ("/api/cases", {"breaks": "no-such-rule"}, "no rule 'no-such-rule'"),
    ("/api/conformance", {"paths": "2"}, "out of range"),
])
def test_bad_parameters_get_readable_messages(client: TestClient, path: str,
                                              params: dict[str, str], message: str) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 400 and message in html.unescape(r.text), r.text[:300]
    assert "Traceback" not in r.text


def test_the_report_has_both_views(dashboard: Dashboard, company_db: Path) -> None:
    from lead2cash.web.report import render_report

    text = html.unescape(render_report(dashboard, FILTERS))
    rules = cli_json("mine", "conformance", "--db", str(company_db), "-f", FILTERS[0])
    lost = cli_json("mine", "drivers", "--target", "lost", "--db", str(company_db), "-f", FILTERS[0])
    assert 'id="conformance"' in text and 'id="drivers"' in text
    for r in rules["rules"]:
        assert f'data-rule="{r["id"]}"' in text
    assert text.count("data-driver=") == min(15, len(lost["drivers"]))
    assert '"deviations": {' in text or '"deviations":{' in text  # the map marks them offline too


def test_each_page_names_the_commands_giving_its_numbers(client: TestClient) -> None:
    """The footer's commands, run, print the page's numbers (rules and replay; the drivers of
    the chosen target), with the scope's filters."""
    import re
    import shlex

    def terminal(path: str, **params: Any) -> list[list[str]]:
        r = client.get(path, params=params)
        assert r.status_code == 200, (path, r.text[:300])
        footer = r.text[r.text.index('id="terminal"'):]
        lines = [shlex.split(html.unescape(c)) for c in re.findall(r"<code>(.*?)</code>", footer)]
        assert lines and all(line[0] == "lead2cash" for line in lines), lines
        return [line[1:] for line in lines]

    rules, replay = terminal("/conformance", **SCOPE)
    assert rules[:2] == replay[:2] == ["mine", "conformance"] and "--method" in replay
    api = get(client, "/api/conformance", **SCOPE)
    assert cli_json(*rules) == api["rules"] and cli_json(*replay) == api["replay"]
    (drivers,) = terminal("/drivers", target="slow", **SCOPE)
    assert drivers[:2] == ["mine", "drivers"] and drivers[drivers.index("--target") + 1] == "slow"
    assert cli_json(*drivers) == get(client, "/api/drivers", target="slow", **SCOPE)["report"]
