"""The `simulate` command: write a simulated company's extracts and ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from ..simulate.landscape import LANDSCAPES  # names only: the simulator loads in the command
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
        export_style: list[str] = typer.Option(  # noqa: B008
            [], "--export-style", metavar="STYLE",
            help="Write a system's files as a real tool exports them (repeat per system): "
                 "data-export, data-loader (salesforce), se16n, slt (sap-s4hana), "
                 "synapse-link (dynamics365), rest-v3 (oracle-cx)."),
        cut_at: str | None = typer.Option(
            None, "--cut-at", metavar="TIME",
            help="Extract the company as of this time (ISO, UTC; not before the default "
                 "extraction, 02:00 the day after the creation window)."),
        delta_since: str | None = typer.Option(
            None, "--delta-since", metavar="TIME",
            help="With --cut-at: write only the records changed after TIME up to --cut-at "
                 "(a delta export for extract --incremental)."),
    ) -> None:
        """Simulate a company's Lead-to-Cash process and write its CRM/ERP extracts and ground truth."""
        if export_style:  # a wrong style fails before anything is written
            from ..simulate.export_style import check_export_styles

            check_export_styles(landscape, export_style)
        from ..simulate import SimulationParams, simulate

        params = SimulationParams(noise=noise, short_id_share=short_ids, cut_at=cut_at,
                                  order_for_lost_rate=deviations, order_before_win_rate=deviations,
                                  payment_before_invoice_rate=deviations)
        if delta_since is not None:
            _write_delta(out, cases, seed, landscape, params, delta_since, export_style)
            return
        with progress_bars() as progress:
            result = simulate(out, cases, seed, landscape, params, progress=progress)
        console.print(
            f"[bold green]{result.cases:,} opportunities, {result.events:,} events[/] "
            f"({result.landscape}, extracted at {result.last_data_update:%Y-%m-%d %H:%M} UTC)")
        for system, n in result.events_by_system.items():
            console.print(f"  {system}: {n:,} events")
        console.print(f"  ground truth: {result.ground_truth}")
        for folder in sorted({f.parent for f in result.files} - {result.out_dir}):
            console.print(f"  extracts: {folder}/")
        if export_style:
            from ..simulate.export_style import STYLES, apply_export_styles

            done = apply_export_styles(result, export_style)
            for name, counts in done.items():
                added = ", ".join(f"{n:,} {what}" for what, n in counts.items())
                console.print(f"  {STYLES[name].system} as {STYLES[name].tool}: {added}")
            console.print(f"  no _manifest.json (real tools write none): extract with "
                          f"--extracted-at {result.last_data_update:%Y-%m-%dT%H:%M:%SZ}")


def _write_delta(out: Path, cases: int, seed: int, landscape: str, params: object,
                 since: str, export_style: list[str]) -> None:
    """`simulate --cut-at T2 --delta-since T1`: the records changed in (T1, T2]."""
    from ..errors import Lead2CashError
    from ..simulate import SimulationParams
    from ..simulate.delta import simulate_delta

    assert isinstance(params, SimulationParams)
    if params.cut_at is None or export_style:
        raise Lead2CashError("--delta-since needs --cut-at (and no --export-style)",
                             "give both times: --delta-since T1 --cut-at T2")
    with progress_bars() as progress:
        progress("simulate two snapshots", 0, 1)
        rows = simulate_delta(out, cases, seed, landscape, params, since, params.cut_at)
        progress("simulate two snapshots", 1, 1)
    console.print(f"[bold green]delta extracts[/] ({landscape}): records changed after "
                  f"{since} up to {params.cut_at}")
    for system, files in rows.items():
        shown = ", ".join(f"{f} {n:,}" for f, n in files.items()) or "no changes"
        console.print(f"  {out / system}/: {shown}")
