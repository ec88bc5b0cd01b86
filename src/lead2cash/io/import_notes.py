"""What an import says about values it read although the file left room for doubt.

A value that cannot be read is refused (importer.py); a value that can be read in more
than one way is read the documented way and *said*: decimal commas, thousands separators,
discounts written as 15 rather than 0.15, negative amounts, and local times that fall in a
daylight-saving gap (they do not exist) or overlap (they exist twice). The counts are kept
in the log's metadata so that `lead2cash check` reports them too (checks.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb

from ..model import AttrType, attribute
from ..store import quote
from .convert import TIME_FORMATS, sql_literal
from .staging import STAGE, Stage

__all__ = ["DST_META", "ReadNotes", "implausible_time_sql", "nul_sql", "read_notes"]

DST_META = "dst_times"
"""log_meta key: JSON {"gap": n, "overlap": n, "timezone": name} of EventTime values."""
NOTES_META = "read_notes"
"""log_meta key: JSON list of the import's warnings."""

_EARLIEST, _LATEST = 1900, 2199
_OFFSET = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"


def nul_sql(col: str) -> str:
    """SQL condition: the raw text value holds a NUL byte (never meant in a name)."""
    return f"contains(CAST({quote(col)} AS VARCHAR), chr(0))"


def implausible_time_sql(expr: str) -> str:
    """SQL condition: a converted time lies outside the years any sale can have happened in
    (SAP's 0001-01-01 and 9999-12-31 placeholders, a year typed as 0024)."""
    return f"(year({expr}) < {_EARLIEST} OR year({expr}) > {_LATEST})"


@dataclass
class ReadNotes:
    """Warnings for the user, and the DST counts `check` reports later."""

    warnings: tuple[str, ...] = ()
    dst: dict[str, object] = field(default_factory=dict)

    def meta(self) -> dict[str, str]:
        """The log_meta entries that keep these notes with the log."""
        out = {NOTES_META: json.dumps(list(self.warnings))}
        if self.dst:
            out[DST_META] = json.dumps(self.dst)
        return out


def read_notes(con: duckdb.DuckDBPyConnection, stage: Stage, mapping: dict[str, str],
               timezone: str, typed: str, time_format: str | None = None) -> ReadNotes:
    """Look at the staged raw values and the typed rows; say how doubtful values were read."""
    warnings: list[str] = []
    for fld in ("OpportunityAmount", "DiscountPercentage"):
        col = mapping.get(fld)
        if col is not None and stage.columns.get(col) == "VARCHAR":
            warnings += _separators(con, fld, col)
    warnings += _scales(con, mapping, typed)
    notes = ReadNotes()
    col = mapping.get("EventTime")
    if col is not None and timezone.upper() != "UTC" and stage.columns.get(col) == "VARCHAR":
        formats = (time_format, *TIME_FORMATS) if time_format else TIME_FORMATS
        gap, overlap, example = _dst(con, col, timezone, formats)
        if gap or overlap:
            notes.dst = {"gap": gap, "overlap": overlap, "timezone": timezone}
            if gap:
                warnings.append(
                    f"EventTime: {gap} local time(s) fall in a daylight-saving gap in {timezone} "
                    f"(they never existed on the clock, e.g. {example['gap']!r}); each was read "
                    "with the offset before the change, i.e. moved forward by the gap")
            if overlap:
                warnings.append(
                    f"EventTime: {overlap} local time(s) fall in a daylight-saving overlap in "
                    f"{timezone} (they happened twice, e.g. {example['overlap']!r}); each was "
                    "read as the second occurrence (standard time). Write times with an offset "
                    "(…+02:00) or in UTC to remove the doubt")
    notes.warnings = tuple(warnings)
    return notes


def _separators(con: duckdb.DuckDBPyConnection, fld: str, col: str) -> list[str]:
    """Decimal commas (1.234,56) and thousands separators (1,234.56) that were read as such."""
    from .importer import _decimal_comma  # the one rule the conversion used

    q = quote(col)
    row = con.execute(f"SELECT count(*), any_value({q}) FROM {STAGE} "
                      f"WHERE {q} LIKE '%,%'").fetchone()
    if not row or not row[0]:
        return []
    if _decimal_comma(con, col):
        return [f"{fld}: read {row[0]} value(s) with a decimal comma (e.g. {row[1]!r} as "
                f"{_as_number(row[1], comma=True)}); the column writes decimals that way"]
    return [f"{fld}: read ',' as a thousands separator in {row[0]} value(s) (e.g. "
            f"{row[1]!r} as {_as_number(row[1], comma=False)})"]


def _as_number(raw: str, comma: bool) -> str:
    """How the conversion reads one raw number (for the message only)."""
    text = raw.strip().rstrip("%").replace(" ", "")
    text = text.replace(".", "").replace(",", ".") if comma else text.replace(",", "")
    try:
        return f"{float(text):.15g}"
    except ValueError:
        return "?"


def _scales(con: duckdb.DuckDBPyConnection, mapping: dict[str, str], typed: str) -> list[str]:
    """Discounts above 1 (15 meant as 15 %) and negative amounts: kept, but said."""
    out: list[str] = []
    if "DiscountPercentage" in mapping:
        over, under = con.execute(
            f"SELECT count(*) FILTER (WHERE DiscountPercentage > 1), "
            f"count(*) FILTER (WHERE DiscountPercentage BETWEEN 0 AND 1) FROM {typed}"
        ).fetchone() or (0, 0)
        if over:
            meaning = attribute("DiscountPercentage").meaning
            mixed = (f"; the file mixes both scales ({under} value(s) are between 0 and 1)"
                     if under else "")
            out.append(f"DiscountPercentage: {over} value(s) are above 1 (e.g. 15 for 15 %), but "
                       f"the field holds {meaning}{mixed}. Write 0.15 or '15%' to be read as "
                       "15 %; the values were kept as written")
    if "OpportunityAmount" in mapping:
        neg = con.execute(f"SELECT count(*) FROM {typed} WHERE OpportunityAmount < 0"
                          ).fetchone()[0]  # type: ignore[index]
        if neg:
            out.append(f"OpportunityAmount: {neg} value(s) are negative (credit notes or "
                       "reversals?); they were kept and count in sums as written")
    return out


def _dst(con: duckdb.DuckDBPyConnection, col: str, tz: str, formats: tuple[str, ...]
         ) -> tuple[int, int, dict[str, str]]:
    """Naive local times of `col` that fall in a DST gap / overlap of `tz`, with an example each."""
    v = f"trim(CAST({quote(col)} AS VARCHAR))"
    fmts = "[" + ", ".join(sql_literal(f) for f in formats) + "]"
    naive = f"COALESCE(TRY_CAST({v} AS TIMESTAMP), try_strptime({v}, {fmts}))"
    z = sql_literal(tz)
    row = con.execute(
        f"WITH t AS (SELECT {v} AS raw, {naive} AS n FROM {STAGE} "
        f"  WHERE NOT regexp_matches({v}, {sql_literal(_OFFSET)})), "
        f"u AS (SELECT raw, n, timezone({z}, n) AS i FROM t WHERE n IS NOT NULL), "
        f"k AS (SELECT raw, timezone({z}, i) <> n AS gap, "
        f"  timezone({z}, i) = n AND (timezone({z}, i - INTERVAL 1 HOUR) = n "
        f"  OR timezone({z}, i + INTERVAL 1 HOUR) = n) AS overlap FROM u) "
        f"SELECT count(*) FILTER (WHERE gap), count(*) FILTER (WHERE overlap), "
        f"any_value(raw) FILTER (WHERE gap), any_value(raw) FILTER (WHERE overlap) FROM k"
    ).fetchone() or (0, 0, None, None)
    return int(row[0]), int(row[1]), {"gap": row[2], "overlap": row[3]}
