"""A log mined straight from Parquet derives lazily: under filters only the kept cases,
and each filter combination is selected once per engine; the answers equal the workspace's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mining_log import load_frame, synthetic_frame
from test_mining_engines import ANALYSES, FILTERS, Analysis

from lead2cash.io.export import export_log
from lead2cash.mining import DuckDBEngine, derived, dfg, parse_filters, variants
from lead2cash.store import Workspace


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBEngine, Path]]:
    """The synthetic log in a workspace (derived at load) and exported to Parquet."""
    folder = tmp_path_factory.mktemp("lazy")
    with Workspace(folder / "log.duckdb", memory_limit="1GB") as ws:
        load_frame(ws, synthetic_frame())
        export_log(ws, folder / "log.parquet")
        yield DuckDBEngine(ws), folder / "log.parquet"


@pytest.mark.parametrize(("name", "analysis"), ANALYSES, ids=[n for n, _ in ANALYSES])
def test_lazy_parquet_engine_equals_the_workspace(
    logs: tuple[DuckDBEngine, Path], name: str, analysis: Analysis
) -> None:
    stored, parquet = logs
    with DuckDBEngine.from_parquet(parquet, memory_limit="500MB") as lazy:
        assert analysis(lazy) == analysis(stored), name


def _temp_tables(engine: DuckDBEngine) -> list[tuple[str, int]]:
    """Name and row count of each temporary table the engine made."""
    con = engine.workspace.con
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY table_name").fetchall()]
    return [(n, con.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0]) for n in names]


def test_filtered_run_derives_only_the_kept_cases_once(logs: tuple[DuckDBEngine, Path]) -> None:
    stored, parquet = logs
    filters = parse_filters([FILTERS[0]])
    kept = stored.cases(filters).count().execute()
    kept_events = stored.steps(filters).count().execute()
    all_events = stored.steps().count().execute()
    assert 0 < kept_events < all_events / 2
    with DuckDBEngine.from_parquet(parquet, memory_limit="500MB") as lazy:
        pm = dfg.discover(lazy, filters)
        made = _temp_tables(lazy)
        vs = variants.discover(lazy, list(filters))  # equal filters: the same selection
        assert _temp_tables(lazy) == made
        assert not derived.is_derived(lazy.workspace.con)  # the whole log was never derived
        keep = next(name for name, _ in made if name.startswith("mining_keep_"))
        rows = dict(made)
        assert len(rows) == 4 and rows[f"{derived.VARIANT_STEPS}_{keep}"] > 0
        assert (rows[keep], rows[f"{derived.CASES}_{keep}"]) == (kept, kept)
        assert rows[f"{derived.STEPS}_{keep}"] == kept_events
        assert pm == dfg.discover(stored, filters) and vs == variants.discover(stored, filters)
        dfg.discover(lazy)  # the whole log, after all
        assert derived.is_derived(lazy.workspace.con)
