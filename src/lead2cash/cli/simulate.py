"""The `simulate` command: write a simulated company's extracts and ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from ..simulate import LANDSCAPES, SimulationParams, simulate
from .console import console, progress_bars


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the app."""

    @app.command("simulate")
    def simulate_command(
        out: Path = typer.Option(..., "--out", help="Folder to write (one sub-folder per system)."),
        cases: int = typer.Option(2000, "--cases", help="Number of opportunities to simulate."),
        seed: int = typer.Option(1, "--seed", help="Random seed: the same seed writes the same bytes."),
        landscape: str = typer.Option(
            "salesforce+sap-s4hana", "--landscape",
            help=f"Which systems hold the data: {', '.join(LANDSCAPES)}."),
        noise: float = typer.Option(
            0.0, "--noise", min=0.0, max=1.0,
            help="Data-quality noise: share of blank values and duplicate history rows."),
        deviations: float = typer.Option(
            0.0, "--deviations", min=0.0, max=1.0,
            help="Inject deviations from the reference process (orders for lost deals, orders "
            "before the win, payments before the invoice), each at this rate; listed in "
            "deviations.csv."),
        short_ids: float = typer.Option(
            0.0, "--short-ids", min=0.0, max=1.0,
            help="Share of Salesforce id references written in the 15-character form."),
    ) -> None:
        """Simulate a company's Lead-to-Cash process and write its CRM/ERP extracts and ground truth."""
        with progress_bars() as progress:
            params = SimulationParams(noise=noise, short_id_share=short_ids,
                                      order_for_lost_rate=deviations, order_before_win_rate=deviations,
                                      payment_before_invoice_rate=deviations)
            result = simulate(out, cases, seed, landscape, params, progress=progress)
        console.print(
            f"[bold green]{result.cases:,} opportunities, {result.events:,} events[/] "
            f"({result.landscape}, extracted at {result.last_data_update:%Y-%m-%d %H:%M} UTC)")
        for system, n in result.events_by_system.items():
            console.print(f"  {system}: {n:,} events")
        console.print(f"  ground truth: {result.ground_truth}")
        for folder in sorted({f.parent for f in result.files} - {result.out_dir}):
            console.print(f"  extracts: {folder}/")
