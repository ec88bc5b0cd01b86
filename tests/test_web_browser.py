"""The dashboard in a real browser (Playwright driving Debian's chromium) on a simulated company.

Every view renders the numbers `lead2cash mine ... --json` gives on the same filter; the
sliders change the map; clicking an edge lists its cases; a filter changes every view and the
URL; the case explorer finds a case; the animation runs; no request leaves the server (every
request is intercepted and checked). A screenshot of every view is saved under
test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from web_support import cli_json, running_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).parents[1] / "test-artifacts" / "screenshots"
VIEWS = [("/", "overview"), ("/map", "map"), ("/variants", "variants"), ("/funnel", "funnel"),
         ("/discounts", "discounts"), ("/o2c", "o2c"), ("/compare", "compare"),
         ("/explorer", "explorer"), ("/quality", "quality")]


@pytest.fixture(scope="module")
def server(company_db: Path) -> Iterator[str]:
    with running_server(company_db) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (scripts/test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


class Watched:
    """A page whose every request is checked: only the dashboard's own host may be asked."""

    def __init__(self, browser: Any, base: str) -> None:
        self.host = urlparse(base).netloc
        self.base = base
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1440, "height": 1000})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route: Any) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("data", "blob") or url.netloc == self.host:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def goto(self, path: str) -> Any:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def close(self) -> None:
        assert self.outside == [], f"requests left the server: {self.outside}"
        assert self.errors == [], f"script errors: {self.errors}"
        self.context.close()


@pytest.fixture
def web(browser: Any, server: str) -> Iterator[Watched]:
    w = Watched(browser, server)
    yield w
    w.close()


def text_of(page: Any, selector: str) -> str:
    return " ".join(page.locator(selector).first.inner_text().split())


def test_every_view_renders_the_cli_numbers(web: Watched, company_db: Path) -> None:
    db = str(company_db)
    kpis = cli_json("mine", "kpis", "--db", db, "-f", "SalesRegion = 'EMEA'")
    variants = cli_json("mine", "variants", "--db", db, "--top", "30", "-f", "SalesRegion = 'EMEA'")
    dfg = cli_json("mine", "dfg", "--db", db, "--paths", "0.4", "-f", "SalesRegion = 'EMEA'")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path, name in VIEWS:
        page = web.goto(f"{path}?region=EMEA")
        assert page.locator(f'[data-nav="{name}"].active').count() == 1
        if name == "overview":
            assert text_of(page, '[data-kpi="cases"] .card-value') == f"{kpis['cases']:,}"
            assert text_of(page, '[data-kpi="win_rate"] .card-value') == f"{kpis['win_rate']:.1%}"
            assert text_of(page, '[data-kpi="sales_cycle_median_s"] .card-value') == \
                f"{kpis['sales_cycle_median_s'] / 86400:,.1f} d"
            page.wait_for_selector("#weekly[data-ready='1'] svg")
        elif name == "map":
            page.wait_for_selector("#map[data-rendered='1']")
            assert page.locator("#map").get_attribute("data-edges") == str(len(dfg["edges"]))
        elif name == "variants":
            first = page.locator("#t-variants tbody tr").first
            assert first.locator("[data-cases-link]").inner_text() == f"{variants['variants'][0]['cases']:,}"
            assert first.locator(".act").all_inner_texts() == variants["variants"][0]["activities"]
        elif name == "funnel":
            reached = page.locator("#t-funnel [data-cases-link]").all_inner_texts()
            assert reached == [f"{s['cases_reached']:,}" for s in kpis["funnel"]]
        elif name == "discounts":
            counts = page.locator("#t-bands [data-cases-link]").all_inner_texts()
            assert counts == [f"{g['cases']:,}" for g in kpis["discounts"]["bands"]]
        elif name == "o2c":
            assert text_of(page, '[data-kpi="late_payment_rate"] .card-value') == f"{kpis['late_payment_rate']:.1%}"
        elif name == "compare":
            page.wait_for_selector("#map-a canvas")
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sliders_change_the_map(web: Watched) -> None:
    page = web.goto("/map?paths=1")
    page.wait_for_selector("#map[data-rendered='1']")
    full = int(page.locator("#map").get_attribute("data-edges"))
    page.locator("#paths").evaluate("(el) => { el.value = 10; el.dispatchEvent(new Event('input')); }")
    page.wait_for_function(f"document.querySelector('#map').dataset.edges != '{full}'")
    fewer = int(page.locator("#map").get_attribute("data-edges"))
    assert fewer < full and "paths=0.1" in page.url
    page.locator("#activities").evaluate("(el) => { el.value = 40; el.dispatchEvent(new Event('input')); }")
    page.wait_for_function("document.querySelector('#map').dataset.nodes < 10")
    page.locator('[data-view="performance"]').click()
    assert page.locator("#measure option").first.inner_text() == "median duration"


def test_map_labels_its_paths_and_explains_itself(web: Watched) -> None:
    """Every path carries its number (frequency, then duration in the performance view), the
    legend names the measure, and each activity's text is readable on its box."""
    page = web.goto("/map?paths=0.4")
    page.wait_for_selector("#map[data-rendered='1']")
    labels = page.evaluate("() => L2C.cy.edges('[!virtual]').map((e) => e.style('label'))")
    assert labels and all(label.replace(",", "").isdigit() for label in labels), labels
    assert "case frequency" in page.locator("#map-legend").inner_text()
    contrast = page.evaluate("""() => L2C.cy.nodes('[!virtual]').map((n) => {
        const lum = (css) => { const [r, g, b] = css.match(/\\d+/g).slice(0, 3).map((v) => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
          return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const [a, b] = [lum(n.style('background-color')), lum(n.style('color'))];
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); })""")
    assert contrast and min(contrast) >= 4.5, contrast  # WCAG AA for the activity names
    page.locator('[data-view="performance"]').click()
    page.wait_for_function("document.querySelector('#map-legend').innerText.includes('median duration')")
    labels = page.evaluate("() => L2C.cy.edges('[!virtual]').map((e) => e.style('label'))")
    assert labels and all(any(u in label for u in ("d", "h", "min", "s")) for label in labels), labels


def test_clicking_an_edge_lists_its_cases(web: Watched) -> None:
    page = web.goto("/map?paths=0.3&region=APAC")
    page.wait_for_selector("#map[data-rendered='1']")
    # The busiest real edge, clicked with the mouse at its drawn midpoint.
    edge = page.evaluate("""() => {
        const e = L2C.cy.edges('[!virtual]').filter((x) => !x.isLoop()).max((x) => x.data('cases')).ele;
        const m = e.renderedMidpoint(), box = document.getElementById('map').getBoundingClientRect();
        return {x: box.x + m.x, y: box.y + m.y, cases: e.data('cases'), source: e.data('source'), target: e.data('target')};
    }""")
    page.mouse.click(edge["x"], edge["y"])
    page.wait_for_selector("#detail [data-testid='case-list']")
    assert page.locator("#detail h3").first.inner_text() == f"{edge['source']} → {edge['target']}"
    assert page.locator("#detail [data-testid='case-list']").get_attribute("data-total") == str(edge["cases"])
    assert page.locator("#detail [data-case-id]").count() == min(25, edge["cases"])


def test_a_filter_changes_every_view_and_the_url(web: Watched) -> None:
    page = web.goto("/")
    before = text_of(page, '[data-kpi="cases"] .card-value')
    page.select_option("select[name=region]", "LATAM")
    page.select_option("select[name=outcome]", "won")
    page.locator("#filterbar button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "region=LATAM" in page.url and "outcome=won" in page.url
    after = text_of(page, '[data-kpi="cases"] .card-value')
    assert after != before and text_of(page, '[data-kpi="win_rate"] .card-value') == "100.0%"
    for _, name in VIEWS[1:]:
        page.locator(f'[data-nav="{name}"]').click()
        page.wait_for_load_state("networkidle")
        assert "region=LATAM" in page.url and "outcome=won" in page.url, name
        assert page.locator("select[name=region]").input_value() == "LATAM"
    page.goto(web.base + "/variants?region=LATAM")
    page.locator("[data-select-variant='1']").click()
    page.wait_for_load_state("networkidle")
    assert "variant" in page.url and page.locator("#t-variants tbody tr").count() == 1


def test_case_explorer_finds_a_case(web: Watched) -> None:
    page = web.goto("/cases?set=won")
    wanted = page.locator("[data-case-id]").first.inner_text()
    page = web.goto("/explorer")
    page.locator("#case-search").fill(wanted[-6:])
    page.wait_for_selector(f"#search-results [data-case-id='{wanted}']")
    page.locator(f"#search-results [data-case-id='{wanted}']").click()
    page.wait_for_selector("[data-testid='timeline']")
    assert page.locator("[data-testid='timeline']").get_attribute("data-case") == wanted
    items = page.locator(".timeline li")
    assert items.count() >= 3
    assert re.search(r"Salesforce|SAP", items.first.inner_text())
    page.screenshot(path=str(SHOTS / "explorer-case.png"), full_page=True)


def test_animation_runs(web: Watched) -> None:
    page = web.goto("/map?paths=0.5")
    page.wait_for_selector("#map[data-rendered='1']")
    page.select_option("#anim-speed", "7776000")
    page.locator("#anim-play").click()
    page.wait_for_function("Number(document.querySelector('#anim-clock').dataset.animTime) > 0")
    page.wait_for_function("Number(document.querySelector('#anim-tokens').dataset.tokens) > 0", timeout=20000)
    t1 = int(page.locator("#anim-clock").get_attribute("data-anim-time"))
    page.wait_for_timeout(500)
    assert int(page.locator("#anim-clock").get_attribute("data-anim-time")) != t1
    page.screenshot(path=str(SHOTS / "map-animation.png"))


def test_downloads_tables_charts_and_map(web: Watched) -> None:
    page = web.goto("/funnel")
    with page.expect_download() as d:
        page.locator("[data-export-table='t-funnel']").click()
    assert d.value.suggested_filename == "funnel.csv"
    text = Path(d.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("stage,reached")
    for fmt in ("svg", "png"):
        with page.expect_download() as d:
            page.locator(f"[data-export-chart='funnel-chart'][data-format='{fmt}']").click()
        assert d.value.suggested_filename == f"funnel-chart.{fmt}"
    page = web.goto("/map")
    page.wait_for_selector("#map[data-rendered='1']")
    for button, name in (("#export-svg", "process-map.svg"), ("#export-png", "process-map.png")):
        with page.expect_download() as d:
            page.locator(button).click()
        assert d.value.suggested_filename == name
        assert Path(d.value.path()).stat().st_size > 1000


def test_report_opens_offline(browser: Any, company_db: Path, tmp_path: Path) -> None:
    from lead2cash.app.views import Dashboard
    from lead2cash.web.report import render_report

    dash = Dashboard(company_db)
    try:
        out = tmp_path / "report.html"
        out.write_text(render_report(dash, ["SalesRegion = 'EMEA'"]), encoding="utf-8")
    finally:
        dash.close()
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    asked: list[str] = []
    context.route("**/*", lambda r: (asked.append(r.request.url), r.continue_()
                                     if r.request.url.startswith(("file:", "data:", "blob:")) else r.abort()))
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    page.wait_for_selector("#report-map canvas")
    page.wait_for_selector("#weekly[data-ready='1'] svg")
    assert [u for u in asked if not u.startswith(("file:", "data:", "blob:"))] == [] and errors == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
    context.close()
