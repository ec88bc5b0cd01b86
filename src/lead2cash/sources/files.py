"""Finding a source table's export file and reading it as real export tools write it.

A table is one file named after it (`Opportunity.csv`, `VBAK.txt`, `VBFA.csv.gz`,
`opportunity.parquet`, `opportunities.json`) or, as Azure Synapse Link for Dataverse writes
it, a folder of CSV partitions (`opportunity/2024.csv`), headerless when the export's
`model.json` (CDM) names the columns. CSV and text files are read strictly (no sniffing):
their encoding (byte-order mark, else UTF-8 if the whole file is UTF-8, else cp1252) and
delimiter are detected as `lead2cash import` does (`io/csvfile.py`), unless the system's
`encoding` setting names one; a non-UTF-8 file is read through a UTF-8 copy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb

from ..errors import InputError, Lead2CashError, Location
from ..io.csvfile import detect_dialect, detect_encoding, is_utf8_name, utf8_copy
from ..store import quote

__all__ = ["FileSource", "find", "read_source"]

SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".parquet", ".json")
_MODEL = "model.json"  # the CDM manifest Synapse Link writes beside the table folders


@dataclass
class FileSource:
    """A SQL source over one table's file(s), the encoding it was read with, temporary copies."""

    sql: str
    encoding: str | None = None  # CSV / text files only
    configured: bool = False  # the encoding came from the `encoding` setting
    temp: list[Path] = field(default_factory=list)

    def cleanup(self) -> None:
        """Remove the UTF-8 copies made for reading."""
        for path in self.temp:
            path.unlink(missing_ok=True)


def find(folder: Path, name: str) -> Path | None:
    """The export of a table: a file with a known suffix, else a folder of CSV partitions."""
    for suffix in SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    part = folder / name
    if part.is_dir() and _partition_files(part):
        return part
    return None


def _partition_files(folder: Path) -> list[Path]:
    """The CSV partitions of a table folder, in name order (Synapse Link: one per year)."""
    parts = (p for p in folder.iterdir() if p.is_file() and p.name.endswith((".csv", ".csv.gz")))
    return sorted(parts)


def model_columns(folder: Path, entity: str) -> list[str] | None:
    """Column names of an entity in the folder's CDM `model.json`, if it lists the entity."""
    path = folder / _MODEL
    if not path.is_file():
        return None
    try:
        model = json.loads(path.read_text(encoding="utf-8-sig"))
        for e in model.get("entities", []):
            if str(e.get("name", "")).lower() == entity.lower():
                return [str(a["name"]) for a in e.get("attributes", [])]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            Location(str(path)),
            f"cannot read the CDM manifest ({exc})",
            "export the table with Synapse Link again, or give it as one CSV with a header row",
        ) from exc
    return None


def _partition_order(folder: Path, entity: str, files: list[Path]) -> list[Path]:
    """Partitions in the order `model.json` lists them (else by name)."""
    try:
        model = json.loads((folder.parent / _MODEL).read_text(encoding="utf-8-sig"))
        entry = next(e for e in model["entities"] if str(e["name"]).lower() == entity.lower())
        names = [Path(unquote(urlparse(p["location"]).path)).name for p in entry["partitions"]]
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return files
    rank = {n: i for i, n in enumerate(names)}
    return sorted(files, key=lambda p: (rank.get(p.name, len(rank)), p.name))


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    shown: str,
    encoding: str | None,
    tmp_dir: Path,
    system: str,
) -> FileSource:
    """A SQL source for one table's export (the caller removes its temporary copies)."""
    p = str(path).replace("'", "''")
    if path.is_dir():
        return _partitions(con, path, shown, encoding, tmp_dir, system)
    if path.suffix == ".parquet":
        return FileSource(f"read_parquet('{p}')")
    if path.suffix == ".json":
        return FileSource(_json_source(con, path, p))
    return _csv([path], shown, encoding, tmp_dir, system, None)


def _partitions(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    shown: str,
    encoding: str | None,
    tmp_dir: Path,
    system: str,
) -> FileSource:
    """A Synapse Link table folder: its partitions as one table, column names from
    `model.json` when it lists the entity (the partitions then have no header row)."""
    files = _partition_order(folder, folder.name, _partition_files(folder))
    names = model_columns(folder.parent, folder.name)
    return _csv(files, shown, encoding, tmp_dir, system, names)


def _csv(
    files: list[Path],
    shown: str,
    encoding: str | None,
    tmp_dir: Path,
    system: str,
    names: list[str] | None,
) -> FileSource:
    """Strict CSV reading of one file or of headerless / headed partitions."""
    configured = encoding is not None
    enc = encoding or detect_encoding(files[0])
    src = FileSource("", enc, configured)
    readable: list[Path] = []
    header: tuple[str, ...] = ()
    delimiter = ","
    for f in files:
        if names is None:
            dialect = detect_dialect(f, None, enc, tmp_dir)
            if dialect.path != f:
                src.temp.append(dialect.path)
            readable.append(dialect.path)
            if header and dialect.header != header:
                raise InputError(
                    Location(f"{shown}/{f.name}"),
                    "its header differs from the first partition's",
                    "export all partitions of the table with the same columns",
                )
            header, delimiter = dialect.header, dialect.delimiter
        else:
            copy = f if is_utf8_name(enc) else utf8_copy(f, enc, tmp_dir)
            if copy != f:
                src.temp.append(copy)
            readable.append(copy)
    columns = names if names is not None else list(header)
    types = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in columns) + "}"
    paths = "[" + ", ".join(_lit(str(r)) for r in readable) + "]"
    src.sql = (
        f"read_csv({paths}, auto_detect = false, header = {str(names is None).lower()}, "
        f"delim = {_lit(delimiter)}, quote = '\"', escape = '\"', columns = {types}, "
        f"strict_mode = true)"
    )
    return src


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _json_source(con: duckdb.DuckDBPyConnection, path: Path, p: str) -> str:
    """A JSON array of records, or a REST page of them in `items` (Oracle) / `value` (OData)."""
    with path.open("rb") as fh:
        head = fh.read(1).strip() or b"["
    # a page is one JSON object: let it be as large as the file
    read = f"read_json('{p}', maximum_object_size = {max(path.stat().st_size + 1024, 1 << 24)})"
    if head != b"{":
        return read
    keys = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {read}").fetchall()}
    envelope = next((k for k in ("items", "value") if k in keys), None)
    if envelope is None:
        return read
    count = con.execute(f"SELECT json_array_length(to_json({quote(envelope)})) FROM {read}"
                        ).fetchone()
    if not count or not count[0]:
        raise InputError(Location(str(path), None, envelope),
                         f"the page's '{envelope}' list is empty: the file holds no records",
                         "export the object again (check the query's filter and the account's "
                         "permissions), or leave the file out if the object is optional")
    return f"(SELECT unnest(r) FROM (SELECT unnest({quote(envelope)}) AS r FROM {read}))"


_DETAILS = ("Expected Number of Columns", "Invalid unicode", "unterminated quote", "Value with")


def read_error(shown: str, src: FileSource, system: str, exc: Exception) -> Lead2CashError:
    """The error for a file DuckDB could not read: the line and cause, and for CSV the encoding
    tried and how to choose another."""
    lines = str(exc).splitlines()
    if src.encoding is None:
        return InputError(
            Location(shown),
            f"cannot read the file ({lines[0]})",
            "export it again as CSV with a header row, Parquet, or JSON",
        )
    line = re.search(r"on Line: (\d+)", lines[0])
    detail = next((x.strip() for x in lines[1:] if x.strip().startswith(_DETAILS)), lines[0])
    how = "set by the encoding setting" if src.configured else "detected"
    other = "cp1252" if is_utf8_name(src.encoding) else "utf-8"
    choose = (
        f'name the file\'s encoding in a --config file: ["{system}"] encoding = "{other}" '
        '(or "utf-16", "latin-1", ...)'
    )
    where = Location(shown, f"line {line.group(1)}" if line else None)
    if "unicode" in detail.lower():
        return InputError(
            where, f"cannot read the file as {src.encoding} ({how}): {detail}", choose
        )
    return InputError(
        where,
        f"cannot read the file as CSV in {src.encoding} ({how}): {detail}",
        'every row needs as many values as the header, quoted with " where a value holds the '
        f"delimiter; if the text is garbled, {choose}",
    )
