"""SalesRegion from a country value, however the export spells it.

Every connector that maps countries prepares one lookup table `{regions}` (normalized key ->
region) from the built-in country table (`countries.py`) and the system's `regions` setting,
and joins its country field to it with `region_join`. A value is looked up as an ISO code
(exactly, ignoring case: so `N/A` is not Namibia) and otherwise as a name, accent-, case-,
space- and punctuation-insensitively. Unknown values give no region (the extraction counts
them for `lead2cash check`); a value that already is a region name (`EMEA`) is kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from .config import Setting
from .countries import REGION_BY_CODE, spellings
from .sql import lit, normalized

__all__ = ["TABLE", "region_join", "region_lookup_sql", "regions_setting"]

TABLE = "regions"  # the prepared helper table's name in a mapping's `prepare`


def regions_setting(field: str) -> Setting:
    """The `regions` setting of a system whose `field` holds the country."""
    return Setting(
        "regions",
        {},
        f"{field} value (ISO code or any spelling of a country name, or a value as written) -> "
        "SalesRegion; adds to / overrides the built-in table that maps every country to North "
        "America, LATAM, EMEA or APAC (lead2cash/sources/countries.py); values no table maps "
        "give no region (lead2cash check lists them)",
    )


def _values(rows: list[tuple[object, ...]]) -> str:
    return ", ".join("(" + ", ".join(lit(v) for v in r) + ")" for r in rows)


def region_lookup_sql(user: Mapping[str, str]) -> str:
    """SELECT key, region: every spelling of every country (user entries first: a user key
    naming a country, by code or any name, sets the region of all its spellings; other user
    keys map that value as written), then the built-in regions, then region names as such."""
    spell = _values(spellings())
    builtin = _values(sorted(REGION_BY_CODE.items()))
    usr = _values(list(user.items())) if user else "(NULL, NULL)"
    key = f"CASE WHEN is_code THEN '=' || lower(name) ELSE {normalized('name')} END"
    return f"""
    WITH spell(name, code, is_code) AS (VALUES {spell}),
    s AS (SELECT DISTINCT {key} AS key, code FROM spell),
    builtin(code, region) AS (VALUES {builtin}),
    u AS (SELECT name, region, row_number() OVER () AS i
          FROM (VALUES {usr}) AS v(name, region) WHERE name IS NOT NULL),
    uc AS (SELECT u.i, s.code, u.region FROM u JOIN s
           ON s.key IN ('=' || lower(trim(u.name)), {normalized("u.name")})),
    cand AS (
      SELECT s.key, uc.region, 0 AS prio FROM s JOIN uc USING (code)
      UNION ALL SELECT {normalized("name")}, region, 1 FROM u WHERE i NOT IN (SELECT i FROM uc)
      UNION ALL SELECT s.key, b.region, 2 FROM s JOIN builtin b USING (code)
      UNION ALL SELECT {normalized("region")}, region, 3
        FROM (SELECT region FROM builtin UNION SELECT region FROM u)
    )
    SELECT key, arg_min(region, prio) AS region FROM cand WHERE key <> '' GROUP BY key
    """.replace("{", "{{").replace("}", "}}")  # a template without placeholders


def region_join(value: str, alias: str = "rg") -> tuple[str, str, str]:
    """(LEFT JOIN clause, region expression, country expression) for a country value column:
    the region it maps to, and the value itself (blank as NULL) for the region report."""
    code = f"('=' || lower(trim(CAST({value} AS VARCHAR))))"
    key = f"CASE WHEN {code} IN (SELECT key FROM {{{TABLE}}}) THEN {code} ELSE {normalized(value)} END"
    join = f"LEFT JOIN {{{TABLE}}} {alias} ON {alias}.key = {key}"
    return join, f"{alias}.region", f"nullif(trim(CAST({value} AS VARCHAR)), '')"
