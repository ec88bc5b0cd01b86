"""lead2cash: process mining for the Lead-to-Cash process.

Sources → one canonical event log (a DuckDB workspace) → checks → mining → views.

>>> import lead2cash as l2c
>>> ws = l2c.Workspace("lead2cash.duckdb")            # doctest: +SKIP
>>> l2c.import_log(ws, "log.xes.gz")                   # doctest: +SKIP
>>> l2c.check_log(ws).exit_code                        # doctest: +SKIP
"""

from __future__ import annotations

from .checks import CheckReport, check_log
from .errors import InputError, Lead2CashError, Location
from .io.export import export_log
from .io.importer import ImportOptions, ImportResult, import_log
from .model import ACTIVITIES, ATTRIBUTES, HAPPY_PATH, Activity, Attribute, Tier
from .store import Workspace
from .summary import LogSummary, summarize

__version__ = "0.1.0"

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
