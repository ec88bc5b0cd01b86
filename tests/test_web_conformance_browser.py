"""The Conformance and Drivers views in a real browser (Playwright driving Debian's chromium)
on the simulated company with deviations: each view shows the numbers `lead2cash mine
conformance --json` / `mine drivers --json` give on the same filter, the map marks the
deviating activities, a rule's count opens exactly its breaking cases, and no request leaves
the server. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_web_browser import SHOTS, Watched, browser, text_of  # noqa: F401 - the fixture
from web_support import cli_json, running_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(deviating_db: Path) -> Iterator[str]:
    with running_server(deviating_db) as base:
        yield base


@pytest.fixture
def web(browser: Any, server: str) -> Iterator[Watched]:  # noqa: F811
    w = Watched(browser, server)
    yield w
    w.close()


def test_conformance_and_drivers_views_show_the_cli_numbers(web: Watched, deviating_db: Path) -> None:
    db, emea = str(deviating_db), "SalesRegion = 'EMEA'"
    rules = cli_json("mine", "conformance", "--db", db, "-f", emea)
    replay = cli_json("mine", "conformance", "--method", "replay", "--db", db, "-f", emea)
    lost = cli_json("mine", "drivers", "--target", "lost", "--db", db, "-f", emea)
    SHOTS.mkdir(parents=True, exist_ok=True)

    page = web.goto("/conformance?region=EMEA")
    assert page.locator('[data-nav="conformance"].active').count() == 1
    assert text_of(page, '[data-kpi="violating_cases"] .card-value') == f"{rules['violating_cases']:,}"
    assert text_of(page, '[data-kpi="log_fitness"] .card-value') == f"{replay['log_fitness']:.4f}"
    assert text_of(page, '[data-kpi="perc_fit_traces"] .card-value') == f"{replay['perc_fit_traces']:.1f} %"
    shown = {r: page.locator(f'#t-rules tr[data-rule="{r}"] td').nth(3).inner_text()
             for r in (x["id"] for x in rules["rules"])}
    assert shown == {x["id"]: f"{x['violating_cases']:,}" for x in rules["rules"]}
    page.wait_for_selector("#conformance-map[data-rendered='1']")
    marked = page.locator("#conformance-map").get_attribute("data-marked")
    deviating = sorted(a["activity"] for a in replay["activities"] if a["deviating_events"])
    assert marked.split("|") == deviating
    page.screenshot(path=str(SHOTS / "conformance.png"), full_page=True)

    worst = max(rules["rules"], key=lambda x: x["violating_cases"])
    assert worst["violating_cases"] > 0
    page.locator(f'#t-rules tr[data-rule="{worst["id"]}"] [data-cases-link]').click()
    page.wait_for_load_state("networkidle")
    assert "breaks=" in page.url and "region=EMEA" in page.url
    listed = page.locator("[data-testid='case-list']").get_attribute("data-total")
    assert listed == str(worst["violating_cases"])

    page = web.goto("/drivers?region=EMEA&target=lost")
    assert page.locator('[data-nav="drivers"].active').count() == 1
    assert text_of(page, '[data-kpi="target_cases"] .card-value') == f"{lost['target_cases']:,}"
    rows = page.locator("#t-drivers tbody tr[data-driver]")
    assert rows.count() == len(lost["drivers"]) > 0
    first = lost["drivers"][0]
    assert rows.first.get_attribute("data-driver") == f"{first['feature']}={first['value']}"
    assert rows.first.locator("td").nth(5).inner_text() == f"{first['lift']:.2f}"
    page.select_option("#driver-target", "late-payment")
    page.locator("form.compare-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    late = cli_json("mine", "drivers", "--target", "late-payment", "--db", db, "-f", emea)
    assert "target=late-payment" in page.url
    assert text_of(page, '[data-kpi="target_cases"] .card-value') == f"{late['target_cases']:,}"
    page.screenshot(path=str(SHOTS / "drivers.png"), full_page=True)
