"""The SQL of the standing mining queries, compiled from their Ibis expressions once per install.

Every query is written once, as an Ibis expression (derived.py, dfg.py, variants.py). Importing
Ibis and compiling costs a process more than a second, several times what the query itself
takes on a million events, and every CLI command is a new process. Yet the SQL of a query over
the workspace's stored tables depends on the code only (the expression, and the Ibis and
sqlglot versions that compile it), never on the data: such queries are compiled against unbound
tables with the schemas the derivations give (see `derived.stored_tables`), so the SQL runs on
any workspace. This module keeps that SQL in a cache folder, under a fingerprint of the mining
sources and of those versions, and later processes run it straight on DuckDB without importing
Ibis. Editing any mining source or upgrading Ibis or sqlglot changes the fingerprint, so stale
SQL is never run; a folder that cannot be written only costs speed (each process compiles).

Folder: `$LEAD2CASH_CACHE_DIR`, else `$XDG_CACHE_HOME/lead2cash`, else `~/.cache/lead2cash`;
`LEAD2CASH_CACHE_DIR=off` turns the cache off. This module must not import Ibis or pandas.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["Columns", "cache_dir", "fetch", "fingerprint", "statements"]

Columns = dict[str, list[Any]]
"""A query result as columns: name → values (None where SQL gives NULL), in row order."""

_PACKAGE = Path(__file__).resolve().parent
_SOURCES = (*sorted(_PACKAGE.glob("*.py")),
            *(_PACKAGE.parent / name for name in ("store.py", "model.py", "sources/defaults.py")))
"""What the compiled SQL depends on besides the compilers: the mining sources, the store's
columns, and the model's activity names and systems' stage orders the KPI facts encode."""
_COMPILERS = ("ibis-framework", "sqlglot")


def cache_dir() -> Path | None:
    """Where compiled SQL is kept; None when the cache is turned off."""
    chosen = os.environ.get("LEAD2CASH_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lead2cash"


@cache
def fingerprint() -> str:
    """A digest of what the compiled SQL depends on: the mining sources and the compilers."""
    digest = hashlib.sha256()
    for name in _COMPILERS:
        try:
            digest.update(f"{name}=={metadata.version(name)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} missing\n".encode())
    for path in _SOURCES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def statements(key: str, compile_sql: Callable[[], Sequence[str]]) -> list[str]:
    """The SQL statements of the standing query `key`: from the cache, else compiled now (which
    imports Ibis) and kept for the next process."""
    folder = cache_dir()
    try:
        fp = fingerprint()
    except OSError:  # the sources cannot be read (an unusual install): compile every time
        folder, fp = None, ""
    path = folder / f"sql-{fp}" / f"{key}.json" if folder is not None else None
    if path is not None:
        found = _read(path, key, fp)
        if found is not None:
            return found
    sql = [str(s) for s in compile_sql()]
    if path is not None:
        _write(path, {"key": key, "fingerprint": fp, "sql": sql})
    return sql


def _read(path: Path, key: str, fp: str) -> list[str] | None:
    """The statements kept at `path` if it holds this key and fingerprint, else None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sql = data.get("sql") if isinstance(data, dict) else None
    if (data.get("key"), data.get("fingerprint")) != (key, fp) or not isinstance(sql, list) \
            or not all(isinstance(s, str) for s in sql):
        return None
    return sql


def _write(path: Path, data: dict[str, Any]) -> None:
    """Keep compiled statements: written aside, then renamed into place (processes may race)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    except OSError:
        return  # a read-only or missing home costs speed, not correctness
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> Columns:
    """Run one query and return its result as columns."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description or ()]
    rows = cur.fetchall()
    return {n: [r[i] for r in rows] for i, n in enumerate(names)}
