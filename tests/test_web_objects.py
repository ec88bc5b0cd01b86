"""The dashboard's Objects page shows `lead2cash mine objects` (one computation, one meaning)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from web_support import cli_json, running_server

from lead2cash.app.views import Dashboard


def _cells(html: str, table: str) -> list[list[str]]:
    """The text of each body row's cells of one table of a page."""
    body = re.search(rf'id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, table
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in rows]


def test_objects_page_shows_mine_objects(company_db: Path) -> None:
    db = str(company_db)
    cli = cli_json("mine", "objects", "--db", db)
    dash = Dashboard(company_db)
    try:
        assert dash.objects() == {"available": True, **cli}  # the same function, the same JSON
    finally:
        dash.close()
    with running_server(company_db) as base:
        page = httpx.get(f"{base}/objects", timeout=120)
        nav = httpx.get(f"{base}/quality", timeout=120).text
    assert page.status_code == 200
    assert 'href="/objects"' in nav
    types = {r[0]: r for r in _cells(page.text, "t-object-types")}
    # the extracted company's documents are all there, with the CLI's counts
    assert {"Opportunity", "Quote", "SalesOrder", "Delivery", "Invoice", "Payment"} <= set(types)
    for t in cli["object_types"]:
        row = types[t["object_type"]]
        assert row[1:4] == [f"{t['objects']:,}", f"{t['objects_with_events']:,}", f"{t['events']:,}"]
    fan = {r[0]: r for r in _cells(page.text, "t-fan-out")}
    for f in cli["fan_out"]:
        row = fan[f"{f['target_type']} per {f['source_type']}"]
        assert row[2] == f"{f['relations']:,}"
        mean = f[f"{f['target_type']}_per_{f['source_type']}"]["mean"]
        assert row[5] == ("" if mean is None else f"{mean:.2f}")  # 2 decimals, not 1.04469
    maps = re.findall(r"<h3>Process map of (\w+)</h3>", page.text)
    assert sorted(maps) == sorted(cli["process_map"]["object_types"])
