"""What real exports carry beyond the data: deleted rows, row versions, languages, stamps.

Applied to a source table once it is read (`tables.SystemFolder`), the same way for every
connector: rows the source marks as deleted are left out, of several rows of one record the
newest version is kept, of a text table's languages the preferred one; the newest timestamp an
export carries dates it (LastDataUpdate without `--extracted-at`); SAP dates without a time are
counted per event. Each returns what it did, for the log's metadata.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

import duckdb

from ..store import quote
from .spec import SourceTable, date_only_sql, flag_sql, parsed, sql_in

__all__ = ["LEFT_OUT", "date_only_events", "newest_stamp", "normalise", "reset_left_out"]


LEFT_OUT = "x_left_out"
"""Temporary table of the rows `normalise` left out: file, row, column, value, reason (the
extract's row accounting sets them aside with that reason, see `accounting.py`)."""


def reset_left_out(con: duckdb.DuckDBPyConnection) -> None:
    """Start an extract with no rows left out yet."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {LEFT_OUT} (file VARCHAR, row VARCHAR, "
        '"column" VARCHAR, value VARCHAR, reason VARCHAR)'
    )


def normalise(con: duckdb.DuckDBPyConnection, spec: SourceTable, name: str, shown: str) -> str:
    """Keep a record's newest version, the preferred language, and no deleted rows, in the
    temporary table `name` (read from the file `shown`); return what was left out (empty:
    nothing). Each row left out is noted in LEFT_OUT with its reason."""
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {LEFT_OUT} (file VARCHAR, row VARCHAR, "
        '"column" VARCHAR, value VARCHAR, reason VARCHAR)'
    )
    columns = {r[0].lower(): r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()}
    reasons = []
    version = next((columns[v.lower()] for v in spec.versions if v.lower() in columns), None)
    if spec.key and version:
        n = _keep_first(con, name, shown, spec.key,
                        f"{_number(version)} DESC NULLS LAST, _row DESC",
                        f"an older version of its record (by {version})")
        if n:
            reasons.append(f"{n} older version(s) by {version}")
    language = columns.get((spec.language or "").lower())
    if spec.key and language:
        lang = f"trim({quote(language)})"
        pref = " ".join(f"WHEN {sql_in((v,))} THEN {i}" for i, v in enumerate(spec.languages))
        base = (
            f"({lang} = trim({quote(columns['source_lang'])}))"
            if "source_lang" in columns
            else "FALSE"
        )
        order = (
            f"CASE {lang} {pref or 'WHEN NULL THEN 0'} ELSE {len(spec.languages)} END, "
            f"{base} DESC, {lang}, _row"
        )
        others = f"a text in another language than {'/'.join(spec.languages)}"
        n = _keep_first(con, name, shown, spec.key, order, others)
        if n:
            reasons.append(f"{n} row(s) in other languages than {'/'.join(spec.languages)}")
    marks = [(columns[c.lower()], values) for c, values in spec.deleted if c.lower() in columns]
    if marks:
        where = " OR ".join(
            f"coalesce({flag_sql(quote(c))}, FALSE)"
            if v is None
            else f"lower(trim(coalesce({quote(c)}, ''))) IN {sql_in(v)}"
            for c, v in marks
        )
        flags = ", ".join(c for c, _ in marks)
        n = con.execute(f"SELECT count(*) FROM {name} WHERE {where}").fetchall()[0][0]
        if n:
            con.execute(
                f"INSERT INTO {LEFT_OUT} SELECT ?, 'row ' || _row, ?, NULL, ? "
                f"FROM {name} WHERE {where} ORDER BY _row",
                [shown, flags, f"marked deleted ({flags})"],
            )
            con.execute(f"DELETE FROM {name} WHERE {where}")
            reasons.append(f"{n} marked deleted ({flags})")
    return "; ".join(reasons)


def _keep_first(con: duckdb.DuckDBPyConnection, name: str, shown: str, key: str, order: str,
                reason: str) -> int:
    """Keep the first row per key in the given order (the others go to LEFT_OUT with
    `reason`); return how many were dropped."""
    before = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    ranked = f"row_number() OVER (PARTITION BY {quote(key)} ORDER BY {order})"
    con.execute(
        f"INSERT INTO {LEFT_OUT} SELECT ?, 'row ' || _row, ?, CAST({quote(key)} AS VARCHAR), ? "
        f"FROM {name} QUALIFY {ranked} > 1 ORDER BY _row",
        [shown, key, reason],
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name} QUALIFY {ranked} = 1 "
        "ORDER BY _row"
    )
    return int(before - con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])


def _number(column: str) -> str:
    """SQL ordering a row-version column: as a number when it is one, else as text."""
    c = quote(column)
    return f"coalesce(lpad(TRY_CAST(trim({c}) AS HUGEINT)::VARCHAR, 40, '0'), trim({c}))"


def newest_stamp(
    con: duckdb.DuckDBPyConnection, loaded: Sequence[SourceTable], table: Callable[[str], str]
) -> tuple[datetime, str] | None:
    """The newest modification stamp or date-time in the loaded files, and where it is
    (`Table.Column`). Date-only fields are left out: a scheduled invoice or due date may lie
    ahead of the export."""
    best: tuple[datetime, str] | None = None
    for spec in loaded:
        name = table(spec.name)
        have = {r[0].lower(): r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()}
        fields = [tf for tf in (*spec.stamps, *spec.times) if tf.fmt != "date"]
        wanted = (parsed(tf.column).lower() for tf in fields)
        cols = list(dict.fromkeys(have[c] for c in wanted if c in have))
        if not cols:
            continue
        row = con.execute(
            "SELECT " + ", ".join(f"max({quote(c)})" for c in cols) + f" FROM {name}"
        ).fetchall()[0]
        for c, value in zip(cols, row, strict=True):
            if value is not None and (best is None or value > best[0]):
                best = (value, f"{spec.name}.{c.removesuffix('@utc')}")
    return best


def date_only_events(
    con: duckdb.DuckDBPyConnection,
    loaded: Sequence[SourceTable],
    files: dict[str, str],
    table: Callable[[str], str],
    events: str,
) -> dict[str, int]:
    """Events whose SAP date came without a time (blank ERZET / UTIME): placed at local
    midnight. Counted per file and time column by matching each event's `source_record` to
    the row it names (by the table's `lineage` column, else its key)."""
    parts = []
    for spec in loaded:
        ident = spec.lineage or spec.key
        shown = files[spec.name].replace("'", "''")
        for tf in spec.times:
            cond = date_only_sql(tf)
            if cond is None or ident is None:
                continue
            parts.append(
                f"SELECT DISTINCT '{shown} {tf.time_column}' AS label, "
                f"'{shown}:{ident}=' || {quote(ident)} AS rec FROM {table(spec.name)} WHERE {cond}"
            )
    if not parts:
        return {}
    rows = con.execute(
        f"SELECT d.label, count(*) FROM {events} e JOIN ({' UNION ALL '.join(parts)}) d "
        f"ON e.source_record = d.rec GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {label: int(n) for label, n in rows if n}


def as_meta(system: str, counts: dict[str, int]) -> dict[str, str]:
    """The date-only counts as a log metadata entry (none when there are none)."""
    return {f"date_only:{system}": json.dumps(counts)} if counts else {}
