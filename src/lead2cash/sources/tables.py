"""Reading one system's export folder into DuckDB: files, columns, ids and timestamps checked.

Every source file becomes a temporary table with all columns as text, a `_row`
column (1-based data row, header not counted) and one parsed UTC `<column>@utc`
TIMESTAMP per declared time field. Bad input fails here, naming file, row, column
and value; a missing optional file, or one with a header and no rows, becomes an empty
table so rules need no special case.

Exports as real tools write them are normalised here, once for every connector: the
file's encoding (`files.py`); rows the source marks as deleted (Salesforce `IsDeleted`,
Synapse Link `IsDelete`, SLT / ODP operation flags, ...) are left out; of several row
versions of one record (append-only exports) the newest is kept; of a text table's rows
in several languages, the configured language's; Salesforce's empty reference
`000000000000000AAA` is NULL. What was normalised is kept as notes for the log's metadata
(`SystemFolder.notes`), which `check` reports.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..errors import InputError, Lead2CashError, Location
from ..store import quote
from .files import FileSource, find, read_error, read_source

__all__ = [
    "SourceTable",
    "SystemFolder",
    "TimeField",
    "flag_sql",
    "parsed",
    "salesforce_id18",
]

# Salesforce's weekly Data Export writes an empty reference as the null id (15 or 18 chars)
SALESFORCE_NULL_IDS = ("000000000000000AAA", "000000000000000")
# SAP dates: YYYYMMDD (ODP, SLT, unconverted downloads), DD.MM.YYYY or YYYY-MM-DD (formatted
# SE16N downloads); times HHMMSS or HH:MM:SS. Initial dates are empty or all zeros.
_SAP_DATES = ("%Y%m%d", "%d.%m.%Y", "%Y-%m-%d")
_SAP_TIMES = ("%H%M%S", "%H:%M:%S")
_SAP_NO_DATE = ("00000000", "00.00.0000", "0000-00-00")


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
    t = f"lower(trim(coalesce({expr}, '')))"
    return f"(CASE WHEN {t} IN {_in(_TRUE)} THEN TRUE WHEN {t} IN {_in(_FALSE)} THEN FALSE END)"


def _in(values: tuple[str, ...]) -> str:
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


def _sap_date(col: str) -> str:
    """SQL: the trimmed text of a SAP date column, NULL when empty or initial (all zeros)."""
    return (
        f"CASE WHEN trim({col}) IN {_in(_SAP_NO_DATE)} THEN NULL ELSE nullif(trim({col}), '') END"
    )


def _formats(*parts: tuple[str, ...]) -> str:
    """A DuckDB list of strptime formats: every combination of the parts, in order."""
    combos = [""]
    for options in parts:
        combos = [c + o for c in combos for o in options]
    return "[" + ", ".join(f"'{c}'" for c in combos) + "]"


def _time_sql(tf: TimeField, timezone: str) -> str:
    """SQL turning the text of a time field into a naive UTC TIMESTAMP (NULL if unparsable)."""
    col = quote(tf.column)
    if tf.fmt == "iso":
        return f"TRY_CAST(nullif(trim({col}), '') AS TIMESTAMPTZ)::TIMESTAMP"
    if tf.fmt == "date":
        local = f"TRY_CAST(nullif(trim({col}), '') AS DATE)::TIMESTAMP"
    elif tf.fmt == "sapts":  # a UTC timestamp YYYYMMDDhhmmss (CRM CREATED_AT_H): no shift
        return f"try_strptime(nullif(trim({col}), ''), '%Y%m%d%H%M%S')"
    elif tf.fmt == "sap":
        text = _sap_date(col)
        if tf.time_column:  # a blank time is midnight (counted as date-only, see notes)
            text = f"{text} || coalesce(nullif(trim({quote(tf.time_column)}), ''), '000000')"
            local = f"try_strptime({text}, {_formats(_SAP_DATES, _SAP_TIMES)})"
        else:
            local = f"try_strptime({text}, {_formats(_SAP_DATES)})"
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
    return f"({_sap_date(quote(tf.column))} IS NOT NULL AND nullif(trim({time}), '') IS NULL)"


def _nested(sql_type: str) -> bool:
    """Whether a column type is a list, struct or map (kept as JSON text)."""
    return sql_type.endswith("]") or sql_type.startswith(("STRUCT", "MAP"))


def _spec_names(present: list[str], spec: SourceTable) -> dict[str, str]:
    """Each file column's name in the table: the spec's spelling when it differs only by case
    or is a declared alias (e.g. `_customerid_value` for `customerid`), else unchanged."""
    wanted = (*spec.columns, *spec.optional_columns)
    other = {alias.lower(): col for col, alias in spec.aliases}
    by_lower = {c.lower(): c for c in wanted}
    names = {}
    for c in present:
        target = c if c in wanted else by_lower.get(c.lower()) or other.get(c.lower()) or c
        names[c] = target if target == c or target not in present else c
    return names


_FORMAT_HINT = {
    "iso": "write ISO 8601 date-times such as 2024-03-01T14:22:05.000+0000",
    "date": "write dates as YYYY-MM-DD",
    "sap": "write SAP dates as YYYYMMDD (or DD.MM.YYYY, YYYY-MM-DD) and times as HHMMSS "
    "(or HH:MM:SS); a download in a US date format (MM/DD/YYYY) is refused: set the user's "
    "date format to YYYY-MM-DD or download unconverted",
    "sapts": "write SAP UTC timestamps as YYYYMMDDhhmmss",
}


@dataclass
class SystemFolder:
    """One system's export folder read into temporary tables of a DuckDB connection."""

    con: duckdb.DuckDBPyConnection
    system: str
    folder: Path
    timezone: str = "UTC"
    files: dict[str, str] = field(default_factory=dict)  # table name -> display path
    missing: list[str] = field(default_factory=list)  # optional tables that were absent
    loaded: list[SourceTable] = field(default_factory=list)  # tables read from a file
    header_only: list[str] = field(default_factory=list)  # optional files with no rows
    derived: list[str] = field(default_factory=list)  # what stands in for absent files
    encodings: dict[str, str] = field(default_factory=dict)  # display path -> non-UTF-8 encoding
    dropped: dict[str, str] = field(default_factory=dict)  # display path -> rows left out, why
    age_source: str = ""  # where LastDataUpdate came from

    def sql_name(self, table: str) -> str:
        """The quoted temporary-table name holding one source table."""
        return quote(f"{self.system}:{table}")

    def find(self, name: str) -> Path | None:
        """The export of a table (CSV, text, gzipped, Parquet, JSON, or partition folder)."""
        return find(self.folder, name)

    def load(self, spec: SourceTable) -> None:
        """Read one file, check its columns, ids and times, keep it as a temporary table."""
        path = self.find(spec.name)
        if path is None:
            if not spec.optional:
                raise Lead2CashError(
                    f"{self.folder}: required file {spec.name}.csv (or .parquet/.json) is missing "
                    f"for {self.system}; expected columns: {', '.join(spec.columns)}",
                    f"export the {spec.name} object/table into {self.folder}",
                )
            self._absent(spec)
            return
        shown = f"{self.system}/{path.name}"
        name = self.sql_name(spec.name)
        with tempfile.TemporaryDirectory(prefix="lead2cash-") as tmp:
            src = read_source(self.con, path, shown, spec.encoding, Path(tmp), self.system)
            try:
                if spec.optional and self._empty(src.sql):
                    self.header_only.append(spec.name)
                    self._absent(spec)
                    return
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {name} AS {self._reader(src, spec, shown)}"
                )
            except (
                duckdb.InvalidInputException,
                duckdb.ConversionException,
                duckdb.IOException,
            ) as exc:
                raise read_error(shown, src, self.system, exc) from exc
            finally:
                src.cleanup()
        self.files[spec.name] = shown
        self.loaded.append(spec)
        if src.encoding and src.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            self.encodings[shown] = src.encoding
        self._normalise(spec, shown, name)
        if spec.key:
            self._check_unique(spec.key, shown, name)
        for tf in spec.times:
            self._check_time(tf, shown, name)
        for column in spec.numbers:
            self._check_number(column, shown, name)

    def _absent(self, spec: SourceTable) -> None:
        """An absent (or header-only) optional file: an empty table, noted."""
        self.missing.append(spec.name)
        if spec.absent_note:
            self.derived.append(spec.absent_note)
        self._create_empty(spec)

    def _empty(self, src: str) -> bool:
        """Whether a source has no data rows (a header-only export of an unused object)."""
        return not self.con.execute(f"SELECT 1 FROM {src} LIMIT 1").fetchall()

    def _reader(self, src: FileSource, spec: SourceTable, shown: str) -> str:
        """One SELECT reading a file: its columns as text under their real names, the absent
        optional ones as NULL, the data row number and a parsed UTC column per time field."""
        cols = self.con.execute(f"DESCRIBE SELECT * FROM {src.sql}").fetchall()
        names = _spec_names([c for c, *_ in cols], spec)
        self._check_columns(spec, shown, set(names.values()))
        text = [f"{_as_text(quote(c), t)} AS {quote(names[c])}" for c, t, *_ in cols]
        text += [
            f"NULL::VARCHAR AS {quote(c)}" for c in spec.optional_columns if c not in names.values()
        ]
        present = {n.lower() for n in names.values()}
        timed = {tf.column for tf in spec.times}
        stamps = [
            replace(tf, column=_spelled(tf.column, names.values()))
            for tf in spec.stamps
            if tf.column.lower() in present and tf.column not in timed
        ]
        times = "".join(
            f", {_time_sql(tf, self.timezone)} AS {quote(parsed(tf.column))}"
            for tf in (*spec.times, *stamps)
        )
        ids = ", ".join(
            f"{salesforce_id18(_null_ids(quote(c)))} AS {quote(c)}" for c in spec.salesforce_ids
        )
        return (
            f"SELECT *{f' REPLACE ({ids})' if ids else ''}{times} FROM "
            f"(SELECT {', '.join(text)}, row_number() OVER () AS _row FROM {src.sql})"
        )

    def _normalise(self, spec: SourceTable, shown: str, name: str) -> None:
        """Keep a record's newest version, the preferred language, and no deleted rows."""
        columns = {r[0].lower(): r[0] for r in self.con.execute(f"DESCRIBE {name}").fetchall()}
        reasons = []
        version = next((columns[v.lower()] for v in spec.versions if v.lower() in columns), None)
        if spec.key and version:
            n = self._keep_first(name, spec.key, f"{_number(version)} DESC NULLS LAST, _row DESC")
            if n:
                reasons.append(f"{n} older version(s) by {version}")
        language = columns.get((spec.language or "").lower())
        if spec.key and language:
            pref = " ".join(f"WHEN {_in((v,))} THEN {i}" for i, v in enumerate(spec.languages))
            base = (
                f"(trim({quote(language)}) = trim({quote(columns['source_lang'])}))"
                if "source_lang" in columns
                else "FALSE"
            )
            order = (
                f"CASE trim({quote(language)}) {pref or 'WHEN NULL THEN 0'} ELSE "
                f"{len(spec.languages)} END, {base} DESC, trim({quote(language)}), _row"
            )
            n = self._keep_first(name, spec.key, order)
            if n:
                reasons.append(f"{n} row(s) in other languages than {'/'.join(spec.languages)}")
        marks = [(columns[c.lower()], values) for c, values in spec.deleted if c.lower() in columns]
        if marks:
            where = " OR ".join(
                f"coalesce({flag_sql(quote(c))}, FALSE)"
                if v is None
                else f"lower(trim(coalesce({quote(c)}, ''))) IN {_in(v)}"
                for c, v in marks
            )
            n = self.con.execute(f"SELECT count(*) FROM {name} WHERE {where}").fetchall()[0][0]
            if n:
                self.con.execute(f"DELETE FROM {name} WHERE {where}")
                reasons.append(f"{n} marked deleted ({', '.join(c for c, _ in marks)})")
        if reasons:
            self.dropped[shown] = "; ".join(reasons)

    def _keep_first(self, name: str, key: str, order: str) -> int:
        """Keep the first row per key in the given order; return how many were dropped."""
        before = self.con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name} QUALIFY row_number() "
            f"OVER (PARTITION BY {quote(key)} ORDER BY {order}) = 1 ORDER BY _row"
        )
        return int(before - self.con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])

    def _check_columns(self, spec: SourceTable, shown: str, present: set[str]) -> None:
        """Fail on missing required columns, naming them and the columns expected."""
        lacking = [c for c in spec.columns if c not in present]
        if lacking:
            raise InputError(
                Location(shown, column=lacking[0]),
                f"missing column(s) {', '.join(lacking)}; {spec.name} needs: "
                f"{', '.join(spec.columns)}",
                "export these fields with their real API names in the header row",
            )

    def _check_unique(self, key: str, shown: str, name: str) -> None:
        """Fail when an id occurs twice: the second occurrence is named."""
        k = quote(key)
        rows = self.con.execute(
            f"SELECT _row, {k}, count(*) OVER () FROM (SELECT _row, {k}, "
            f"row_number() OVER (PARTITION BY {k} ORDER BY _row) AS n FROM {name} "
            f"WHERE {k} IS NOT NULL) WHERE n > 1 ORDER BY _row LIMIT 1"
        ).fetchall()
        if rows:
            row, value, n = rows[0]
            raise InputError(
                Location(shown, row, key),
                "duplicate id: it appeared on an earlier row",
                "remove the duplicated rows (export each record once)",
                value,
                n - 1,
            )

    def _check_time(self, tf: TimeField, shown: str, name: str) -> None:
        """Raise on the first unparsable value (and blanks or 00000000 where a time is required)."""
        col, out = quote(tf.column), quote(parsed(tf.column))
        blank = f"(nullif(trim({col}), '') IS NULL OR trim({col}) IN {_in(_SAP_NO_DATE)})"
        bad = f"{out} IS NULL" if tf.required else f"{out} IS NULL AND NOT {blank}"
        blamed = lit_column = f"'{tf.column}'"
        value = col
        if tf.time_column:  # blame the time column when the date alone is fine
            date_ok = f"try_strptime({_sap_date(col)}, {_formats(_SAP_DATES)}) IS NOT NULL"
            blamed = f"CASE WHEN {date_ok} THEN '{tf.time_column}' ELSE {lit_column} END"
            value = f"CASE WHEN {date_ok} THEN {quote(tf.time_column)} ELSE {col} END"
        rows = self.con.execute(
            f"SELECT _row, {blamed}, {value}, count(*) OVER () FROM {name} WHERE {bad} "
            f"ORDER BY _row LIMIT 1"
        ).fetchall()
        if rows:
            row, column, value, n = rows[0]
            empty = value is None or value.strip() in ("", *_SAP_NO_DATE)
            problem = (
                "a date/time is required here but the value is empty or 00000000"
                if empty
                else "not a valid date/time"
            )
            raise InputError(
                Location(shown, row, column), problem, _FORMAT_HINT[tf.fmt], value, n - 1
            )

    def _check_number(self, column: str, shown: str, name: str) -> None:
        """Raise on the first non-empty value that is not a number (amounts, discounts)."""
        col = quote(column)
        rows = self.con.execute(
            f"SELECT _row, {col}, count(*) OVER () FROM {name} "
            f"WHERE nullif(trim({col}), '') IS NOT NULL "
            f"AND TRY_CAST(trim({col}) AS DOUBLE) IS NULL ORDER BY _row LIMIT 1"
        ).fetchall()
        if rows:
            row, value, n = rows[0]
            raise InputError(
                Location(shown, row, column),
                "not a number",
                "write numbers with a dot as decimal separator and no thousands separator",
                value,
                n - 1,
            )

    def _create_empty(self, spec: SourceTable) -> None:
        """An empty stand-in for an absent optional file, with the declared columns."""
        cols = [f"{quote(c)} VARCHAR" for c in (*spec.columns, *spec.optional_columns)]
        cols += ["_row BIGINT"] + [f"{quote(parsed(t.column))} TIMESTAMP" for t in spec.times]
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.sql_name(spec.name)} ({', '.join(cols)})"
        )

    def extracted_at(self, override: datetime | None) -> datetime:
        """LastDataUpdate: the option, else `_manifest.json` `extracted_at`, else the newest
        timestamp the export carries (modification stamps and event times), else the newest
        file time; `age_source` says which."""
        if override is not None:
            self.age_source = "--extracted-at"
            return _as_utc(override)
        manifest = self.folder / "_manifest.json"
        if manifest.is_file():
            try:
                value = json.loads(manifest.read_text())["extracted_at"]
                self.age_source = "_manifest.json extracted_at"
                return _as_utc(datetime.fromisoformat(str(value)))
            except (KeyError, ValueError, TypeError) as exc:
                raise InputError(
                    Location(f"{self.system}/_manifest.json", column="extracted_at"),
                    f"cannot read the extraction time ({exc})",
                    'write {"extracted_at": "2024-07-27T02:00:00Z"} or pass --extracted-at',
                ) from exc
        newest = self._newest_stamp()
        if newest is not None:
            when, where = newest
            self.age_source = f"newest {where} in the export"
            return when
        mtimes = [p.stat().st_mtime for p in self.folder.iterdir() if p.is_file()]
        self.age_source = "newest file modification time (the export holds no timestamps)"
        newest_mtime = max(mtimes, default=os.stat(self.folder).st_mtime)
        return datetime.fromtimestamp(newest_mtime, UTC).replace(tzinfo=None)

    def _newest_stamp(self) -> tuple[datetime, str] | None:
        """The newest modification stamp or date-time in the loaded files, and where it is.

        Date-only fields are left out (a scheduled invoice or due date may lie ahead)."""
        best: tuple[datetime, str] | None = None
        for spec in self.loaded:
            name = self.sql_name(spec.name)
            have = {r[0].lower(): r[0] for r in self.con.execute(f"DESCRIBE {name}").fetchall()}
            fields = [tf for tf in (*spec.stamps, *spec.times) if tf.fmt != "date"]
            wanted = (parsed(tf.column).lower() for tf in fields)
            cols = list(dict.fromkeys(have[c] for c in wanted if c in have))
            if not cols:
                continue
            row = self.con.execute(
                "SELECT " + ", ".join(f"max({quote(c)})" for c in cols) + f" FROM {name}"
            ).fetchall()[0]
            for c, value in zip(cols, row, strict=True):
                if value is not None and (best is None or value > best[0]):
                    best = (value, f"{spec.name}.{c.removesuffix('@utc')}")
        return best

    def notes(self) -> dict[str, str]:
        """What reading normalised or derived, as log metadata entries (`check` reports them)."""
        out = {}
        key = self.system
        if self.encodings:
            out[f"encoding:{key}"] = ", ".join(f"{f}: {e}" for f, e in self.encodings.items())
        if self.dropped:
            out[f"dropped:{key}"] = "; ".join(f"{f}: {r}" for f, r in self.dropped.items())
        if self.header_only:
            out[f"header_only:{key}"] = ", ".join(self.header_only)
        if self.derived:
            out[f"derived:{key}"] = "; ".join(self.derived)
        if self.age_source:
            out[f"data_age:{key}"] = self.age_source
        return out

    def date_only_events(self, events: str) -> dict[str, str]:
        """Events of this system whose SAP date came without a time (blank ERZET / UTIME):
        they are placed at local midnight. Counted per file and time column by matching each
        event's `source_record` to the row (by the table's `lineage` or key column)."""
        parts = []
        for spec in self.loaded:
            ident = spec.lineage or spec.key
            shown = self.files[spec.name]
            for tf in spec.times:
                cond = date_only_sql(tf)
                if cond is None or ident is None:
                    continue
                label = f"{shown} {tf.time_column}"
                parts.append(
                    f"SELECT DISTINCT '{label}' AS label, '{shown}:{ident}=' || {quote(ident)} "
                    f"AS rec FROM {self.sql_name(spec.name)} WHERE {cond}"
                )
        if not parts:
            return {}
        rows = self.con.execute(
            f"SELECT d.label, count(*) FROM {events} e JOIN ({' UNION ALL '.join(parts)}) d "
            f"ON e.source_record = d.rec GROUP BY 1 ORDER BY 1"
        ).fetchall()
        counts = {label: int(n) for label, n in rows if n}
        return {f"date_only:{self.system}": json.dumps(counts)} if counts else {}


def _as_text(column: str, sql_type: str) -> str:
    """A column as text: nested values (lists, structs, JSON) as JSON, a REST child collection
    nested as an object with `items` (Oracle framework v3+) as its plain item array."""
    if _nested(sql_type) or sql_type == "JSON":
        js = f"to_json({column})"
        return f"coalesce(json_extract({js}, '$.items'), {js})::VARCHAR"
    return f"{column}::VARCHAR"


def _spelled(column: str, names: Iterable[str]) -> str:
    """The file's spelling of a column matched case-insensitively (e.g. `systemmodstamp`)."""
    return next((n for n in names if n.lower() == column.lower()), column)


def _null_ids(column: str) -> str:
    """SQL: a Salesforce id column with the Data Export's null id read as NULL."""
    return f"CASE WHEN {column} IN {_in(SALESFORCE_NULL_IDS)} THEN NULL ELSE {column} END"


def _number(column: str) -> str:
    """SQL ordering a row-version column: as a number when it is one, else as text."""
    c = quote(column)
    return f"coalesce(lpad(TRY_CAST(trim({c}) AS HUGEINT)::VARCHAR, 40, '0'), trim({c}))"


def _as_utc(value: datetime) -> datetime:
    """A naive UTC datetime (aware values are converted, naive ones are taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
