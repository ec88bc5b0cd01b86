"""Property tests (hypothesis): the round trips hold for generated inputs, not just chosen ones.

(a) simulate -> extract equals the simulator's ground truth for random seeds, landscapes,
    noise and cut times (few small cases each; a larger run is marked slow);
(b) import -> export -> import is the identity for CSV, Parquet and XES on random logs:
    unicode activity and resource names, ties in time, time-zone offsets, missing values.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lead2cash.io.export import export_log
from lead2cash.io.importer import import_log
from lead2cash.simulate import LANDSCAPES, SimulationParams, simulate
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

from test_extract_roundtrip import LANDSCAPE_NAMES, _differences

# -- (a) simulate -> extract == ground truth ---------------------------------------------------

CUT_DAYS = st.integers(min_value=0, max_value=400)  # days after the default extraction


def _round_trip(seed: int, landscape: str, noise: float, days: int, cases: int) -> None:
    cut = datetime(2025, 1, 1, 2, tzinfo=timezone.utc) + timedelta(days=days)
    params = SimulationParams(noise=noise, cut_at=cut.strftime("%Y-%m-%dT%H:%M:%SZ"))
    with tempfile.TemporaryDirectory() as tmp:
        result = simulate(Path(tmp) / "sim", cases, seed, landscape, params)
        with Workspace(Path(tmp) / "w.duckdb") as ws:
            extract(ws, {m.KEY: Path(tmp) / "sim" / m.KEY for m in LANDSCAPES[landscape].systems})
            assert _differences(ws, result.ground_truth) == {}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), landscape=st.sampled_from(LANDSCAPE_NAMES),
       noise=st.sampled_from([0.0, 0.1, 0.3]), days=CUT_DAYS)
def test_extract_equals_ground_truth_for_any_seed(seed: int, landscape: str, noise: float,
                                                  days: int) -> None:
    _round_trip(seed, landscape, noise, days, 25)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), landscape=st.sampled_from(LANDSCAPE_NAMES),
       noise=st.sampled_from([0.0, 0.1, 0.3]), days=CUT_DAYS)
def test_extract_equals_ground_truth_larger(seed: int, landscape: str, noise: float,
                                            days: int) -> None:
    _round_trip(seed, landscape, noise, days, 200)


# -- (b) import -> export -> import is the identity --------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s.strip() != "")
BASE = datetime(2024, 3, 1, 9, 0)
OFFSETS = st.sampled_from([0, 60, -300, 330, 345, -210])  # minutes east of UTC


@st.composite
def logs(draw: st.DrawFn) -> list[dict[str, str]]:
    """A random event log as CSV rows: few cases, repeated times (ties), mixed offsets."""
    activities = draw(st.lists(TEXT, min_size=1, max_size=4, unique=True))
    resources = draw(st.lists(TEXT, min_size=1, max_size=3, unique=True))
    rows = []
    for case in range(draw(st.integers(1, 4))):
        for _ in range(draw(st.integers(1, 5))):
            minutes = draw(st.sampled_from([0, 0, 30, 61, 1440, 100_000]))
            offset = draw(OFFSETS)
            tz = timezone(timedelta(minutes=offset))
            when = (BASE + timedelta(minutes=minutes)).replace(tzinfo=timezone.utc).astimezone(tz)
            rows.append({
                "SalesOpportunityId": f"OPP-{case}",
                "ActivityName": draw(st.sampled_from(activities)),
                "EventTime": when.isoformat(),
                "Resource": draw(st.one_of(st.just(""), st.sampled_from(resources))),
                "OpportunityAmount": draw(st.sampled_from(["", "1000", "25000.5"])),
            })
    return rows


def _table(ws: Workspace) -> list[tuple[object, ...]]:
    return ws.con.execute("SELECT * EXCLUDE (source_record, event_id) FROM events "
                          "ORDER BY ALL").fetchall()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xes"])
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=logs())
def test_import_export_import_is_identity(fmt: str, rows: list[dict[str, str]]) -> None:
    # XES writes no attribute for a missing value: a column missing everywhere is the known
    # defect held by test_xes_keeps_a_column_without_values (xfail until fixed)
    assume(fmt != "xes" or any(r["Resource"] for r in rows))
    _identity(fmt, rows)


@pytest.mark.xfail(strict=True, reason="defect found by the property: an extra column with no "
                   "value at all is lost by XES (no <global> declaration is written or read)")
def test_xes_keeps_a_column_without_values() -> None:
    _identity("xes", [{"SalesOpportunityId": "OPP-0", "ActivityName": "0",
                       "EventTime": "2024-03-01T09:00:00+00:00", "Resource": "",
                       "OpportunityAmount": ""}])


def _identity(fmt: str, rows: list[dict[str, str]]) -> None:
    """Import `rows` (as CSV), export as `fmt`, import that: the same log."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src.csv"
        with open(src, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        with Workspace(Path(tmp) / "a.duckdb") as a, Workspace(Path(tmp) / "b.duckdb") as b:
            import_log(a, src)
            export_log(a, Path(tmp) / f"out.{fmt}")
            import_log(b, Path(tmp) / f"out.{fmt}")
            assert _table(b) == _table(a)
            assert b.columns() == a.columns()
