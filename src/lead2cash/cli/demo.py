"""The `demo` command: a simulated company's CRM and ERP data turned into an analysed event log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .console import console, progress_bars
from .log_commands import print_check, print_summary

__all__ = ["register"]


def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for the extracts and the workspace.")] = Path("lead2cash-demo"),
    cases: Annotated[int, typer.Option(min=1, help="Opportunities to simulate.")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 42,
    landscape: Annotated[str, typer.Option(help="salesforce+sap-s4hana, salesforce, dynamics365, ...")] = "salesforce+sap-s4hana",
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="End by serving the dashboard "
                                        "on the demo's workspace (--no-serve: stop after the tables).")] = True,
    port: Annotated[int, typer.Option(min=1, max=65535, help="First port to try for the dashboard.")] = 8000,
) -> None:
    """Simulate a company, extract its event log through the connectors, check and mine it, then
    serve the dashboard (Ctrl+C stops it)."""
    from ..demo import run_demo
    from .kpis import render

    console.rule("[bold]lead2cash demo")
    with progress_bars() as progress:
        result = run_demo(out, cases, seed, landscape, progress)
    sim = result.simulation
    console.print(f"simulated {sim.cases:,} opportunities ({sim.landscape}) → {sim.events:,} events; "
                  f"extracts in {out}/: " + ", ".join(str(p.name) for p in result.sources.values()))
    console.rule("event log")
    print_summary(result.summary)
    console.rule("checks")
    print_check(result.check)
    console.rule("Lead-to-Cash KPIs by lead source")
    render(result.kpis)
    db = result.workspace
    from ..simulate.params import SimulationParams

    kind = next(iter(SimulationParams().opportunity_types))  # a type the simulated log holds
    console.rule("next")
    console.print(
        f"Explore the log (workspace {db}):\n"
        f"  lead2cash mine dfg --db {db}\n"
        f"  lead2cash mine variants --db {db}\n"
        f"  lead2cash mine kpis --db {db} --by SalesRegion --filter \"OpportunityType = '{kind}'\"\n"
        f"  lead2cash export {out}/log.xes --db {db}\n"
        f"  lead2cash report {out}/report.html --db {db}"
    )
    if serve:
        from ..web.server import free_port
        from ..web.server import serve as serve_dashboard

        console.rule("dashboard")
        serve_dashboard(db, "127.0.0.1", free_port("127.0.0.1", port), open_browser=True,
                        announce=lambda url: console.print(
                            f"[bold green]Open the dashboard:[/] {url}  (Ctrl+C stops it; "
                            f"later: lead2cash serve --db {db})"))


def register(app: typer.Typer) -> None:
    """Attach the demo command to the app."""
    app.command("demo")(demo_cmd)
