"""Reading one system's export folder into DuckDB: files, columns, ids and timestamps checked.

Every source file becomes a temporary table with all columns as text, a `_row`
column (1-based data row, header not counted) and one parsed UTC `<column>@utc`
TIMESTAMP per declared time field. Bad input fails here, naming file, row, column
and value; a missing optional file, or one with a header and no rows, becomes an empty
table so rules need no special case.

Exports as real tools write them are read here, once for every connector: the file's
encoding and shape (`files.py`); rows the source marks as deleted, row versions and text
languages (`exported.py`); Salesforce's empty reference `000000000000000AAA` as NULL. What was
normalised or derived is kept as notes for the log's metadata (`SystemFolder.notes`), which
`check` reports. The declarations themselves (`SourceTable`, `TimeField`) and the SQL for
booleans, ids and times are in `spec.py`.
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
from ..io.csvfile import is_utf8_name
from ..store import quote
from .exported import as_meta, date_only_events, newest_stamp, normalise
from .files import FileSource, find, read_error, read_source
from .spec import (
    SALESFORCE_NULL_IDS,
    SAP_DATES,
    SAP_NO_DATE,
    SourceTable,
    TimeField,
    flag_sql,
    parsed,
    salesforce_id18,
    sap_date,
    sap_formats,
    sql_in,
    time_sql,
)

__all__ = [
    "SourceTable",
    "SystemFolder",
    "TimeField",
    "flag_sql",
    "parsed",
    "salesforce_id18",
]


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
    # optional tables that were absent, their activities and attributes lost (those a connector
    # stands in for, `SourceTable.absent_note`, are noted in `derived` instead)
    missing: list[str] = field(default_factory=list)
    loaded: list[SourceTable] = field(default_factory=list)  # tables read from a file
    header_only: list[str] = field(default_factory=list)  # optional files with no rows
    derived: list[str] = field(default_factory=list)  # what stands in for absent files
    encodings: dict[str, str] = field(default_factory=dict)  # display path -> non-UTF-8 encoding
    dropped: dict[str, str] = field(default_factory=dict)  # display path -> rows left out, why
    age_source: str = ""  # where LastDataUpdate came from
    rows: dict[str, tuple[Path, int]] = field(default_factory=dict)  # table -> (file, rows read)
    # incremental extracts (`incremental.py`): keep each file's records as read, before rows
    # marked deleted or older versions are left out, in `raw_name(table)`; and the file name
    # to show per table (a merged record set is shown under its export's name)
    keep_raw: bool = False
    shown_names: dict[str, str] = field(default_factory=dict)

    def raw_name(self, table: str) -> str:
        """The quoted temporary-table name holding a table's records as read (`keep_raw`)."""
        return quote(f"raw:{self.system}:{table}")

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
        shown = f"{self.system}/{self.shown_names.get(spec.name, path.name)}"
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
        if src.encoding and not is_utf8_name(src.encoding):
            self.encodings[shown] = src.encoding
        count = self.con.execute(f"SELECT count(*) FROM {name}").fetchone()
        self.rows[spec.name] = (path, int(count[0]) if count else 0)
        if self.keep_raw:  # the text columns as read (parsed times are derived again)
            text = [c for c, *_ in self.con.execute(f"DESCRIBE {name}").fetchall()
                    if c != "_row" and not c.endswith("@utc")]
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {self.raw_name(spec.name)} AS SELECT "
                f"{', '.join(quote(c) for c in text)} FROM {name} ORDER BY _row"
            )
        dropped = normalise(self.con, spec, name, shown)
        if dropped:
            self.dropped[shown] = dropped
        if spec.key:
            self._check_unique(spec.key, shown, name)
        for tf in spec.times:
            self._check_time(tf, shown, name)
        for column in spec.numbers:
            self._check_number(column, shown, name)
        for column in spec.json_columns:
            self._check_json(column, shown, name)

    def _absent(self, spec: SourceTable) -> None:
        """An absent (or header-only) optional file: an empty table, noted as missing, or as
        derived where the connector stands in for it (e.g. stage flags from the opportunities)."""
        if spec.absent_note:
            self.derived.append(spec.absent_note)
        else:
            self.missing.append(spec.name)
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
            f", {time_sql(tf, self.timezone)} AS {quote(parsed(tf.column))}"
            for tf in (*spec.times, *stamps)
        )
        ids = ", ".join(
            f"{salesforce_id18(_null_ids(quote(c)))} AS {quote(c)}" for c in spec.salesforce_ids
        )
        return (
            f"SELECT *{f' REPLACE ({ids})' if ids else ''}{times} FROM "
            f"(SELECT {', '.join(text)}, row_number() OVER () AS _row FROM {src.sql})"
        )

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
        blank = f"(nullif(trim({col}), '') IS NULL OR trim({col}) IN {sql_in(SAP_NO_DATE)})"
        bad = f"{out} IS NULL" if tf.required else f"{out} IS NULL AND NOT {blank}"
        blamed = lit_column = f"'{tf.column}'"
        value = col
        if tf.time_column:  # blame the time column when the date alone is fine
            date_ok = f"try_strptime({sap_date(col)}, {sap_formats(SAP_DATES)}) IS NOT NULL"
            blamed = f"CASE WHEN {date_ok} THEN '{tf.time_column}' ELSE {lit_column} END"
            value = f"CASE WHEN {date_ok} THEN {quote(tf.time_column)} ELSE {col} END"
        rows = self.con.execute(
            f"SELECT _row, {blamed}, {value}, count(*) OVER () FROM {name} WHERE {bad} "
            f"ORDER BY _row LIMIT 1"
        ).fetchall()
        if rows:
            row, column, value, n = rows[0]
            empty = value is None or value.strip() in ("", *SAP_NO_DATE)
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

    def _check_json(self, column: str, shown: str, name: str) -> None:
        """Raise on the first non-empty value that is not JSON (Dynamics audit change data)."""
        col = quote(column)
        rows = self.con.execute(
            f"SELECT _row, {col}, count(*) OVER () FROM {name} "
            f"WHERE nullif(trim({col}), '') IS NOT NULL AND NOT coalesce(json_valid({col}), false) "
            "ORDER BY _row LIMIT 1"
        ).fetchall()
        if rows:
            row, value, n = rows[0]
            raise InputError(
                Location(shown, row, column),
                "not valid JSON",
                "export the table again with the change data as the system writes it "
                '(e.g. {"changedAttributes": [...]}), or leave the value empty',
                value[:200],
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
        newest = newest_stamp(self.con, self.loaded, self.sql_name)
        if newest is not None:
            when, where = newest
            self.age_source = f"newest {where} in the export"
            return when
        mtimes = [p.stat().st_mtime for p in self.folder.iterdir() if p.is_file()]
        self.age_source = "newest file modification time (the export holds no timestamps)"
        newest_mtime = max(mtimes, default=os.stat(self.folder).st_mtime)
        return datetime.fromtimestamp(newest_mtime, UTC).replace(tzinfo=None)

    def date_only_events(self, events: str) -> dict[str, str]:
        """Events of this system placed at midnight because their SAP time was blank, per file
        and time column, as a log metadata entry (`exported.date_only_events`)."""
        counts = date_only_events(self.con, self.loaded, self.files, self.sql_name, events)
        return as_meta(self.system, counts)

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
    return f"CASE WHEN {column} IN {sql_in(SALESFORCE_NULL_IDS)} THEN NULL ELSE {column} END"


def _as_utc(value: datetime) -> datetime:
    """A naive UTC datetime (aware values are converted, naive ones are taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
