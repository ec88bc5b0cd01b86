"""SalesRegion from country fields as real exports spell them, in every connector, and `check`
saying how many cases got no region and why."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from lead2cash.checks import Severity, check_log
from lead2cash.sources.countries import COUNTRIES, spellings
from lead2cash.sources.registry import extract
from lead2cash.sources.sql import normalized
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data"
WHEN = datetime(2024, 7, 27, 2, 0)


def _regions(ws: Workspace) -> dict[str, str | None]:
    return dict(ws.con.execute("SELECT SalesOpportunityId, SalesRegion FROM cases").fetchall())


def test_salesforce_country_names_codes_and_unknown_values(workspace: Workspace) -> None:
    extract(workspace, {"salesforce": DATA / "salesforce-country-names"}, extracted_at=WHEN)
    regions = _regions(workspace)
    assert [regions[f"0065g00000Ctry{i:02d}AC"] for i in range(1, 11)] == [
        "LATAM",  # Mexico
        "LATAM",  # México
        "EMEA",  # Deutschland
        "EMEA",  # Germany
        "North America",  # United States
        "North America",  # USA
        "EMEA",  # UK
        None,  # no country
        None,  # Narnia
        None,  # narnia (same value, other spelling)
    ]
    finding = {f.rule: f for f in check_log(workspace).findings}["no-region"]
    assert finding.severity is Severity.WARNING
    assert finding.count == 3
    assert "1 without a country value, 2 with a country value no table maps" in finding.message
    assert finding.examples == ("'Narnia' (salesforce) x1", "'narnia' (salesforce) x1")
    assert '["salesforce".regions] "Narnia" = "EMEA"' in finding.hint


def test_configured_regions_add_values_and_override_countries(
    workspace: Workspace, tmp_path: Path
) -> None:
    config = tmp_path / "lead2cash.toml"
    config.write_text('["salesforce".regions]\n"Narnia" = "Fantasy"\n"DE" = "DACH"\n')
    extract(
        workspace, {"salesforce": DATA / "salesforce-country-names"}, config, extracted_at=WHEN
    )
    regions = _regions(workspace)
    # a key naming a country (here its code) sets every spelling of it
    assert regions["0065g00000Ctry03AC"] == regions["0065g00000Ctry04AC"] == "DACH"
    # other keys map the value as written, whatever its case and spaces
    assert regions["0065g00000Ctry09AC"] == regions["0065g00000Ctry10AC"] == "Fantasy"
    assert regions["0065g00000Ctry01AC"] == "LATAM"  # the built-in table still applies
    finding = {f.rule: f for f in check_log(workspace).findings}["no-region"]
    assert (finding.severity, finding.count) == (Severity.INFO, 1)  # only the blank country


@pytest.mark.parametrize(
    ("system", "folder", "expected"),
    [
        (
            "dynamics365",
            "dynamics-country-names",
            {  # Österreich, Brasil, 日本, U.S.A.
                "aa000000-0000-0000-0000-000000000001": "EMEA",
                "aa000000-0000-0000-0000-000000000002": "LATAM",
                "aa000000-0000-0000-0000-000000000003": "APAC",
                "aa000000-0000-0000-0000-000000000004": "North America",
            },
        ),
        (
            "oracle-cx",
            "oracle-country-names",
            {  # Schweiz, COL (alpha-3), India
                "300000000000301": "EMEA",
                "300000000000302": "LATAM",
                "300000000000303": "APAC",
            },
        ),
        (
            "sap-s4hana",
            "sap-country-codes",
            {"0000000021": "LATAM", "0000000022": "EMEA", "0000000023": None},  # MX, CH, QQ
        ),
    ],
)
def test_every_connector_maps_countries_through_one_table(
    workspace: Workspace, system: str, folder: str, expected: dict[str, str | None]
) -> None:
    extract(workspace, {system: DATA / folder}, extracted_at=WHEN)
    assert _regions(workspace) == expected


def test_every_spelling_names_one_country_and_every_country_has_a_region() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE s (name VARCHAR, code VARCHAR, is_code BOOLEAN)")
    con.executemany("INSERT INTO s VALUES (?, ?, ?)", spellings())
    key = f"CASE WHEN is_code THEN '=' || lower(name) ELSE {normalized('name')} END"
    ambiguous = con.execute(
        f"SELECT {key} AS k, list(DISTINCT code) FROM s GROUP BY k HAVING count(DISTINCT code) > 1"
    ).fetchall()
    assert ambiguous == []
    assert len(COUNTRIES) >= 249
    assert len({c.alpha2 for c in COUNTRIES}) == len({c.alpha3 for c in COUNTRIES}) == len(
        COUNTRIES
    )
    assert {c.region for c in COUNTRIES} == {"North America", "LATAM", "EMEA", "APAC"}
