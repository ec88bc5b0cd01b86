"""The demo pipeline: simulate a company, extract its event log, check it, summarise it, mine KPIs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checks import CheckReport, check_log
from .mining.engine import using
from .mining.kpis import KpiReport, kpis
from .progress import NO_PROGRESS, Progress
from .simulate import SimulationResult, simulate
from .simulate.landscape import landscape as find_landscape
from .sources.registry import extract
from .store import Workspace
from .summary import LogSummary, summarize

__all__ = ["DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    """Everything the demo produced, for the CLI to show."""

    simulation: SimulationResult
    workspace: Path
    sources: dict[str, Path]
    check: CheckReport
    summary: LogSummary
    kpis: KpiReport


def run_demo(out_dir: Path, cases: int = 3000, seed: int = 42,
             landscape: str = "salesforce+sap-s4hana", progress: Progress = NO_PROGRESS) -> DemoResult:
    """Simulate `cases` opportunities into `out_dir`, then build and analyse their event log there."""
    sim = simulate(out_dir, cases, seed, landscape, progress=progress)
    sources = {m.KEY: out_dir / m.KEY for m in find_landscape(landscape).systems}
    db = out_dir / "lead2cash.duckdb"
    with Workspace(db) as ws:
        extract(ws, sources, progress=progress)
        report = check_log(ws)
        summary = summarize(ws)
        with using(ws) as engine:
            kpi_report = kpis(engine.events(), by="LeadSource", progress=progress)
    return DemoResult(sim, db, sources, report, summary, kpi_report)
