"""The README's main command: `lead2cash demo` runs end to end on a small company."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from lead2cash.store import Workspace


def test_demo_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "lead2cash", "demo", "--cases", "300", "--seed", "3", "--out", str(out), "--no-serve"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    for part in ("simulated 300 opportunities", "Event log", "Coverage", "Lead-to-Cash KPIs",
                 "lead2cash mine dfg"):
        assert part in text, part
    truth = pq.read_table(out / "ground_truth.parquet")
    with Workspace(out / "lead2cash.duckdb", read_only=True) as ws:
        events, cases = ws.con.execute(
            "SELECT count(*), count(DISTINCT SalesOpportunityId) FROM events").fetchone()
    assert (events, cases) == (truth.num_rows, 300)
    assert (out / "salesforce" / "Opportunity.csv").is_file()
    assert (out / "sap-s4hana" / "VBAK.csv").is_file()
