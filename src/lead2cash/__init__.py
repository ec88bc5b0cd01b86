"""lead2cash: process mining for the Lead-to-Cash process.

Sources → one canonical event log (a DuckDB workspace) → checks → mining → views.

>>> import lead2cash as l2c
>>> ws = l2c.Workspace("lead2cash.duckdb")            # doctest: +SKIP
>>> l2c.import_log(ws, "log.xes.gz")                   # doctest: +SKIP
>>> l2c.check_log(ws).exit_code                        # doctest: +SKIP

The names below load their module on first use (PEP 562), so `import lead2cash` (and the
`lead2cash` command, which imports this package first) does not pay for DuckDB, Arrow or
pandas until a name that needs them is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checks import CheckReport, check_log
    from .errors import InputError, Lead2CashError, Location
    from .io.export import export_log
    from .io.importer import ImportOptions, ImportResult, import_log
    from .model import ACTIVITIES, ATTRIBUTES, HAPPY_PATH, Activity, Attribute, Tier
    from .store import Workspace
    from .summary import LogSummary, summarize

__version__ = "0.1.0"

_WHERE = {
    "CheckReport": ".checks", "check_log": ".checks",
    "InputError": ".errors", "Lead2CashError": ".errors", "Location": ".errors",
    "export_log": ".io.export",
    "ImportOptions": ".io.importer", "ImportResult": ".io.importer", "import_log": ".io.importer",
    "ACTIVITIES": ".model", "ATTRIBUTES": ".model", "HAPPY_PATH": ".model", "Activity": ".model",
    "Attribute": ".model", "Tier": ".model",
    "Workspace": ".store",
    "LogSummary": ".summary", "summarize": ".summary",
}

__all__ = [
    "ACTIVITIES",
    "ATTRIBUTES",
    "HAPPY_PATH",
    "Activity",
    "Attribute",
    "CheckReport",
    "ImportOptions",
    "ImportResult",
    "InputError",
    "Lead2CashError",
    "Location",
    "LogSummary",
    "Tier",
    "Workspace",
    "__version__",
    "check_log",
    "export_log",
    "import_log",
    "summarize",
]


def __getattr__(name: str) -> Any:
    """Load a public name's module when the name is first used."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
