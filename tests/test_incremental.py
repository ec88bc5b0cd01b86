"""Incremental extracts: a full extract at the last cut == the first full extract + deltas.

The simulated company is cut at two and three points in time (`SimulationParams.cut_at`); the
deltas hold the records changed between cuts (`simulate.delta`). On every landscape, merging
them with `extract --incremental` must give exactly the log (and objects) a full extract of
the last snapshot gives; a delta older than the log is refused, the workspace unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lead2cash.errors import Lead2CashError
from lead2cash.simulate import LANDSCAPES, SimulationParams, simulate
from lead2cash.simulate.delta import simulate_delta
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace
from lead2cash.workspace.refresh import file_version

CUTS = ("2025-01-01T02:00:00Z", "2025-02-15T02:00:00Z", "2025-05-01T02:00:00Z")
SLOW = pytest.mark.slow
# every landscape with two and three cuts; the fast tier keeps one of each system
CASES_RUN = [
    pytest.param("salesforce+sap-s4hana", CUTS, id="salesforce+sap-s4hana-three-cuts"),
    pytest.param("dynamics365", CUTS[::2], id="dynamics365-two-cuts"),
    pytest.param("oracle-cx", CUTS[::2], id="oracle-cx-two-cuts"),
    pytest.param("salesforce+sap-s4hana", CUTS[::2], id="salesforce+sap-s4hana-two-cuts",
                 marks=SLOW),
    pytest.param("dynamics365", CUTS, id="dynamics365-three-cuts", marks=SLOW),
    pytest.param("oracle-cx", CUTS, id="oracle-cx-three-cuts", marks=SLOW),
    *(pytest.param(land, cuts, id=f"{land}-{n}-cuts", marks=SLOW)
      for land in ("salesforce", "sap-s4hana") for n, cuts in (("two", CUTS[::2]),
                                                                ("three", CUTS))),
]
CASES = 120


def _params() -> SimulationParams:
    # real-export shapes on (deleted flags, versions, bounced receipts, ...) and some noise
    return SimulationParams(noise=0.1, short_id_share=0.3, entered_closed_rate=0.1,
                            bounced_payment_rate=0.3, order_change_rate=0.3,
                            status_after_shipping=True, quote_versions_share_number=True)


def _folders(root: Path, landscape: str) -> dict[str, Path]:
    return {m.KEY: root / m.KEY for m in LANDSCAPES[landscape].systems}


def _table(ws: Workspace, name: str) -> list[tuple[object, ...]]:
    if not ws.con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = ? "
                          "AND database_name = current_database()", [name]).fetchall():
        return []
    return ws.con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()


def _compare(full: Workspace, inc: Workspace) -> None:
    a, b = _table(full, "events"), _table(inc, "events")
    assert a and len(a) == len(b)
    assert a == b
    for name in ("objects", "object_events", "object_relations"):
        if name == "objects":  # the same objects; each names the record it was read from
            drop = "SELECT * EXCLUDE (source_record) FROM objects ORDER BY ALL"
            have = ws_has(full, name)
            assert have == ws_has(inc, name)
            if have:
                assert full.con.execute(drop).fetchall() == inc.con.execute(drop).fetchall()
                lineage = inc.con.execute("SELECT DISTINCT source_record LIKE '%(merged records)%' "
                                          "FROM objects WHERE source_record IS NOT NULL").fetchall()
                assert lineage == [(True,)], lineage
            continue
        assert _table(full, name) == _table(inc, name), name


def ws_has(ws: Workspace, name: str) -> bool:
    return bool(ws.con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = ? "
                               "AND database_name = current_database()", [name]).fetchall())


@pytest.mark.parametrize(("landscape", "cuts"), CASES_RUN)
def test_incremental_equals_full_rebuild(tmp_path: Path, landscape: str,
                                         cuts: tuple[str, ...]) -> None:
    p = _params()
    first = simulate(tmp_path / "t0", CASES, 5, landscape, replace(p, cut_at=cuts[0]))
    last = simulate(tmp_path / "last", CASES, 5, landscape, replace(p, cut_at=cuts[-1]))
    with Workspace(tmp_path / "inc.duckdb") as inc:
        extract(inc, _folders(first.out_dir, landscape), incremental=True)
        for i, (since, until) in enumerate(zip(cuts, cuts[1:])):
            rows = simulate_delta(tmp_path / f"d{i}", CASES, 5, landscape, p, since, until)
            assert any(rows.values())  # something changed between the cuts
            extract(inc, _folders(tmp_path / f"d{i}", landscape), incremental=True)
            assert inc.last_run is not None and inc.last_run.kind == "extract --incremental"
        with Workspace(tmp_path / "full.duckdb") as full:
            extract(full, _folders(last.out_dir, landscape))
            _compare(full, inc)


def test_older_delta_is_refused(tmp_path: Path) -> None:
    landscape, p = "salesforce+sap-s4hana", _params()
    first = simulate(tmp_path / "t0", 60, 2, landscape, replace(p, cut_at=CUTS[0]))
    simulate_delta(tmp_path / "d1", 60, 2, landscape, p, CUTS[0], CUTS[1])
    db = tmp_path / "inc.duckdb"
    with Workspace(db) as ws:
        extract(ws, _folders(first.out_dir, landscape), incremental=True)
        extract(ws, _folders(tmp_path / "d1", landscape), incremental=True)
        rows = simulate_delta(tmp_path / "d2", 60, 2, landscape, p, CUTS[1], CUTS[2])
        extract(ws, _folders(tmp_path / "d2", landscape), incremental=True)
        # each delta file is accounted for: every row read was merged in
        assert ws.last_run is not None
        deltas = {f.file: f for f in ws.last_run.files if f.file.endswith(" (delta)")}
        expected = {f"{k}/{name} (delta)": n for k, files in rows.items()
                    for name, n in files.items() if f"{k}/{name} (delta)" in deltas}
        assert expected and {f: a.rows_read for f, a in deltas.items()} == expected
        assert all(a.rows_used == a.rows_read for a in deltas.values())
        # the same delta again changes nothing: history rows are set aside as already kept
        log = _table(ws, "events")
        extract(ws, _folders(tmp_path / "d2", landscape), incremental=True)
        assert _table(ws, "events") == log
        again = [f for f in ws.last_run.files if f.file.endswith(" (delta)")]
        assert any("already kept (applied before)" in f.reasons for f in again)
        before = file_version(db)
        with pytest.raises(Lead2CashError, match="delta is older than the workspace"):
            extract(ws, _folders(tmp_path / "d1", landscape), incremental=True)
        assert file_version(db) == before
        assert ws.last_run is not None and ws.last_run.outcome == "failed"
        # a system of the workspace left out of a run would silently leave the log: refused
        with pytest.raises(Lead2CashError, match="keeps records of sap-s4hana"):
            extract(ws, {"salesforce": tmp_path / "d2" / "salesforce"}, incremental=True)
        assert file_version(db) == before


def test_delta_needs_kept_records(tmp_path: Path) -> None:
    landscape = "dynamics365"
    first = simulate(tmp_path / "t0", 40, 3, landscape, SimulationParams(cut_at=CUTS[0]))
    with Workspace(tmp_path / "w.duckdb") as ws:
        extract(ws, _folders(first.out_dir, landscape))  # a full extract keeps no records
        with pytest.raises(Lead2CashError, match="keeps no source records"):
            extract(ws, _folders(first.out_dir, landscape), incremental=True)
    simulate_delta(tmp_path / "d1", 40, 3, landscape, SimulationParams(), CUTS[0], CUTS[1])
    with Workspace(tmp_path / "new.duckdb") as ws:  # a delta needs a full export before it
        with pytest.raises(Lead2CashError, match="keeps no dynamics365 records"):
            extract(ws, _folders(tmp_path / "d1", landscape), incremental=True)
        assert not ws.has_log()


def test_merge_rules_newer_stamp_wins_and_history_appends() -> None:
    """The merge itself: per id the newer change stamp wins (a late-arriving older row does
    not overwrite), new ids are added, deletion marks arrive as rows; append-only tables add
    only rows not yet kept (duplicates inside one delta stay)."""
    import duckdb

    from lead2cash.sources.incremental import _merged
    from lead2cash.sources.spec import SourceTable, TimeField

    con = duckdb.connect()
    con.execute("CREATE TABLE old AS SELECT * FROM (VALUES ('1', 'Won', '2025-02-01T00:00:00Z', "
                "'false'), ('2', 'Open', '2025-01-01T00:00:00Z', 'false')) t(Id, StageName, "
                "SystemModstamp, IsDeleted)")
    con.execute("CREATE TABLE new AS SELECT * FROM (VALUES ('1', 'Open', '2025-01-15T00:00:00Z', "
                "'false'), ('2', 'Lost', '2025-02-02T00:00:00Z', 'true'), ('3', 'Open', "
                "'2025-02-03T00:00:00Z', 'false')) t(Id, StageName, SystemModstamp, IsDeleted)")
    spec = SourceTable("Opportunity", ("Id", "StageName"), key="Id",
                       stamps=(TimeField("SystemModstamp"),))
    rows = con.execute(f"SELECT Id, StageName, IsDeleted, _side FROM "
                       f"({_merged(con, spec, 'old', 'new', 'UTC')})").fetchall()
    assert rows == [("1", "Won", "false", 0), ("2", "Lost", "true", 1), ("3", "Open", "false", 1)]
    con.execute("CREATE TABLE h_old AS SELECT * FROM (VALUES ('a', '1'), ('b', '2')) t(x, y)")
    con.execute("CREATE TABLE h_new AS SELECT * FROM (VALUES ('b', '2'), ('c', '3'), ('c', '3')) "
                "t(x, y)")
    history = SourceTable("OpportunityHistory", ("x", "y"))
    rows = con.execute(f"SELECT x, _side FROM ({_merged(con, history, 'h_old', 'h_new', 'UTC')})"
                       ).fetchall()
    assert rows == [("a", 0), ("b", 0), ("c", 1), ("c", 1)]
