"""Property test: on random small logs (ties, microseconds, shuffled rows) the process map,
variants and case durations equal a plain-Python reading of the same events."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mining_log import load_frame

from lead2cash.mining import case_durations, process_map, variant_stats
from lead2cash.store import Workspace

T0 = datetime(2024, 5, 1)
ACTS = ("Opportunity Created", "Quote Issued", "Opportunity Won", "Opportunity Lost")

# (activity, microseconds after T0): tiny offsets make ties inside a case likely
event = st.tuples(st.sampled_from(ACTS), st.integers(0, 3) | st.integers(0, 10**8))
logs = st.lists(st.lists(event, min_size=1, max_size=6), min_size=1, max_size=8)


def _frame(cases: list[list[tuple[str, int]]], rng: random.Random) -> pd.DataFrame:
    """The events as rows in a shuffled source order (event_id = row number)."""
    rows = [{"SalesOpportunityId": f"C{i}", "ActivityName": act,
             "EventTime": T0 + timedelta(microseconds=us)}
            for i, events in enumerate(cases) for act, us in events]
    rng.shuffle(rows)
    return pd.DataFrame(rows).assign(event_id=lambda f: range(len(f)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=logs, rng=st.randoms(use_true_random=False))
def test_random_logs_match_plain_python(
    tmp_path: Path, cases: list[list[tuple[str, int]]], rng: random.Random
) -> None:
    frame = _frame(cases, rng)
    path = tmp_path / "p.duckdb"
    path.unlink(missing_ok=True)
    with Workspace(path, memory_limit="500MB") as ws:
        load_frame(ws, frame)
        pm, vs, cd = process_map(ws), variant_stats(ws), case_durations(ws, per_case=True)
    traces = {c: g for c, g in frame.sort_values(["EventTime", "event_id"]).groupby("SalesOpportunityId")}
    seqs = {c: list(g.ActivityName) for c, g in traces.items()}
    edges = Counter(p for s in seqs.values() for p in zip(s, s[1:]))
    assert {(e.source, e.target): e.frequency for e in pm.edges} == dict(edges)
    assert pm.start_activities == dict(Counter(s[0] for s in seqs.values()))
    assert pm.end_activities == dict(Counter(s[-1] for s in seqs.values()))
    assert {v.activities: v.cases for v in vs.variants} == dict(Counter(tuple(s) for s in seqs.values()))
    expected = {c: (g.EventTime.max() - g.EventTime.min()) / timedelta(microseconds=1) / 1e6
                for c, g in traces.items()}
    assert cd.per_case == pytest.approx(expected, abs=1e-9)


# microsecond values as the engines return them: whole, interpolated (x.5, x.1 noise), huge
microseconds = (st.integers(0, 10**13).map(float)
                | st.floats(0, 1e13, allow_nan=False)
                | st.integers(0, 10**12).map(lambda n: n + 0.5)
                | st.integers(0, 10**12).map(lambda n: n / 10))


@settings(max_examples=500, deadline=None)
@given(us=microseconds)
def test_one_value_in_seconds_equals_the_array_rounding(us: float) -> None:
    """`seconds` (plain Python, no numpy on the `mine dfg` path) gives bit for bit what
    `to_seconds` gives an array: one rounding of durations, whichever path a figure takes."""
    import numpy as np

    from lead2cash.mining.stats import seconds, stats_list, to_seconds

    expected = float(to_seconds(np.array([us]))[0])
    assert seconds(us) == expected
    assert seconds(int(us)) == float(to_seconds(np.array([int(us)]))[0])
    row = {f"d_{f}": [us] for f in ("mean", "median", "p90", "min", "max")}
    assert stats_list({"d_count": [3], **row})[0].median_s == expected
