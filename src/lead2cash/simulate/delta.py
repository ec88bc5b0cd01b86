"""Delta extracts: the records of a simulated company that changed between two cut times.

A nightly incremental export asks each system for the records changed since the last run
(Salesforce `SystemModstamp`, Dynamics `modifiedon`, SAP `AEDAT`, Oracle `LastUpdateDate`).
The simulator writes the same set by comparing the company's snapshots at `since` and
`until` (`SimulationParams.cut_at`), file by file: every row of the later snapshot that the
earlier one does not hold as it is (a new record, or a record in its new state). History and
audit tables are append-only, so their delta is their new rows. Comparing the snapshots
rather than stamps keeps the delta exact for every table, also those the simulator writes
without a change stamp. Files with no changed row are left out, as a delta export does.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow.csv as pcsv

from ..errors import Lead2CashError
from .landscape import landscape as find_landscape
from .params import SimulationParams
from .runner import SimulationResult, _ldu, simulate

__all__ = ["simulate_delta", "write_delta"]


def simulate_delta(out_dir: Path, cases: int, seed: int, landscape: str,
                   params: SimulationParams, since: str, until: str) -> dict[str, dict[str, int]]:
    """Write the delta extracts of the company (`cases`, `seed`, `params`) changed in
    (`since`, `until`] into `out_dir` (one folder per system); return rows per system and
    file. Both snapshots are built in a temporary folder."""
    if _ldu(replace(params, cut_at=since)) >= _ldu(replace(params, cut_at=until)):
        raise Lead2CashError(f"--delta-since {since} is not before --cut-at {until}",
                             "give the time of the previous extract, before --cut-at")
    with tempfile.TemporaryDirectory(prefix="lead2cash-delta-") as tmp:
        old = simulate(Path(tmp) / "old", cases, seed, landscape, replace(params, cut_at=since))
        new = simulate(Path(tmp) / "new", cases, seed, landscape, replace(params, cut_at=until))
        return write_delta(old, new, Path(out_dir))


def write_delta(old: SimulationResult, new: SimulationResult,
                out_dir: Path) -> dict[str, dict[str, int]]:
    """Per system folder of `new`: the rows not in `old`'s same file, into `out_dir`."""
    land = find_landscape(new.landscape)
    done: dict[str, dict[str, int]] = {}
    for m in land.systems:
        src, prev, dst = new.out_dir / m.KEY, old.out_dir / m.KEY, out_dir / m.KEY
        dst.mkdir(parents=True, exist_ok=True)
        rows: dict[str, int] = {}
        for path in sorted(src.iterdir()):
            if path.name == "_manifest.json":
                continue
            if path.suffix == ".json":
                n = _json_delta(path, prev / path.name, dst / path.name)
            else:
                n = _csv_delta(path, prev / path.name, dst / path.name, m.CSV_QUOTING)
            if n:
                rows[path.name] = n
        manifest = json.loads((src / "_manifest.json").read_text())
        manifest.update(delta_since=_iso(old.last_data_update), files={
            f: {"rows": n} for f, n in rows.items()})
        (dst / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        done[m.KEY] = rows
    return done


def _iso(when: object) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%SZ}"


def _csv_delta(new: Path, old: Path, out: Path, quoting: str) -> int:
    """Rows of CSV `new` not in `old` (as a multiset, all values as text), in `new`'s order."""
    con = duckdb.connect()
    try:
        read = "read_csv({}, all_varchar = true, header = true)"
        con.execute(f"CREATE TABLE a AS SELECT *, row_number() OVER () AS _pos FROM "
                    f"{read.format(_lit(new))}")
        cols = [r[0] for r in con.execute("DESCRIBE a").fetchall() if r[0] != "_pos"]
        row = "to_json(struct_pack(" + ", ".join(
            f'"{c}" := "{c}"' for c in cols) + "))"
        if old.exists():
            con.execute(f"CREATE TABLE b AS SELECT * FROM {read.format(_lit(old))}")
        else:
            con.execute("CREATE TABLE b AS SELECT * FROM a WHERE FALSE")
        numbered = ("SELECT {row} AS _j, row_number() OVER (PARTITION BY {row} ORDER BY {o}) AS _k"
                    "{extra} FROM {t}")
        table = con.sql(
            f"SELECT a.* EXCLUDE (_pos) FROM ({numbered.format(row=row, o='_pos', extra=', _pos', t='a')}) x "
            f"JOIN a USING (_pos) WHERE NOT EXISTS (SELECT 1 FROM "
            f"({numbered.format(row=row, o='1', extra='', t='b')}) y "
            f"WHERE y._j = x._j AND y._k = x._k) ORDER BY _pos"
        ).to_arrow_table()
    finally:
        con.close()
    if table.num_rows:
        with open(out, "wb") as sink:
            plain = quoting == "none"
            if plain:
                sink.write((",".join(table.column_names) + "\n").encode())
            pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=not plain,
                                                          quoting_style=quoting))
    return table.num_rows


def _json_delta(new: Path, old: Path, out: Path) -> int:
    """Items of a REST collection `new` not in `old` (as a multiset), in `new`'s order."""
    seen = Counter(json.dumps(i, sort_keys=True) for i in _items(old)) if old.exists() else Counter()
    items = []
    for item in _items(new):
        key = json.dumps(item, sort_keys=True)
        if seen[key]:
            seen[key] -= 1
        else:
            items.append(item)
    if items:
        n = len(items)
        out.write_text(json.dumps({"items": items, "count": n, "hasMore": False, "limit": n,
                                   "offset": 0}) + "\n")
    return len(items)


def _items(path: Path) -> list[object]:
    return list(json.loads(path.read_text())["items"])


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"

