"""Reading one system's export folder into DuckDB: files, columns, ids and timestamps checked.

Every source file becomes a temporary table with all columns as text, a `_row`
column (1-based data row, header not counted) and one parsed UTC `<column>@utc`
TIMESTAMP per declared time field. Bad input fails here, naming file, row, column
and value; a missing optional file becomes an empty table so rules need no special case.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..errors import InputError, Lead2CashError, Location
from ..store import quote

__all__ = ["SourceTable", "SystemFolder", "TimeField", "parsed", "salesforce_id18"]

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".json")


@dataclass(frozen=True, slots=True)
class TimeField:
    """A time column: ISO datetime, plain date, or SAP `YYYYMMDD` (+ `HHMMSS` column) local time."""

    column: str
    fmt: str = "iso"  # iso | date | sap (YYYYMMDD local) | sapts (YYYYMMDDhhmmss UTC)
    time_column: str | None = None  # SAP: the HHMMSS column that goes with the date
    required: bool = True  # False: empty (and SAP `00000000`) means "not yet", not an error


@dataclass(frozen=True, slots=True)
class SourceTable:
    """One export file of a system: its real name, the columns read, its key and time fields."""

    name: str
    columns: tuple[str, ...]
    key: str | None = None
    optional: bool = False
    times: tuple[TimeField, ...] = ()
    optional_columns: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()  # (column, other spelling accepted for it)
    numbers: tuple[str, ...] = ()  # columns that must hold numbers where not empty
    salesforce_ids: tuple[str, ...] = ()  # columns of Salesforce ids: kept in the 18-char form


def parsed(column: str) -> str:
    """Name of the parsed UTC timestamp column that goes with a source time column."""
    return f"{column}@utc"


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
        text = f"nullif(nullif(trim({col}), ''), '00000000')"
        if tf.time_column:
            text = f"{text} || coalesce(nullif(trim({quote(tf.time_column)}), ''), '000000')"
            local = f"try_strptime({text}, '%Y%m%d%H%M%S')"
        else:
            local = f"try_strptime({text}, '%Y%m%d')"
    else:
        raise ValueError(f"unknown time format {tf.fmt!r}")
    if timezone.upper() == "UTC" or not tf.time_column:  # a bare date is midnight UTC: no shift
        return local
    return f"timezone('{timezone}', {local})::TIMESTAMP"


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
    "sap": "write SAP dates as YYYYMMDD and times as HHMMSS",
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
    rows: dict[str, tuple[Path, int]] = field(default_factory=dict)  # table -> (file, rows read)

    def sql_name(self, table: str) -> str:
        """The quoted temporary-table name holding one source table."""
        return quote(f"{self.system}:{table}")

    def find(self, name: str) -> Path | None:
        """The export file for a table name (CSV, gzipped CSV, Parquet or JSON), if any."""
        for suffix in SUFFIXES:
            path = self.folder / f"{name}{suffix}"
            if path.is_file():
                return path
        return None

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
            self.missing.append(spec.name)
            self._create_empty(spec)
            return
        shown = f"{self.system}/{path.name}"
        self.files[spec.name] = shown
        name = self.sql_name(spec.name)
        try:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS {self._reader(path, spec, shown)}"
            )
        except (
            duckdb.InvalidInputException,
            duckdb.ConversionException,
            duckdb.IOException,
        ) as exc:
            raise InputError(
                Location(shown),
                f"cannot read the file ({str(exc).splitlines()[0]})",
                "export it again as CSV with a header row, Parquet, or JSON",
            ) from exc
        count = self.con.execute(f"SELECT count(*) FROM {name}").fetchone()
        self.rows[spec.name] = (path, int(count[0]) if count else 0)
        if spec.key:
            self._check_unique(spec.key, shown, name)
        for tf in spec.times:
            self._check_time(tf, shown, name)
        for column in spec.numbers:
            self._check_number(column, shown, name)

    def _reader(self, path: Path, spec: SourceTable, shown: str) -> str:
        """One SELECT reading a file: its columns as text under their real names, the absent
        optional ones as NULL, the data row number and a parsed UTC column per time field."""
        p = str(path).replace("'", "''")
        if path.suffix == ".parquet":
            src = f"read_parquet('{p}')"
        elif path.suffix == ".json":
            src = self._json_source(path, p)
        else:
            src = f"read_csv('{p}', header = true, all_varchar = true)"
        cols = self.con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
        names = _spec_names([c for c, *_ in cols], spec)
        self._check_columns(spec, shown, set(names.values()))
        text = [
            f"{f'to_json({quote(c)})' if _nested(t) else quote(c)}::VARCHAR AS {quote(names[c])}"
            for c, t, *_ in cols
        ]
        text += [
            f"NULL::VARCHAR AS {quote(c)}" for c in spec.optional_columns if c not in names.values()
        ]
        times = "".join(
            f", {_time_sql(tf, self.timezone)} AS {quote(parsed(tf.column))}" for tf in spec.times
        )
        ids = ", ".join(f"{salesforce_id18(quote(c))} AS {quote(c)}" for c in spec.salesforce_ids)
        return (
            f"SELECT *{f' REPLACE ({ids})' if ids else ''}{times} FROM "
            f"(SELECT {', '.join(text)}, row_number() OVER () AS _row FROM {src})"
        )

    def _json_source(self, path: Path, p: str) -> str:
        """A JSON array of records, or a REST page of them in `items` (Oracle) / `value` (OData)."""
        with path.open("rb") as fh:
            head = fh.read(1).strip() or b"["
        # a page is one JSON object: let it be as large as the file
        read = f"read_json('{p}', maximum_object_size = {max(path.stat().st_size + 1024, 1 << 24)})"
        if head != b"{":
            return read
        keys = {r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {read}").fetchall()}
        envelope = next((k for k in ("items", "value") if k in keys), None)
        if envelope is None:
            return read
        return f"(SELECT unnest(r) FROM (SELECT unnest({envelope}) AS r FROM {read}))"

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
        blank = f"(nullif(trim({col}), '') IS NULL OR trim({col}) = '00000000')"
        bad = f"{out} IS NULL" if tf.required else f"{out} IS NULL AND NOT {blank}"
        blamed = lit_column = f"'{tf.column}'"
        value = col
        if tf.time_column:  # blame the time column when the date alone is fine
            date_ok = f"try_strptime(nullif(trim({col}), '00000000'), '%Y%m%d') IS NOT NULL"
            blamed = f"CASE WHEN {date_ok} THEN '{tf.time_column}' ELSE {lit_column} END"
            value = f"CASE WHEN {date_ok} THEN {quote(tf.time_column)} ELSE {col} END"
        rows = self.con.execute(
            f"SELECT _row, {blamed}, {value}, count(*) OVER () FROM {name} WHERE {bad} "
            f"ORDER BY _row LIMIT 1"
        ).fetchall()
        if rows:
            row, column, value, n = rows[0]
            empty = value is None or value.strip() in ("", "00000000")
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
        """LastDataUpdate: the option, else `_manifest.json` `extracted_at`, else newest mtime."""
        if override is not None:
            return _as_utc(override)
        manifest = self.folder / "_manifest.json"
        if manifest.is_file():
            try:
                value = json.loads(manifest.read_text())["extracted_at"]
                return _as_utc(datetime.fromisoformat(str(value)))
            except (KeyError, ValueError, TypeError) as exc:
                raise InputError(
                    Location(f"{self.system}/_manifest.json", column="extracted_at"),
                    f"cannot read the extraction time ({exc})",
                    'write {"extracted_at": "2024-07-27T02:00:00Z"} or pass --extracted-at',
                ) from exc
        mtimes = [p.stat().st_mtime for p in self.folder.iterdir() if p.is_file()]
        newest = max(mtimes, default=os.stat(self.folder).st_mtime)
        return datetime.fromtimestamp(newest, UTC).replace(tzinfo=None)


def _as_utc(value: datetime) -> datetime:
    """A naive UTC datetime (aware values are converted, naive ones are taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
