"""The cases a scope keeps: selected once per filter, kept in memory, combined in numpy.

A scope's filters all keep whole cases and combine with AND, so the cases a scope keeps are
the intersection of the cases each of its filters keeps. `CaseSelection` selects each filter's
cases once, on DuckDB, with the SQL the engine compiles for it (`DuckDBEngine.selection_sql`:
the filter's one definition), and keeps them as a boolean mask over the log's cases. A scope
seen for the first time then costs one small query per filter not seen before (the time
window and the region of `region=EMEA&outcome=won` are shared with every other scope that
has them), and none at all when its filters were all seen: the compare view's segments, an
edge clicked in a filtered map, the next page of a case list.

Views take the kept ids: the KPI views restrict the whole log's case facts in memory; the
process map and the variants hand them to their engine (`DuckDBEngine.use_selection`), which
runs its standing SQL over them, so no view selects the cases again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ..mining.derived import CASE, CASES
from ..mining.engine import DuckDBEngine
from .cache import ResultCache

if TYPE_CHECKING:
    from ..mining import Filter
    from ..store import Workspace

__all__ = ["CaseSelection"]


class CaseSelection:
    """Which of a workspace's cases each filter keeps, selected once and kept as masks.

    One per version of the workspace (a refresh brings a new one); the cursor it compiles the
    filters' SQL on is one of that version's connection and closes with it."""

    def __init__(self, ws: Workspace, size: int = 1024) -> None:
        self._ws = ws
        self._masks = ResultCache(size)  # Filter -> boolean mask over `cases()`
        self._whole = ResultCache(1)  # the case ids and start times of the whole log
        self._compile = threading.Lock()
        self._compiler: tuple[Workspace, DuckDBEngine] | None = None

    def _whole_log(self) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """Every case id, sorted; each case's first event time; and the position in that order
        of each row of the cases table (by DuckDB's `rowid`): read once."""
        def read() -> tuple[pa.Array, np.ndarray, np.ndarray]:
            with self._ws.cursor() as ws:
                table = ws.con.sql(f"SELECT rowid, {CASE}, start_time FROM {CASES} "
                                   f"ORDER BY {CASE}").to_arrow_table()
            rowids = table.column("rowid").to_numpy()
            position = np.full(int(rowids.max(initial=-1)) + 1, -1, dtype=np.int64)
            position[rowids] = np.arange(len(rowids))
            starts = table.column("start_time").to_numpy(zero_copy_only=False).astype("datetime64[us]")
            return table.column(CASE).combine_chunks().cast(pa.string()), starts, position
        return self._whole.get("cases", read)

    def cases(self) -> pa.Array:
        """Every case id of the log, sorted (the positions the masks are over)."""
        return self._whole_log()[0]

    def starts(self) -> np.ndarray:
        """Each case's first event time (datetime64[us]), in the order of `cases()`."""
        return self._whole_log()[1]

    @property
    def selected(self) -> int:
        """How many filters were selected on DuckDB so far (each once)."""
        return self._masks.misses

    def forget(self) -> None:
        """Forget every filter's selection (the log's case ids stay)."""
        self._masks.clear()

    def mask(self, filters: Sequence[Filter]) -> np.ndarray | None:
        """Which cases every filter keeps, over `cases()`; None when there is no filter (all)."""
        if not filters:
            return None
        out = self._one(filters[0]).copy()
        for f in filters[1:]:
            out &= self._one(f)
        return out

    def ids(self, filters: Sequence[Filter]) -> pa.Array:
        """The ids of the cases every filter keeps (sorted), for `DuckDBEngine.use_selection`."""
        mask = self.mask(filters)
        return self.cases() if mask is None else self.cases().filter(pa.array(mask))

    def _one(self, f: Filter) -> np.ndarray:
        return self._masks.get(f, lambda: self._select(f))

    def _select(self, f: Filter) -> np.ndarray:
        """The cases one filter keeps: its SQL (compiled by the engine) run on a cursor of its own."""
        with self._compile:  # one compiling engine, kept open: its tables' schemas are read once
            if self._compiler is None:
                cursor = self._ws.cursor()
                self._compiler = (cursor, DuckDBEngine(cursor))
            sql = self._compiler[1].selection_sql((f,))
        with self._ws.cursor() as ws:  # the kept cases' rows of the cases table: no text to look up
            rowids = ws.con.sql(f"SELECT rowid FROM {CASES} WHERE {CASE} IN ({sql})").to_arrow_table()
        rows = self._whole_log()[2][rowids.column(0).to_numpy()]
        if (rows < 0).any():  # the cases table is read-only while served: never, unless it changed
            raise RuntimeError(f"{CASES} changed while being served")
        mask = np.zeros(len(self.cases()), dtype=bool)
        mask[rows] = True
        return mask
