"""Working time in the process map, variants and performance, on a log worked out by hand.

The calendar is the built-in 'default' (Mon-Fri 09:00-17:00 UTC) with EMEA on the
German calendar (Europe/Berlin: in March 2024, 08:00-16:00 UTC). 2024-03-01 is a Friday.
A 24/7 UTC calendar must give exactly the calendar-time results.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from mining_log import load_frame, synthetic_frame
from typer.testing import CliRunner

from lead2cash.cli import app
from lead2cash.mining import DuckDBEngine, dfg, performance
from lead2cash.mining import variants as variants_mod
from lead2cash.mining.calendar import Calendar, CalendarSet, load_calendars
from lead2cash.store import Workspace

H = 3600.0
CREATED, QUALIFIED, QUOTE = "Opportunity Created", "Opportunity Qualified", "Quote Issued"
WON, LOST = "Opportunity Won", "Opportunity Lost"
# case: (region, [(time, activity, SalesStage)])
HAND = {
    "A": (None, [(datetime(2024, 3, 1, 16), CREATED, "Prospecting"),       # Fri 16:00
                 (datetime(2024, 3, 4, 10), QUALIFIED, "Qualification"),    # Mon: 1 h + 1 h
                 (datetime(2024, 3, 4, 10, 0, 0, 250), QUOTE, "Qualification"),  # 250 us later
                 (datetime(2024, 3, 5, 12, 30), WON, "Closed Won")]),       # Tue: 7 h + 3.5 h
    "B": ("EMEA", [(datetime(2024, 3, 6, 7), CREATED, "Prospecting"),      # Wed 08:00 Berlin
                   (datetime(2024, 3, 6, 15), QUALIFIED, "Qualification"),  # 7 h
                   (datetime(2024, 3, 7, 9), QUOTE, "Qualification"),       # 1 h + 1 h
                   (datetime(2024, 3, 9, 10), LOST, "Closed Lost")]),       # Thu 7 h + Fri 8 h
    "C": ("APAC", [(datetime(2024, 3, 9, 12), CREATED, "Prospecting"),     # Sat: no calendar
                   (datetime(2024, 3, 10, 12), QUALIFIED, "Qualification")]),  # for APAC: 0 h
    "D": ("EMEA", [(datetime(2024, 3, 4, 15, 30), CREATED, "Prospecting"),  # Mon 0.5 h
                   (datetime(2024, 3, 5, 8, 30), QUALIFIED, "Qualification")]),  # Tue 0.5 h
}
ALWAYS = CalendarSet(Calendar(name="always", weekdays=tuple(range(7)), periods=((0, 86_400),),
                              holidays=(), timezone="UTC"))


def _calendar_file(folder: Path) -> Path:
    """The default calendar, with EMEA on the German one."""
    path = folder / "calendar.toml"
    path.write_text('[regions.EMEA]\nextends = "de"\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBEngine, Path, CalendarSet]]:
    """The hand log in a workspace, its engine, and the calendars."""
    rows = [{"SalesOpportunityId": c, "ActivityName": a, "EventTime": t, "SalesStage": s,
             "SalesRegion": region} for c, (region, evs) in HAND.items() for t, a, s in evs]
    frame = pd.DataFrame(rows).assign(event_id=lambda f: range(len(f)))
    folder = tmp_path_factory.mktemp("working")
    path = folder / "log.duckdb"
    with Workspace(path, memory_limit="1GB") as ws:
        load_frame(ws, frame)
    calendars = load_calendars(str(_calendar_file(folder)))
    with Workspace(path, read_only=True) as ws:
        yield DuckDBEngine(ws), path, calendars


def _stats(d: object) -> tuple[object, ...]:
    """Count, mean, median, p90, min and max of a DurationStats."""
    return tuple(getattr(d, f) for f in ("count", "mean_s", "median_s", "p90_s", "min_s", "max_s"))


def test_process_map_edges_in_working_time(hand: tuple[DuckDBEngine, Path, CalendarSet]) -> None:
    engine, _, cal = hand
    edges = {(e.source, e.target): e for e in dfg.discover(engine, calendar=cal).edges}
    # A 2 h, B 7 h (Berlin hours), C 0 (a weekend), D 1 h.
    assert _stats(edges[CREATED, QUALIFIED].duration) == (
        4, 2.5 * H, 1.5 * H, pytest.approx(5.5 * H), 0.0, 7 * H)
    assert _stats(edges[QUALIFIED, QUOTE].duration) == (
        2, 3600.000125, 3600.000125, pytest.approx(6480.000025), 0.00025, 2 * H)
    assert edges[QUOTE, WON].duration.mean_s == 10.5 * H - 0.00025
    assert edges[QUOTE, LOST].duration.mean_s == 15 * H
    assert edges[CREATED, QUALIFIED].frequency == 4 and edges[CREATED, QUALIFIED].cases == 4
    # Calendar time is untouched: 66 h, 8 h, 24 h, 17 h.
    plain = {(e.source, e.target): e for e in dfg.discover(engine).edges}
    assert _stats(plain[CREATED, QUALIFIED].duration)[1:] == (
        28.75 * H, 20.5 * H, pytest.approx(53.4 * H), 8 * H, 66 * H)


def test_variants_and_case_durations_in_working_time(hand: tuple[DuckDBEngine, Path, CalendarSet]) -> None:
    engine, _, cal = hand
    short = variants_mod.discover(engine, top=1, calendar=cal).variants[0]
    assert short.activities == (CREATED, QUALIFIED) and short.cases == 2  # C and D
    assert _stats(short.duration) == (2, 0.5 * H, 0.5 * H, pytest.approx(0.9 * H), 0.0, H)
    d = performance.case_durations(engine, per_case=True, calendar=cal)
    assert d.per_case == {"A": 12.5 * H, "B": 24 * H, "C": 0.0, "D": H}
    assert _stats(d.duration) == (4, 9.375 * H, 6.75 * H, pytest.approx(20.55 * H), 0.0, 24 * H)


def test_between_throughput_and_stages_in_working_time(
    hand: tuple[DuckDBEngine, Path, CalendarSet],
) -> None:
    engine, _, cal = hand
    quote_won = performance.between(engine, QUOTE, WON, calendar=cal)
    assert (quote_won.duration.count, quote_won.duration.mean_s) == (1, 10.5 * H - 0.00025)
    back = performance.between(engine, QUALIFIED, CREATED, calendar=cal)
    assert (back.reversed_cases, back.duration.count, back.duration.mean_s) == (4, 0, None)
    steps = performance.throughput(engine, [CREATED, QUALIFIED, QUOTE], calendar=cal)
    assert [b.duration.mean_s for b in steps] == [2.5 * H, 3600.000125]
    stages = {s.stage: s.duration for s in performance.time_in_stage(engine, calendar=cal)}
    # Qualification is summed per case: A 0.00025 s + 10.5 h - 0.00025 s, B 2 h + 15 h.
    assert _stats(stages["Qualification"]) == (
        2, 13.75 * H, 13.75 * H, pytest.approx(16.35 * H), 10.5 * H, 17 * H)
    assert stages["Prospecting"].count == 4 and "Closed Won" not in stages


def test_a_calendar_always_at_work_gives_calendar_time(tmp_path: Path) -> None:
    """24/7 in UTC: every analysis equals its calendar-time result, to the microsecond."""
    with Workspace(tmp_path / "log.duckdb", memory_limit="1GB") as ws:
        load_frame(ws, synthetic_frame(cases=40, seed=3))
        engine = DuckDBEngine(ws)
        for run in (
            lambda c: dfg.discover(engine, calendar=c).to_dict(),
            lambda c: dfg.discover(engine, activities=0.6, calendar=c).to_dict(),
            lambda c: variants_mod.discover(engine, calendar=c).to_dict(),
            lambda c: performance.report(engine, pair=(QUOTE, WON), calendar=c).to_dict(),
            lambda c: performance.case_durations(engine, per_case=True, calendar=c).to_dict(),
        ):
            assert run(ALWAYS) == run(None)


def test_cli_working_time_on_every_mine_command(hand: tuple[DuckDBEngine, Path, CalendarSet]) -> None:
    _, path, _ = hand
    toml = _calendar_file(path.parent)
    runner = CliRunner()

    def mine(*args: str) -> dict:
        out = runner.invoke(app, ["mine", *args, "--db", str(path), "--json",
                                  "--working-time", str(toml)])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    edges = {(e["source"], e["target"]): e for e in mine("dfg")["edges"]}
    assert edges[CREATED, QUALIFIED]["duration_mean_s"] == 2.5 * H
    assert mine("variants", "--top", "1")["variants"][0]["duration_max_s"] == H
    perf = mine("performance", "--between", QUOTE, LOST)
    assert perf["between"]["duration_mean_s"] == 15 * H
    assert perf["case_durations"]["duration_max_s"] == 24 * H
    table = runner.invoke(app, ["mine", "performance", "--db", str(path), "--working-time", "de"])
    assert table.exit_code == 0 and "Case durations" in table.stdout
    bad = runner.invoke(app, ["mine", "dfg", "--db", str(path), "--working-time", "mars"])
    assert bad.exit_code != 0 and "neither a built-in calendar" in str(bad.exception)
