"""The `mine kpis` command: Lead-to-Cash KPIs as rich tables or JSON, sliced and in working time."""


from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..app.figures import HEADLINES
from ..app.session import parse_bands
from ..app.units import TimeBasis
from .console import console, progress_bars
from .options import DbOption, JsonOption

if TYPE_CHECKING:  # the mining layer (Ibis, pandas) loads when the command runs, not for --help
    from ..mining.kpis import KpiReport

__all__ = ["parse_bands", "register", "render"]


def _cell(value: Any, fmt: str) -> str:
    """A number formatted for a table, '-' when missing."""
    return "-" if value is None else fmt.format(value)


def render(result: "KpiReport") -> None:
    """Print the KPIs as rich tables: headlines (per segment), funnel, stalls, discounts, freshness."""
    from .mine import _table  # the shared table style; imported late (mine imports this module)

    d = result.to_dict()
    b = TimeBasis(d["time"], d["day_s"])
    if d["note"]:
        console.print(f"[yellow]Note:[/] {d['note']}", highlight=False)
    days = b.short("d")

    def in_days(seconds: float | None) -> str:
        return _cell(b.days(seconds), "{:,.1f}")

    rows = [("all cases", d)] + [(s["segment"], s) for s in d["segments"]]
    head = _table(f"Lead-to-Cash KPIs ({b.note()}, as of {d['as_of'] or '-'})",
                  "segment" if result.by or result.amount_bands else "",
                  *(f.header(b) for f in HEADLINES))
    for name, values in rows:
        head.add_row(name, *(f.format(f.value(values), b) for f in HEADLINES))
    natural = console.measure(head, options=console.options.update_width(10_000)).maximum
    if natural > console.width:  # too wide for the terminal: one row per KPI, never "3,0…"
        head = _table(f"Lead-to-Cash KPIs ({b.note()}, as of {d['as_of'] or '-'})",
                      "KPI", *(name for name, _ in rows))
        for f in HEADLINES:
            head.add_row(f.header(b), *(f.format(f.value(values), b) for _, values in rows))
        for column in head.columns:
            column.overflow = "fold"  # a value wraps onto a second line rather than being cut
    funnel = _table("Funnel", "stage", "reached", "→ next", f"time in stage median ({days})", "mean",
                    "p90")
    for s in d["funnel"]:
        funnel.add_row(s["stage"], f"{s['cases_reached']:,}", _cell(s["conversion_to_next"], "{:.1%}"),
                       *(in_days(s[f"time_in_stage_{k}_s"]) for k in ("median", "mean", "p90")))
    stall = _table(f"Open deals by current stage (stalled: > {result.overall.stalls.threshold_days:g} "
                   f"{'working ' if b.working else ''}days)",
                   "stage", "open", "amount", f"age median ({days})", "stalled", "stalled amount")
    for s in d["stalls"]:
        stall.add_row(s["stage"], f"{s['open_cases']:,}", f"{s['open_amount']:,.0f}",
                      in_days(s["age_median_s"]), f"{s['stalled_cases']:,}",
                      f"{s['stalled_amount']:,.0f}")
    disc = d["discounts"]
    bands = _table(f"Discounts: {_cell(disc['share_above_policy'], '{:.1%}')} of "
                   f"{disc['discounted_cases']:,} discounted deals above the "
                   f"{disc['policy_threshold']:.0%} policy", "band / owner", "cases",
                   "mean discount", "win rate", f"cycle median ({days})", "mean amount")
    for g in [*disc["bands"], *disc["owners"]]:
        bands.add_row(g["group"], f"{g['cases']:,}", _cell(g["discount_mean"], "{:.1%}"),
                      _cell(g["win_rate"], "{:.1%}"), in_days(g["sales_cycle_median_s"]),
                      _cell(g["amount_mean"], "{:,.0f}"))
    for t in (head, funnel, stall, bands):
        console.print(t)
    v, f = d["value_at_stake"], d["freshness"]
    console.print(f"[bold]Value at stake:[/] {v['stalled_open_amount']:,.0f} in "
                  f"{v['stalled_open_cases']:,} stalled open deals (of {v['open_amount']:,.0f} open); "
                  f"{v['lost_amount']:,.0f} lost")
    if d["unparsed_terms"]:
        console.print(f"[yellow]Payment terms not understood (left out of late payments):[/] "
                      f"{', '.join(d['unparsed_terms'])}")
    console.print(f"[bold]Data freshness:[/] newest LastDataUpdate {f['newest_update'] or '-'}, "
                  f"{_cell(f['age_hours'], '{:,.1f}')} h old; "
                  f"{f['events_without_update']:,} events without one")


def register(mine_app: typer.Typer) -> None:
    """Attach `mine kpis` to the `mine` sub-app (shared options come from cli/mine.py)."""
    from .mine import (
        CaseTypeOpt,
        EngineName,
        EngineOpt,
        FilterOpt,
        WorkingTimeOpt,
        calendars,
        emit,
        open_engine,
    )

    @mine_app.command("kpis")
    def kpis_command(
        db: DbOption = None,
        filter_: FilterOpt = None,
        as_json: JsonOption = False,
        engine: EngineOpt = EngineName.DUCKDB,
        case_type: CaseTypeOpt = None,
        by: Annotated[str | None, typer.Option(
            "--by", help="Slice by an attribute, e.g. SalesRegion, OpportunityOwner, LeadSource.")] = None,
        amount_bands: Annotated[str | None, typer.Option(
            "--amount-bands", help="Slice by OpportunityAmount bands, e.g. 10000,50000,100000.")] = None,
        working_time: WorkingTimeOpt = None,
        stall_days: Annotated[float, typer.Option(
            min=0, help="Open deals older than this in their stage count as stalled.")] = 30.0,
        discount_policy: Annotated[float, typer.Option(
            min=0, max=1, help="Discount policy threshold (fraction).")] = 0.20,
        discount_bands: Annotated[str, typer.Option(
            help="Discount band edges (fractions).")] = "0.05,0.10,0.20,0.30",
    ) -> None:
        """Lead-to-Cash KPIs: win rate, cycle, funnel, stalls, hand-off, DSO, late payments, discounts."""
        from ..mining.kpis import KpiOptions, report

        bands = parse_bands(amount_bands, "--amount-bands")
        options = KpiOptions(stall_days, parse_bands(discount_bands, "--discount-bands"),
                             discount_policy)
        calendar = calendars(working_time)
        with open_engine(db, engine, filter_, case_type) as (eng, filters), progress_bars() as progress:
            result = report(eng, filters, by, bands, calendar, options, progress=progress)
        emit(result, as_json, render)
