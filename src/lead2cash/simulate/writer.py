"""Streaming writers: each extract file and the ground truth grow chunk by chunk.

Memory stays bounded by one chunk; the bytes depend only on the data (no wall
clock, no host names), so the same seed writes the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from .ground_truth import SCHEMA

__all__ = ["ExtractWriter", "GroundTruthWriter"]

_CSV = pcsv.WriteOptions(include_header=True, quoting_style="needed")


class ExtractWriter:
    """One system's folder: a CSV per object or table, then its `_manifest.json`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pcsv.CSVWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, tables: dict[str, pa.Table]) -> None:
        """Append each table to its file (all values as text, header on the first write)."""
        for name, table in tables.items():
            table = table.cast(pa.schema([(f, pa.string()) for f in table.column_names]))
            if name not in self._writers:
                self._writers[name] = pcsv.CSVWriter(
                    self.folder / name, table.schema, write_options=_CSV)
                self.rows[name] = 0
            self._writers[name].write_table(table)
            self.rows[name] += table.num_rows

    def close(self, manifest: dict[str, object]) -> list[Path]:
        """Finish the files and write the manifest describing them."""
        for w in self._writers.values():
            w.close()
        files = sorted(self._writers)
        manifest = {**manifest, "files": {f: {"rows": self.rows[f]} for f in files}}
        path = self.folder / "_manifest.json"
        path.write_text(json.dumps(manifest, indent=2) + "\n")
        return [self.folder / f for f in files] + [path]


class GroundTruthWriter:
    """`ground_truth.parquet`, written row group by row group."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = pq.ParquetWriter(path, SCHEMA, compression="zstd")
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        """Append one chunk's events."""
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> Path:
        """Finish the file."""
        self._writer.close()
        return self.path
