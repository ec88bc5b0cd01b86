"""What a connector declares about a source table, and the SQL that reads its values.

`SourceTable` / `TimeField` describe an export file (columns, key, times and how real exports
mark deleted rows, versions and languages); the helpers turn the text values exports hold
into typed SQL once for every connector: booleans (`flag_sql`), Salesforce ids
(`salesforce_id18`), ISO and SAP date-times (`time_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store import quote

__all__ = [
    "SALESFORCE_NULL_IDS",
    "SAP_DATES",
    "SAP_NO_DATE",
    "SourceTable",
    "TimeField",
    "date_only_sql",
    "flag_sql",
    "parsed",
    "salesforce_id18",
    "sap_date",
    "sap_formats",
    "sql_in",
    "time_sql",
]

# Salesforce's weekly Data Export writes an empty reference as the null id (15 or 18 chars)
SALESFORCE_NULL_IDS = ("000000000000000AAA", "000000000000000")
# SAP dates: YYYYMMDD (ODP, SLT, unconverted downloads), DD.MM.YYYY or YYYY-MM-DD (formatted
# SE16N downloads); times HHMMSS or HH:MM:SS. Initial dates are empty or all zeros.
SAP_DATES = ("%Y%m%d", "%d.%m.%Y", "%Y-%m-%d")
SAP_TIMES = ("%H%M%S", "%H:%M:%S")
SAP_NO_DATE = ("00000000", "00.00.0000", "0000-00-00")


@dataclass(frozen=True, slots=True)
class TimeField:
    """A time column: ISO datetime, plain date, or SAP `YYYYMMDD` (+ `HHMMSS` column) local time."""

    column: str
    fmt: str = "iso"  # iso | date | sap (YYYYMMDD local) | sapts (YYYYMMDDhhmmss UTC)
    time_column: str | None = None  # SAP: the HHMMSS column that goes with the date
    required: bool = True  # False: empty (and SAP `00000000`) means "not yet", not an error


@dataclass(frozen=True, slots=True)
class SourceTable:
    """One export file of a system: its real name, the columns read, its key and time fields.

    The fields after `salesforce_ids` describe how real exports mark things, each applied only
    when the file has the column: `deleted` (column, lower-case values; None: a boolean flag
    read by `flag_sql`) marks rows the source deleted; `versions` orders several rows of one key (newest kept); `language` names the
    language column of a text table, `languages` the preferred values (then the base
    language, `SOURCE_LANG`, then the lowest code); `stamps` are record-modification times
    (read leniently, only for the data's age).
    """

    name: str
    columns: tuple[str, ...]
    key: str | None = None
    optional: bool = False
    times: tuple[TimeField, ...] = ()
    optional_columns: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()  # (column, other spelling accepted for it)
    numbers: tuple[str, ...] = ()  # columns that must hold numbers where not empty
    json_columns: tuple[str, ...] = ()  # columns that must hold JSON where not empty
    salesforce_ids: tuple[str, ...] = ()  # columns of Salesforce ids: kept in the 18-char form
    deleted: tuple[tuple[str, tuple[str, ...] | None], ...] = ()
    versions: tuple[str, ...] = ()
    language: str | None = None
    languages: tuple[str, ...] = ()
    stamps: tuple[TimeField, ...] = ()
    lineage: str | None = None  # column naming a row in source_record (default: key)
    absent_note: str | None = None  # what the connector does without this file
    encoding: str | None = None  # CSV encoding (None: detected)


def parsed(column: str) -> str:
    """Name of the parsed UTC timestamp column that goes with a source time column."""
    return f"{column}@utc"


_TRUE = ("true", "1", "t", "y", "yes", "x")
_FALSE = ("false", "0", "f", "n", "no", "")


def flag_sql(expr: str) -> str:
    """SQL reading a boolean as exports write it: `true`/`false` (any case), `1`/`0` (Data
    Export), `Y`/`N` (Oracle), `X`/blank (SAP); NULL for anything else (so it is reported)."""
    t = f"lower(trim({expr}))"  # NULL (no such column) stays NULL: unknown, not false
    return (
        f"(CASE WHEN {t} IN {sql_in(_TRUE)} THEN TRUE WHEN {t} IN {sql_in(_FALSE)} THEN FALSE END)"
    )


def sql_in(values: tuple[str, ...]) -> str:
    """A parenthesised SQL list of string literals."""
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


_ID18_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id18(expr: str) -> str:
    """SQL giving the 18-character form of a 15-character (case-sensitive) Salesforce id.

    Salesforce's rule: split the 15 characters into three blocks of 5; in each, bit i is set
    when character i is an uppercase letter; the 5-bit number picks one character of
    A-Z0-5; the three characters are appended. Other values (18-character ids, blanks, other
    lengths, and 15 digits with no letter, e.g. an Oracle opportunity number) stay as they are.
    """
    blocks = [
        " + ".join(
            f"CASE WHEN substr({expr}, {5 * b + i + 1}, 1) BETWEEN 'A' AND 'Z' "
            f"THEN {1 << i} ELSE 0 END"
            for i in range(5)
        )
        for b in range(3)
    ]
    suffix = " || ".join(f"substr('{_ID18_ALPHABET}', {blk} + 1, 1)" for blk in blocks)
    return (
        f"CASE WHEN regexp_full_match({expr}, '[A-Za-z0-9]{{15}}') "
        f"AND regexp_matches({expr}, '[A-Za-z]') THEN {expr} || {suffix} ELSE {expr} END"
    )


def sap_date(col: str) -> str:
    """SQL: the trimmed text of a SAP date column, NULL when empty or initial (all zeros)."""
    return (
        f"CASE WHEN trim({col}) IN {sql_in(SAP_NO_DATE)} THEN NULL ELSE nullif(trim({col}), '') END"
    )


def sap_formats(*parts: tuple[str, ...]) -> str:
    """A DuckDB list of strptime formats: every combination of the parts, in order."""
    combos = [""]
    for options in parts:
        combos = [c + o for c in combos for o in options]
    return "[" + ", ".join(f"'{c}'" for c in combos) + "]"


def time_sql(tf: TimeField, timezone: str) -> str:
    """SQL turning the text of a time field into a naive UTC TIMESTAMP (NULL if unparsable)."""
    col = quote(tf.column)
    if tf.fmt == "iso":
        return f"TRY_CAST(nullif(trim({col}), '') AS TIMESTAMPTZ)::TIMESTAMP"
    if tf.fmt == "date":
        local = f"TRY_CAST(nullif(trim({col}), '') AS DATE)::TIMESTAMP"
    elif tf.fmt == "sapts":  # a UTC timestamp YYYYMMDDhhmmss (CRM CREATED_AT_H): no shift
        return f"try_strptime(nullif(trim({col}), ''), '%Y%m%d%H%M%S')"
    elif tf.fmt == "sap":
        text = sap_date(col)
        if tf.time_column:  # a blank time is midnight (counted as date-only, see notes)
            text = f"{text} || coalesce(nullif(trim({quote(tf.time_column)}), ''), '000000')"
            local = f"try_strptime({text}, {sap_formats(SAP_DATES, SAP_TIMES)})"
        else:
            local = f"try_strptime({text}, {sap_formats(SAP_DATES)})"
    else:
        raise ValueError(f"unknown time format {tf.fmt!r}")
    if timezone.upper() == "UTC" or not tf.time_column:  # a bare date is midnight UTC: no shift
        return local
    return f"timezone('{timezone}', {local})::TIMESTAMP"


def date_only_sql(tf: TimeField) -> str | None:
    """SQL true where a SAP date is set but its time column is blank (read as midnight)."""
    if tf.fmt != "sap" or not tf.time_column:
        return None
    time = quote(tf.time_column)
    return f"({sap_date(quote(tf.column))} IS NOT NULL AND nullif(trim({time}), '') IS NULL)"
