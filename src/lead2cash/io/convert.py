"""SQL expressions that turn raw input values into the model's types, vectorised in DuckDB.

Each builder returns an expression that yields NULL when a present value cannot be
converted; the importer compares it with the raw value to find bad rows.
"""

from __future__ import annotations

from ..model import AttrType
from ..store import quote

__all__ = ["TIME_FORMATS", "convert_expr", "is_present", "sql_literal"]

# Formats tried after ISO 8601 (which DuckDB casts natively). Slash dates are left out on
# purpose: 04/05/2023 is ambiguous, so such files need --time-format.
TIME_FORMATS: tuple[str, ...] = (
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
)

# An offset only counts after a time of day (a bare date ends in "-05" too).
_OFFSET = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"


def sql_literal(value: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def is_present(col: str, sql_type: str) -> str:
    """SQL condition: the raw value is there (not NULL, not an empty string)."""
    q = quote(col)
    return f"({q} IS NOT NULL AND trim(CAST({q} AS VARCHAR)) <> '')" if sql_type == "VARCHAR" \
        else f"({q} IS NOT NULL)"


def string_expr(col: str, sql_type: str) -> str:
    """A trimmed string; empty strings become NULL."""
    return f"NULLIF(trim(CAST({quote(col)} AS VARCHAR)), '')"


def timestamp_expr(col: str, sql_type: str, timezone: str, formats: tuple[str, ...]) -> str:
    """A naive UTC timestamp: offsets honoured, naive values read in `timezone`."""
    q, tz = quote(col), sql_literal(timezone)
    if sql_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone('UTC', {q})"
    if sql_type.startswith("TIMESTAMP") or sql_type == "DATE":
        return f"timezone('UTC', timezone({tz}, CAST({q} AS TIMESTAMP)))"
    v = f"trim(CAST({q} AS VARCHAR))"
    fmts = "[" + ", ".join(sql_literal(f) for f in formats) + "]"
    naive = f"COALESCE(TRY_CAST({v} AS TIMESTAMP), try_strptime({v}, {fmts}))"
    return (
        f"CASE WHEN regexp_matches({v}, {sql_literal(_OFFSET)}) "
        f"THEN timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ)) "
        f"ELSE timezone('UTC', timezone({tz}, {naive})) END"
    )


def decimal_expr(col: str, sql_type: str, decimal_comma: bool, percent: bool) -> str:
    """A DOUBLE from numbers written with decimal points or commas, thousands marks, or `%`."""
    q = quote(col)
    if sql_type != "VARCHAR":
        return f"TRY_CAST({q} AS DOUBLE)"
    v = f"regexp_replace(trim({q}), '[\\s\u00a0]', '', 'g')"
    if decimal_comma:
        v = f"replace(replace({v}, '.', ''), ',', '.')"
    else:
        v = f"replace({v}, ',', '')"
    number = f"TRY_CAST(rtrim({v}, '%') AS DOUBLE)"
    if percent:
        return f"CASE WHEN {v} LIKE '%\\%' ESCAPE '\\' THEN {number} / 100 ELSE {number} END"
    return f"TRY_CAST({v} AS DOUBLE)"


def duration_expr(col: str, sql_type: str) -> str:
    """An INTERVAL from text ('35 days 04:00:00', '35 days 4 hours') or numbers of seconds."""
    q = quote(col)
    if sql_type == "INTERVAL":
        return q
    seconds = f"TRY_CAST({q} AS DOUBLE)"
    micros = f"to_microseconds(TRY_CAST(round({seconds} * 1000000) AS BIGINT))"
    if sql_type != "VARCHAR":
        return micros
    return f"CASE WHEN {seconds} IS NOT NULL THEN {micros} ELSE TRY_CAST(trim({q}) AS INTERVAL) END"


def convert_expr(
    attr_type: AttrType, col: str, sql_type: str, *, timezone: str,
    formats: tuple[str, ...], decimal_comma: bool = False, percent: bool = False,
) -> str:
    """The conversion of one source column to one model type."""
    if attr_type is AttrType.TIMESTAMP:
        return timestamp_expr(col, sql_type, timezone, formats)
    if attr_type is AttrType.DECIMAL:
        return decimal_expr(col, sql_type, decimal_comma, percent)
    if attr_type is AttrType.DURATION:
        return duration_expr(col, sql_type)
    return string_expr(col, sql_type)
