"""Streaming writers: each extract file and the ground truth grow chunk by chunk.

Memory stays bounded by one chunk; the bytes depend only on the data (no wall
clock, no host names), so the same seed writes the same files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from .ground_truth import SCHEMA

__all__ = ["ExtractWriter", "GroundTruthWriter"]



class ExtractWriter:
    """One system's folder: a CSV per object or table, then its `_manifest.json`.

    `quoting` is "needed" (Salesforce's Bulk API quotes every text value) or "none" (SAP
    table downloads are plain; the simulator never writes a value holding a comma).
    """

    def __init__(self, folder: Path, quoting: str = "needed") -> None:
        self.folder = folder
        self._quoting = quoting
        self._files: list[BinaryIO] = []
        self._json: dict[str, BinaryIO] = {}
        folder.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pcsv.CSVWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, tables: dict[str, pa.Table]) -> None:
        """Append each table to its file (all values as text, header on the first write).

        A `.json` file is a REST collection `{"items": [...], "count": n, ...}`; its table
        has one column `item` holding each item's JSON text.
        """
        for name, table in tables.items():
            if name.endswith(".json"):
                self._write_items(name, table.column("item").combine_chunks())
                continue
            table = table.cast(pa.schema([(f, pa.string()) for f in table.column_names]))
            if name not in self._writers:
                self._writers[name] = self._open(name, table.schema)
                self.rows[name] = 0
            self._writers[name].write_table(table)
            self.rows[name] += table.num_rows

    def _write_items(self, name: str, items: pa.Array) -> None:
        """Append REST items to a collection file, opening it on the first chunk."""
        if name not in self.rows:
            sink = open(self.folder / name, "wb")  # noqa: SIM115 - closed in close()
            sink.write(b'{"items":[\n')
            self._json[name] = sink
            self.rows[name] = 0
        if len(items):
            one = pa.ListArray.from_arrays(pa.array([0, len(items)], pa.int32()), items)
            text = pc.binary_join(one, ",\n")[0].as_py()
            self._json[name].write(((",\n" if self.rows[name] else "") + text).encode())
        self.rows[name] += len(items)

    def _open(self, name: str, schema: pa.Schema) -> pcsv.CSVWriter:
        """A CSV writer for one file; Arrow always quotes the header, so plain files write it."""
        sink = open(self.folder / name, "wb")  # noqa: SIM115 - closed in close()
        self._files.append(sink)
        plain = self._quoting == "none"
        if plain:
            sink.write((",".join(schema.names) + "\n").encode())
        options = pcsv.WriteOptions(include_header=not plain, quoting_style=self._quoting)
        return pcsv.CSVWriter(sink, schema, write_options=options)

    def close(self, manifest: dict[str, object]) -> list[Path]:
        """Finish the files and write the manifest describing them."""
        for w in self._writers.values():
            w.close()
        for f in self._files:
            f.close()
        for name, sink in self._json.items():
            n = self.rows[name]
            sink.write(f'\n],"count":{n},"hasMore":false,"limit":{n},"offset":0}}\n'.encode())
            sink.close()
        files = sorted(self.rows)
        manifest = {**manifest, "files": {f: {"rows": self.rows[f]} for f in files}}
        path = self.folder / "_manifest.json"
        path.write_text(json.dumps(manifest, indent=2) + "\n")
        return [self.folder / f for f in files] + [path]


class GroundTruthWriter:
    """`ground_truth.parquet` (or, with `OBJECTS_SCHEMA`, its objects), row group by row group."""

    def __init__(self, path: Path, schema: pa.Schema = SCHEMA) -> None:
        self.path = path
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        """Append one chunk's events."""
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> Path:
        """Finish the file."""
        self._writer.close()
        return self.path
