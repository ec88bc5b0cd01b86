"""Opening what an analysis needs for a face: the workspace, the engine, parsed options.

The CLI and the web app both open engines through `open_engine` (a workspace path, an
engine name, `--filter` texts, the `--case-type` whose objects are the cases) and read the shared options (times, band edges, calendars)
with these functions, so an option means the same in the terminal and in the browser.
Nothing here imports DuckDB, Ibis or pandas at module level: `lead2cash --help` stays
fast, and a command loads the engine's parts when it opens one (the filter language, which
builds Ibis predicates, only when there are filters: see mining/compiled.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, Lead2CashError, Location
from ..progress import NO_PROGRESS, Progress

if TYPE_CHECKING:
    from ..mining import Engine, Filter
    from ..mining.calendar import CalendarSet
    from ..store import Workspace

__all__ = [
    "EngineName",
    "RuleBook",
    "calendars",
    "open_engine",
    "open_workspace",
    "parse_bands",
    "parse_case_type",
    "parse_time",
]


class EngineName(StrEnum):
    """The engines a face can run the analyses on."""

    DUCKDB = "duckdb"
    SPARK = "spark"


def open_workspace(db: Path | None, read_only: bool = False, command: str | None = None
                   ) -> Workspace:
    """Open the workspace at `db`, or the default one ($LEAD2CASH_DB or ./lead2cash.duckdb);
    `command` is how the runs table names the refreshes made through it (a command line)."""
    from ..store import Workspace, default_db_path

    return Workspace(db or default_db_path(), read_only=read_only, command=command)


def parse_time(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 time given as an option, as an aware UTC datetime (naive means UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(Location(option), "not an ISO 8601 time", "write e.g. 2024-07-27T02:00:00Z",
                         value=value) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_bands(text: str | None, option: str) -> tuple[float, ...]:
    """Read '10000,50000,100000' into sorted band edges; say how to fix anything else."""
    if not text:
        return ()
    try:
        edges = tuple(sorted(float(x) for x in text.split(",") if x.strip()))
    except ValueError as exc:
        raise Lead2CashError(f"{option} {text!r}: not a list of numbers",
                             f"write e.g. {option} 10000,50000,100000") from exc
    if not edges:
        raise Lead2CashError(f"{option} {text!r}: no band edges", f"write e.g. {option} 10000,50000")
    return edges


def parse_case_type(value: str | None) -> str | None:
    """The object type a `--case-type` value (or a web form's field) names; None (the
    workspace's own case type) when it is not given or blank. Whether the workspace has objects
    of that type is checked when the engine opens, which lists the types it has."""
    if value is None or not value.strip():
        return None
    return value.strip()


class RuleBook(Mapping[str, Any]):
    """The conformance rules a `breaks 'id'` filter may name, by id: a rule file's, else the
    built-in Lead-to-Cash set. Read on first use, so that a face opening an engine without a
    `breaks` filter never loads the rule file (nor the conformance package)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._rules: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._rules is None:
            from ..conformance.rule_file import load_rules

            self._rules = load_rules(self.path).by_id()
        return self._rules

    def __getitem__(self, key: str) -> Any:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def calendars(working_time: str | None) -> CalendarSet | None:
    """The calendars a `--working-time` value names; None (calendar time) when not given."""
    if not working_time:
        return None
    from ..mining.calendar import load_calendars

    return load_calendars(working_time)


@contextmanager
def open_engine(
    db: Path | None,
    engine: EngineName = EngineName.DUCKDB,
    filters: Sequence[str] | None = None,
    progress: Progress = NO_PROGRESS,
    *,
    case_type: str | None = None,
    rules: Mapping[str, Filter] | None = None,
) -> Iterator[tuple[Engine, list[Filter]]]:
    """Parse the filters (`breaks 'id'` names one of `rules`, by default the built-in rule set,
    see `RuleBook`), open the workspace read-only and the chosen engine on the log flattened
    on `case_type` (default: the workspace's own case type); close both after."""
    from ..mining.engine import DuckDBEngine, SparkEngine

    parsed: list[Filter] = []
    if filters:  # the filter language builds Ibis predicates: loaded only when filtering
        from ..mining.filter_language import parse_filters

        parsed = parse_filters(filters, RuleBook() if rules is None else rules)
    chosen = parse_case_type(case_type)
    ws = open_workspace(db, read_only=True)
    try:
        if engine is EngineName.SPARK:
            progress("starting Spark and loading the log", 0, 1)
            eng: Engine = SparkEngine.from_workspace(ws, case_type=chosen)
            progress("starting Spark and loading the log", 1, 1)
        else:
            eng = DuckDBEngine(ws, case_type=chosen)
        with eng:
            yield eng, parsed
    finally:
        ws.close()
