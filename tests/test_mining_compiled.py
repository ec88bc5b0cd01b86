"""Standing queries run as SQL compiled once per install (mining/compiled.py): same answers
compiled now, read back from the cache, with the cache off, or through Ibis under a filter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mining_log import load_frame, synthetic_frame
from pandas import testing as pd_testing

from lead2cash.mining import (
    Activity,
    Attribute,
    CaseDuration,
    DuckDBEngine,
    Engine,
    Follows,
    Not,
    Outcome,
    compiled,
    derived,
    dfg,
    variants,
)
from lead2cash.store import EVENTS, Workspace


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compiled") / "log.duckdb"
    with Workspace(path, memory_limit="1GB") as ws:
        load_frame(ws, synthetic_frame(cases=80, seed=3))
    return path


def answers(path: Path, filters: tuple = ()) -> tuple[dict, dict, dict]:
    """Process map (whole and simplified) and variants, as the CLI's JSON."""
    with Workspace(path, read_only=True) as ws, DuckDBEngine(ws) as eng:
        return (dfg.discover(eng, filters).to_dict(), dfg.discover(eng, filters, paths=0.4).to_dict(),
                variants.discover(eng, filters, top=5).to_dict())


def kept(cache: Path) -> dict[str, Path]:
    return {p.stem: p for p in cache.glob("sql-*/*.json")}


def test_compiled_cached_off_and_through_ibis_agree(
    log_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("LEAD2CASH_CACHE_DIR", str(cache))
    first = answers(log_path)  # compiles and keeps the SQL
    assert set(kept(cache)) == {"dfg", "variants"}
    assert answers(log_path) == first  # runs the kept SQL
    monkeypatch.setenv("LEAD2CASH_CACHE_DIR", "off")
    assert answers(log_path) == first
    # A filter keeping every case runs the kept SQL over its selection: the same answers.
    assert answers(log_path, (CaseDuration(min_s=0),)) == first
    assert first[0]["edges"] and first[2]["total_variants"] > 5


FILTERS = [
    (Attribute("SalesRegion", "=", "EMEA"),),
    (Activity("Opportunity Reopened"), Not(Outcome(("Lost",)))),
    (Follows("Quote Issued", "Quote Accepted"), CaseDuration(max_s=200 * 86_400)),
]


@pytest.mark.parametrize("filters", FILTERS)
def test_kept_standing_queries_equal_ibis_under_filters(
    log_path: Path, filters: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a filter, the standing queries run their SQL compiled once against a table of
    kept case ids: the same answers as the queries built by Ibis on the filtered tables."""
    monkeypatch.setenv("LEAD2CASH_CACHE_DIR", str(tmp_path / "cache"))
    kept_sql = answers(log_path, filters)
    assert {"dfg-kept", "variants-kept"} <= set(kept(tmp_path / "cache"))
    with Workspace(log_path, read_only=True) as ws, DuckDBEngine(ws) as eng:
        through_ibis = [Engine.queries(eng, b, filters) for b in (dfg._log_map_queries,
                                                                 variants._variant_query)]
        compiled_sql = [eng.queries(dfg._log_map_queries, filters, key="dfg"),
                        eng.queries(variants._variant_query, filters, key="variants")]
    assert [[rows(r) for r in q] for q in compiled_sql] == [[rows(r) for r in q] for q in through_ibis]
    assert kept_sql[2]["total_cases"] > 0


def rows(columns: dict[str, list]) -> list[tuple]:
    """A query result's rows, in a fixed order (queries do not order their rows)."""
    return sorted(zip(*columns.values(), strict=True), key=repr)


def test_a_selection_kept_elsewhere_gives_the_same_answers(log_path: Path) -> None:
    """A server selects a filter's cases once (`selection_sql`) and hands the ids to the
    engines of later requests (`use_selection`): the same answers as selecting anew."""
    filters = FILTERS[0]
    with Workspace(log_path, read_only=True) as ws, DuckDBEngine(ws) as eng:
        ids = ws.con.sql(eng.selection_sql(filters)).to_arrow_table().column(0)
    with Workspace(log_path, read_only=True) as ws, DuckDBEngine(ws) as eng:
        eng.use_selection(filters, ids)
        given = (dfg.discover(eng, filters).to_dict(), dfg.discover(eng, filters, paths=0.4).to_dict(),
                 variants.discover(eng, filters, top=5).to_dict())
        assert eng.execute(eng.cases(filters).count()) == len(ids)
    assert given == answers(log_path, filters)


def test_cache_off_keeps_nothing(log_path: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAD2CASH_CACHE_DIR", "off")
    assert compiled.cache_dir() is None
    answers(log_path)
    assert not list(tmp_path.iterdir())


def test_stale_or_damaged_entries_are_compiled_again(
    log_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("LEAD2CASH_CACHE_DIR", str(cache))
    good = answers(log_path)
    entry = kept(cache)["dfg"]
    data = json.loads(entry.read_text())
    wrong = {**data, "fingerprint": "another version",
             "sql": ["SELECT 'stale' AS ActivityName"] * len(data["sql"])}
    for damage in (json.dumps(wrong), "{not json", json.dumps({**data, "sql": [1, 2]})):
        entry.write_text(damage)
        assert answers(log_path) == good
        assert json.loads(entry.read_text()) == data  # rewritten


def test_unwritable_cache_costs_only_speed(log_path: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LEAD2CASH_CACHE_DIR", str(blocker / "cache"))
    assert answers(log_path)[0]["edges"]


def test_fingerprint_covers_the_mining_sources_and_compilers() -> None:
    names = {p.name for p in compiled._SOURCES}
    assert {"dfg.py", "variants.py", "derived.py", "stats.py", "filters.py", "compiled.py",
            "kpis_facts.py", "regression.py", "store.py", "model.py", "defaults.py"} <= names
    assert len(compiled.fingerprint()) == 24


def test_lazy_parquet_engine_uses_the_standing_queries(log_path: Path, tmp_path: Path) -> None:
    parquet = tmp_path / "log.parquet"
    with Workspace(log_path, read_only=True) as ws:
        ws.con.execute(f"COPY (SELECT * FROM events) TO '{parquet}' (FORMAT parquet)")
    with DuckDBEngine.from_parquet(parquet) as eng:
        lazy = (dfg.discover(eng).to_dict(), dfg.discover(eng, paths=0.4).to_dict(),
                variants.discover(eng, top=5).to_dict())
    assert lazy == answers(log_path)


def test_stored_kpi_facts_are_part_of_the_compiled_derivation(
    log_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading a log stores its KPI facts and stage visits with the derived tables, from the one
    compiled set; the SQL compiled over the store's declared columns gives what Ibis computes
    on the workspace's own tables."""
    import ibis

    from lead2cash.mining.kpis_facts import case_facts, stored_attributes

    cache = tmp_path / "cache"
    monkeypatch.setenv("LEAD2CASH_CACHE_DIR", str(cache))
    copy = tmp_path / "log.duckdb"
    copy.write_bytes(log_path.read_bytes())
    with Workspace(copy) as ws:
        with ws.transaction() as con:
            derived.derive(con)
        entry = json.loads(kept(cache)["derived"].read_text())
        assert len(entry["sql"]) == len(derived.NAMES) + len(derived.FACT_NAMES)
        backend = ibis.duckdb.from_connection(ws.con)
        events = backend.table(EVENTS)
        declared = derived.stored_events().schema()
        assert {n: t.copy(nullable=True) for n, t in declared.items()} == {
            n: events.schema()[n].copy(nullable=True) for n in declared}
        facts, visits = case_facts(events, None, backend.table(derived.STEPS),
                                   stored_attributes(events))
        for name, expr, key in ((derived.CASE_FACTS, facts, ["SalesOpportunityId"]),
                                (derived.STAGE_VISITS, visits,
                                 ["SalesOpportunityId", "entered", "ActivityName"])):
            stored = ws.con.execute(f"SELECT * FROM {name}").df()
            assert len(stored) > 0
            computed = ws.con.execute(str(backend.compile(expr))).df()[list(stored.columns)]
            pd_testing.assert_frame_equal(
                stored.sort_values(key, ignore_index=True),
                computed.sort_values(key, ignore_index=True))


def test_a_parquet_log_of_the_required_columns_is_mined_without_facts(
    log_path: Path, tmp_path: Path
) -> None:
    parquet = tmp_path / "narrow.parquet"
    with Workspace(log_path, read_only=True) as ws:
        ws.con.execute(f"COPY (SELECT {', '.join(derived.REQUIRED_COLUMNS)} FROM events) "
                       f"TO '{parquet}' (FORMAT parquet)")
    with DuckDBEngine.from_parquet(parquet) as eng:
        assert dfg.discover(eng).to_dict() == answers(log_path)[0]
        assert eng.tables().case_facts is None
