"""Incremental extracts: merge a delta export into the records kept from earlier runs.

`extract --incremental` keeps, in the workspace, every source table's records as they were
read (table `source_rows:<system>:<table>`, all columns as text, before rows marked deleted
or older versions are left out) and each system's extraction time (`source_state`). A
delta export (the records changed since the last run, by SystemModstamp / modifiedon / AEDAT
/ LastUpdateDate) is merged into them:

- a table with a record id: the delta's records replace the kept ones with the same id, unless
  the kept one carries a newer change stamp (then it stays); new ids are added;
- a table without one (histories, audit trails: append-only): the delta's rows are added,
  except those already kept (so applying a delta twice changes nothing);
- deletions arrive as the source marks them (`IsDeleted`, a delete operation...) and are left
  out when the log is derived, as in a full extract.

The log is then derived again from all merged records by the ordinary engine, and the log
and the merged records are written in one refresh transaction. So an incremental run gives
the log a full extract of the same records gives (tests/test_incremental.py), and a failed
one leaves the workspace as it was. A delta older than the workspace (its extraction time,
`_manifest.json` or its newest change stamp, before the last run's) is refused.

The first `--incremental` run into a workspace without a log takes a full export.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from collections.abc import Mapping as MappingT
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb

from ..errors import Lead2CashError
from ..model import SOURCE_SYSTEMS
from ..store import Workspace, quote
from ..workspace.runs import FileAccount
from .engine import Mapping
from .spec import SourceTable, time_sql
from .tables import SystemFolder

__all__ = ["STATE", "keeper", "merge_deltas", "stored_name"]

STATE = "source_state"
"""Per system: the extraction time of the records kept, and the export file name per table."""


_INPUT_LABELS = (" (delta)", " (full export)")  # how a run's accounts name the user's files


def stored_name(system: str, table: str) -> str:
    """The quoted workspace table keeping one source table's records."""
    return quote(f"source_rows:{system}:{table}")


def _kept_state(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[datetime, dict[str, str]]]:
    """Per system key: (extraction time, file name per table) of the kept records."""
    if not _exists(con, STATE):
        return {}
    rows = con.execute(f"SELECT system, extracted_at, files FROM {STATE}").fetchall()
    return {k: (ts, json.loads(files)) for k, ts, files in rows}


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the workspace's current version has the table."""
    return bool(con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
        "AND table_name = ? AND NOT temporary", [table]).fetchall())


def merge_deltas(ws: Workspace, sources: MappingT[str, Path],
                 build: Callable[[str], Mapping], extracted_at: datetime | None,
                 into: Path) -> dict[str, Path]:
    """Read each system's delta folder (checked as an export), refuse one older than the
    kept records, and write the merged records per table as Parquet under `into/<system>`;
    return the merged folders for the engine."""
    ws.reopen_if_changed()  # merge into the newest version (the writer lock is held)
    con = ws.con
    state = _kept_state(con)
    if not state and ws.has_log():
        raise Lead2CashError(
            f"{ws.path}: the workspace keeps no source records to merge a delta into (its log "
            "was not built by extract --incremental)",
            "run extract --incremental once with full exports, then with the deltas",
        )
    left_out = [k for k in state if k not in sources]
    if left_out:  # their kept records would silently leave the log
        raise Lead2CashError(
            f"{ws.path}: the workspace keeps records of {', '.join(left_out)}, which this run "
            "does not name",
            "give every system of the workspace, e.g. --source "
            f"{left_out[0]}=DIR (an empty folder when nothing changed)",
        )
    merged: dict[str, Path] = {}
    for key, path in sources.items():
        mapping = build(key)
        delta = SystemFolder(con, key, Path(path), mapping.timezone, keep_raw=True)
        for spec in mapping.tables:  # a delta holds only the tables that changed
            delta.load(replace(spec, optional=True))
        stamp = delta.extracted_at(extracted_at)
        before, names = state.get(key, (None, {}))
        if before is not None and stamp < before:
            raise Lead2CashError(
                f"{path}: this {key} delta is older than the workspace: its extraction time "
                f"({stamp:%Y-%m-%d %H:%M:%S} UTC, from {delta.age_source}) is before the last "
                f"run's ({before:%Y-%m-%d %H:%M:%S} UTC)",
                "apply the deltas in order, each newer than the last; to start over, run "
                "extract --incremental with full exports into a new workspace",
            )
        since = _delta_since(Path(path))
        if before is None and since:
            raise Lead2CashError(
                f"{path}: a delta (its _manifest.json says delta_since {since}), but the "
                f"workspace keeps no {key} records to merge it into",
                "run extract --incremental with full exports first, then the deltas in order",
            )
        out = into / key
        out.mkdir(parents=True)
        loaded = {t.name for t in delta.loaded}
        names = dict(names)
        for spec in mapping.tables:
            old = f"source_rows:{key}:{spec.name}"
            old_sql = f"main.{quote(old)}" if _exists(con, old) else None
            new_sql = delta.raw_name(spec.name) if spec.name in loaded else None
            if new_sql:
                names[spec.name] = delta.files[spec.name].split("/", 1)[1]
            if old_sql is None and new_sql is None:
                if not spec.optional:  # a first run needs the full export of each table
                    raise Lead2CashError(
                        f"{path}: required file {spec.name}.csv (or .parquet/.json) is missing "
                        f"for {key}, and the workspace keeps no records of it",
                        f"the first extract --incremental needs full exports: export the "
                        f"{spec.name} object/table into {path}",
                    )
                continue
            select = _merged(con, spec, old_sql, new_sql, mapping.timezone)
            if new_sql and ws.active_run is not None:
                label = "delta" if state else "full export"
                ws.active_run.add_file(_delta_account(con, delta, spec, select, label))
            target = _lit(str(out / f"{spec.name}.parquet"))
            con.execute(f"COPY (SELECT * EXCLUDE (_side) FROM ({select})) TO {target} "
                        "(FORMAT parquet)")
        (out / "_merged.json").write_text(json.dumps({"from": str(path), "files": names}))
        manifest = Path(path) / "_manifest.json"
        if manifest.is_file():
            shutil.copy(manifest, out / "_manifest.json")
        merged[key] = out
    return merged


def _delta_since(folder: Path) -> str | None:
    """The `delta_since` a delta export's manifest names (the simulator writes it), if any."""
    manifest = folder / "_manifest.json"
    try:
        return str(json.loads(manifest.read_text()).get("delta_since") or "") or None
    except (OSError, ValueError, AttributeError):
        return None  # no or unreadable manifest: the extraction time check reports it


def _delta_account(con: duckdb.DuckDBPyConnection, delta: SystemFolder, spec: SourceTable,
                   merged: str, label: str) -> FileAccount:
    """A delta file's account: its rows merged in, and those set aside because the kept
    record is newer or the row was already kept (a delta applied twice)."""
    path, _ = delta.rows[spec.name]
    shown = delta.files[spec.name]
    read = con.execute(f"SELECT count(*) FROM {delta.raw_name(spec.name)}").fetchall()[0][0]
    used = int(con.execute(f"SELECT count(*) FROM ({merged}) WHERE _side = 1").fetchall()[0][0])
    aside = int(read) - used
    reason = ("the kept record is newer (its change stamp)" if spec.key
              else "already kept (applied before)")
    return FileAccount.of(path, rows_read=int(read), rows_used=used, rows_set_aside=aside,
                          reasons={reason: aside} if aside else {}, shown=f"{shown} ({label})")


def _merged(con: duckdb.DuckDBPyConnection, spec: SourceTable, old: str | None,
            new: str | None, timezone: str) -> str:
    """SELECT of the merged records of one table: kept ones (in their order), then the
    delta's, by the rules in the module docstring; all columns text, and `_side` (1: the
    record comes from the delta)."""
    if old is None or new is None:
        return f"SELECT *, {0 if new is None else 1} AS _side FROM {old or new}"
    cols = list(dict.fromkeys(
        r[0] for t in (old, new) for r in con.execute(f"DESCRIBE SELECT * FROM {t}").fetchall()
    ))

    def side(table: str) -> str:
        have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()}
        return "SELECT " + ", ".join(
            f"{quote(c)}::VARCHAR AS {quote(c)}" if c in have else f"NULL::VARCHAR AS {quote(c)}"
            for c in cols) + f", row_number() OVER () AS _pos FROM {table}"

    a, b = side(old), side(new)
    out = ", ".join(quote(c) for c in cols)
    if not spec.key or spec.key not in cols:  # append-only: the delta's rows not yet kept
        row = "to_json({" + ", ".join(f"{_lit(c)}: {quote(c)}" for c in cols) + "})"
        nth = f"row_number() OVER (PARTITION BY {row} ORDER BY _pos)"
        return (f"WITH a AS (SELECT *, {row} AS _j, {nth} AS _k FROM ({a})), "
                f"b AS (SELECT *, {row} AS _j, {nth} AS _k FROM ({b})) "
                f"SELECT {out}, _side FROM (SELECT 0 AS _side, * FROM a UNION ALL SELECT 1, * FROM b "
                f"WHERE NOT EXISTS (SELECT 1 FROM a WHERE a._j = b._j AND a._k = b._k)) "
                f"ORDER BY _side, _pos")
    k = quote(spec.key)
    stamp = next((tf for tf in spec.stamps if tf.column in cols
                  and (tf.time_column is None or tf.time_column in cols)), None)
    when = time_sql(stamp, timezone) if stamp else "NULL::TIMESTAMP"
    return f"""
    WITH a AS (SELECT *, {when} AS _stamp FROM ({a})), b AS (SELECT *, {when} AS _stamp FROM ({b})),
    newer_kept AS (  -- ids whose kept record is newer than the delta's: the kept one stays
      SELECT {k} FROM a GROUP BY {k}
      HAVING max(_stamp) > (SELECT max(b._stamp) FROM b WHERE b.{k} = a.{k})
    )
    SELECT {out}, _side FROM (
      SELECT 0 AS _side, * FROM a WHERE {k} IS NULL OR {k} NOT IN (SELECT {k} FROM b
        WHERE {k} IS NOT NULL) OR {k} IN (SELECT {k} FROM newer_kept)
      UNION ALL
      SELECT 1, * FROM b WHERE {k} IS NULL OR {k} NOT IN (SELECT {k} FROM newer_kept)
    ) ORDER BY _side, _pos"""


def keeper(ws: Workspace) -> Callable[[list[SystemFolder]], None]:
    """What the engine calls inside the refresh transaction: keep each folder's records as
    read, and each system's extraction time and file names, for the next incremental run."""
    con = ws.con

    def keep(folders: list[SystemFolder]) -> None:
        run = ws.active_run
        if run is not None:  # the engine read the merged record sets, not the user's files
            run.files[:] = [f if f.file.endswith(_INPUT_LABELS) else replace(
                f, file=f"{f.file} (merged records)") for f in run.files]
        con.execute(f"CREATE OR REPLACE TABLE {STATE} (system VARCHAR, extracted_at TIMESTAMP, "
                    "files VARCHAR)")
        for f in folders:
            for spec in f.loaded:
                con.execute(f"CREATE OR REPLACE TABLE {stored_name(f.system, spec.name)} AS "
                            f"SELECT * FROM {f.raw_name(spec.name)}")
            names = {t: shown.split("/", 1)[1] for t, shown in f.files.items()}
            con.execute(
                f"INSERT INTO {STATE} SELECT ?, ts, ? FROM x_stamps WHERE SourceSystem = ?",
                [f.system, json.dumps(names), SOURCE_SYSTEMS[f.system]],
            )

    return keep


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
