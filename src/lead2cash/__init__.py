"""lead2cash: process mining for the Lead-to-Cash process.

Sources → one canonical event log (DuckDB workspace) → checks → mining → views.
"""

from __future__ import annotations

from .errors import InputError, Lead2CashError, Location
from .model import ACTIVITIES, ATTRIBUTES, HAPPY_PATH, Activity, Attribute, Tier
from .store import Workspace

__version__ = "0.1.0"

__all__ = [
    "ACTIVITIES",
    "ATTRIBUTES",
    "HAPPY_PATH",
    "Activity",
    "Attribute",
    "InputError",
    "Lead2CashError",
    "Location",
    "Tier",
    "Workspace",
    "__version__",
]
