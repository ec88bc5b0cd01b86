"""The served dashboard as a user meets it: the real `lead2cash serve` process, its safety rules
(loopback by default, a token for anything else, 401 without it), its assets (nothing from
another host), the report file, and `lead2cash demo` ending on the dashboard."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from web_support import free_port, running_server

from lead2cash.app.views import Dashboard
from lead2cash.errors import Lead2CashError
from lead2cash.web import check_bind, create_app
from lead2cash.web.app import STATIC, TEMPLATES
from lead2cash.web.report import render_report

OUTSIDE = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")
SVG_NAMESPACE = "http://www.w3.org"  # xmlns of the SVG the map exports; never loaded
LOADS = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|"""
                   r"""(?:fetch|import)\(\s*["'](?:https?:)?//""", re.IGNORECASE)


def test_no_template_or_asset_names_an_outside_url() -> None:
    own = [*TEMPLATES.glob("*.html"), *STATIC.glob("*.js"), *STATIC.glob("*.css"), *STATIC.glob("*.svg")]
    assert len(own) > 10
    for path in own:
        text = path.read_text(encoding="utf-8")
        urls = [m.group(0) for m in OUTSIDE.finditer(text)]
        assert all(u == SVG_NAMESPACE for u in urls), (path.name, urls)
    vendor = list((STATIC / "vendor").glob("*.js"))
    assert {p.name for p in vendor} == {"htmx.min.js", "cytoscape.min.js", "cytoscape-dagre.min.js", "echarts.min.js"}
    for path in vendor:  # licence comments name their homes; nothing may load from them
        assert not LOADS.search(path.read_text(encoding="utf-8")), path.name


def test_vendored_files_match_the_lock_file() -> None:
    import json

    lock = json.loads((Path(__file__).parents[1] / "frontend" / "package-lock.json").read_text())
    versions = {k.split("node_modules/")[-1]: v["version"] for k, v in lock["packages"].items() if k}
    licences = (STATIC / "vendor" / "LICENSES.txt").read_text(encoding="utf-8")
    for pkg in ("htmx.org", "cytoscape", "cytoscape-dagre", "echarts"):
        assert f"== {pkg} {versions[pkg]} " in licences, pkg


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_non_loopback_needs_a_token(host: str) -> None:
    with pytest.raises(Lead2CashError, match="without a token"):
        check_bind(host, None)
    check_bind(host, "a-long-enough-token")
    for loopback in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_bind(loopback, None)


def test_serve_refuses_a_public_address_without_a_token(company_db: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LEAD2CASH_TOKEN"}
    proc = subprocess.run([sys.executable, "-m", "lead2cash", "serve", "--db", str(company_db),
                           "--host", "0.0.0.0", "--port", str(free_port())],
                          check=False, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "without a token" in proc.stderr and "Traceback" not in proc.stderr


def test_token_is_required_on_every_request(company_db: Path) -> None:
    dash = Dashboard(company_db)
    try:
        client = TestClient(create_app(dash, token="s3cret-token-123"))
        for path in ("/", "/api/kpis", "/static/app.css", "/api/health"):
            assert client.get(path).status_code == 401, path
        assert client.get("/api/health", headers={"Authorization": "Bearer wrong-token-000"}).status_code == 401
        assert client.get("/api/health", headers={"Authorization": "Bearer s3cret-token-123"}).status_code == 200
        first = client.get("/", params={"token": "s3cret-token-123"})
        assert first.status_code == 200 and "lead2cash_token" in first.headers["set-cookie"]
        assert client.get("/map").status_code == 200  # the cookie carries it from then on
    finally:
        dash.close()


def test_real_server_with_a_token(company_db: Path) -> None:
    with running_server(company_db, env={"LEAD2CASH_TOKEN": "env-token-4567"}) as base:
        assert httpx.get(base + "/api/kpis", timeout=60).status_code == 401
        r = httpx.get(base + "/api/kpis", headers={"Authorization": "Bearer env-token-4567"}, timeout=60)
        assert r.status_code == 200 and r.json()["cases"] == 600


def test_real_server_answers_concurrent_requests(company_db: Path) -> None:
    import concurrent.futures as cf

    paths = ["/", "/map", "/variants", "/funnel", "/discounts", "/o2c", "/quality", "/api/map?paths=0.2",
             "/api/kpis?region=APAC", "/api/variants?top=5&outcome=won"] * 3
    with running_server(company_db) as base, cf.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda p: httpx.get(base + p, timeout=120).status_code, paths))
    assert codes == [200] * len(paths)


def test_report_is_one_offline_file(company_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "lead2cash", "report", str(out), "--db", str(company_db),
                           "-f", "SalesRegion = 'EMEA'"], check=False, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    assert not LOADS.search(html)
    assert "<script src" not in html and "<link rel=\"stylesheet\"" not in html
    for section in ("Overview", "Process map", "Variants", "Funnel", "Discount", "Order to cash"):
        assert section in html
    dash = Dashboard(company_db)
    try:
        with pytest.raises(Lead2CashError, match="character"):
            render_report(dash, ["SalesRegion = "])
    finally:
        dash.close()


@pytest.mark.slow
def test_demo_ends_by_serving_the_dashboard(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lead2cash", "demo", "--cases", "200", "--seed", "2",
                             "--out", str(tmp_path / "demo"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        seen = ""
        deadline = time.monotonic() + 240
        assert proc.stdout is not None
        while time.monotonic() < deadline and "Open the dashboard" not in seen:
            seen += proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", seen)
        assert url, seen[-2000:]
        assert httpx.get(url.group(0), timeout=60).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_bounded_load_has_no_error(company_db: Path) -> None:
    """The load test script itself, small: 8 clients for 8 s over every view (loopback)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from load_dashboard import VIEWS, run

    times, errors = run(company_db, clients=8, seconds=8)
    assert dict(errors) == {}
    assert set(times) == set(VIEWS) and all(times.values())
