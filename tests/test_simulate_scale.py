"""Scale (slow tier): a million events well within a minute, in bounded memory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_simulate.py"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_million_events_in_under_a_minute_and_bounded_memory(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, BENCH, "--events", "1000000", "--out", tmp_path / "o"],
                         capture_output=True, text=True, check=True)
    found = re.search(r"([\d,]+) events in ([\d.]+) s .* peak RSS ([\d,]+) MB", run.stdout)
    assert found, run.stdout
    events, seconds, peak = (float(g.replace(",", "")) for g in found.groups())
    assert events >= 900_000
    assert events / seconds * 60 >= 1_000_000  # the floor: 1M events per minute
    assert peak < 1_500  # one chunk of 50,000 cases at a time
