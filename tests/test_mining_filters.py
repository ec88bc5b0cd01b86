"""Filters and the --filter language: each condition keeps exactly the cases a plain-Python
reading of the synthetic log keeps; bad expressions fail with the position and a fix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pandas as pd
import pytest
from mining_log import load_frame, synthetic_frame

from lead2cash.errors import Lead2CashError
from lead2cash.mining import (
    Activity,
    Attribute,
    CaseDuration,
    Closed,
    DuckDBEngine,
    Follows,
    Not,
    Outcome,
    TimeWindow,
    Variant,
    parse_filter,
)
from lead2cash.store import Workspace

Trace = pd.DataFrame  # one case's events in (EventTime, event_id) order


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBEngine, dict[str, Trace]]]:
    """The synthetic log on DuckDB, and each case's ordered events for the Python reference."""
    frame = synthetic_frame(cases=120, seed=11)
    ws = Workspace(tmp_path_factory.mktemp("filters") / "log.duckdb", memory_limit="1GB")
    load_frame(ws, frame)
    ordered = frame.sort_values(["EventTime", "event_id"])
    yield DuckDBEngine(ws), {c: g for c, g in ordered.groupby("SalesOpportunityId")}
    ws.close()


def _acts(t: Trace) -> list[str]:
    return list(t.ActivityName)


def _days(t: Trace) -> float:
    return (t.EventTime.iloc[-1] - t.EventTime.iloc[0]).total_seconds() / 86400


JUNE, JULY = datetime(2024, 6, 1), datetime(2024, 7, 1)
CASES: list[tuple[str, Callable[[Trace], bool]]] = [
    ("SalesRegion = 'EMEA'", lambda t: t.SalesRegion.iloc[0] == "EMEA"),
    ("SalesRegion != 'EMEA'", lambda t: t.SalesRegion.iloc[0] != "EMEA"),
    ("SalesRegion in ('EMEA', 'APAC')", lambda t: t.SalesRegion.iloc[0] in ("EMEA", "APAC")),
    ("SalesRegion not in ('EMEA', 'APAC')", lambda t: t.SalesRegion.iloc[0] == "North America"),
    ("OpportunityAmount > 20000", lambda t: t.OpportunityAmount.iloc[0] > 20000),
    ("OpportunityAmount <= 20000", lambda t: t.OpportunityAmount.iloc[0] <= 20000),
    ("has 'Opportunity Reopened'", lambda t: "Opportunity Reopened" in _acts(t)),
    ("not has 'Quote Issued'", lambda t: "Quote Issued" not in _acts(t)),
    ("follows 'Quote Issued' -> 'Quote Issued'",
     lambda t: ("Quote Issued", "Quote Issued") in zip(_acts(t), _acts(t)[1:])),
    ("variant = ['Opportunity Created', 'Opportunity Qualified']",
     lambda t: _acts(t) == ["Opportunity Created", "Opportunity Qualified"]),
    ("duration > 30d", lambda t: _days(t) >= 30),
    ("duration < 12.5d", lambda t: _days(t) <= 12.5),
    ("outcome = 'Won'", lambda t: "Won" in set(t.OpportunityOutcome.dropna())),
    ("outcome in ('Won', 'Lost')", lambda t: bool(set(t.OpportunityOutcome.dropna()))),
    ("open", lambda t: t.OpportunityOutcome.isna().all()),
    ("closed", lambda t: t.OpportunityOutcome.notna().any()),
    ("started from 2024-06-01 to 2024-07-01", lambda t: JUNE <= t.EventTime.iloc[0] < JULY),
    ("ended to 2024-06-01", lambda t: t.EventTime.iloc[-1] < JUNE),
    ("active from 2024-06-01 to 2024-07-01",
     lambda t: t.EventTime.iloc[-1] >= JUNE and t.EventTime.iloc[0] < JULY),
    ("contained from 2024-06-01 to 2024-07-01",
     lambda t: t.EventTime.iloc[0] >= JUNE and t.EventTime.iloc[-1] < JULY),
    ("SalesRegion = 'APAC' and has 'Opportunity Lost' and not outcome = 'Lost'",
     lambda t: t.SalesRegion.iloc[0] == "APAC" and "Opportunity Lost" in _acts(t)
     and "Lost" not in set(t.OpportunityOutcome.dropna())),
]


@pytest.mark.parametrize(("text", "keep"), CASES, ids=[t for t, _ in CASES])
def test_filter_keeps_the_cases_python_keeps(
    log: tuple[DuckDBEngine, dict[str, Trace]], text: str, keep: Callable[[Trace], bool]
) -> None:
    engine, traces = log
    expected = {c for c, t in traces.items() if keep(t)}
    got = set(engine.cases(parse_filter(text)).SalesOpportunityId.execute())
    assert got == expected
    assert 0 < len(expected) < len(traces)  # the condition really selects


def test_parser_builds_typed_filters() -> None:
    parsed = parse_filter(
        "SalesRegion = 'O''Brien' and \"case:channel\" in ('a', 2) and not has 'X' and "
        "follows 'A' -> 'B' and variant = ['A', 'B'] and duration >= 90m and "
        "outcome = 'Won' and open and started from 2024-01-01T08:30 to 2024-02-01"
    )
    assert parsed == [
        Attribute("SalesRegion", "=", "O'Brien"),
        Attribute("case:channel", "in", ("a", 2.0)),
        Not(Activity("X")),
        Follows("A", "B"),
        Variant(("A", "B")),
        CaseDuration(min_s=5400.0),
        Outcome(("Won",)),
        Not(Closed()),
        TimeWindow(datetime(2024, 1, 1, 8, 30), datetime(2024, 2, 1), "started"),
    ]


@pytest.mark.parametrize(("text", "where", "says"), [
    ("SalesRegion == 'EMEA'", 14, "expected a value"),
    ("has Quote", 5, "expected a quoted 'text'"),
    ("duration > 30", 12, "expected a duration"),
    ("started", 8, "'from DATE' and/or 'to DATE'"),
    ("has 'A' or has 'B'", 9, "expected 'and' or the end"),
    ("SalesRegion = 'EMEA", 15, "cannot read"),
    ("started from 2024-02-30", 14, "not a valid date"),
    ("", 1, "empty"),
])
def test_bad_expressions_say_where_and_how_to_fix(text: str, where: int, says: str) -> None:
    with pytest.raises(Lead2CashError) as err:
        parse_filter(text)
    assert f"character {where}:" in err.value.message and says in err.value.message
    assert err.value.hint and "and" in err.value.hint


def test_unknown_attribute_names_the_columns(log: tuple[DuckDBEngine, dict[str, Trace]]) -> None:
    with pytest.raises(Lead2CashError, match="no such attribute") as err:
        log[0].cases(parse_filter("Regoin = 'EMEA'")).execute()
    assert "SalesRegion" in (err.value.hint or "")
