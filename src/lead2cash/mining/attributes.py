"""Case attributes as one row per case: the last known value of each (by EventTime, event_id).

The same definition as the KPIs' `attr_<name>` columns and the workspace's `cases`
view: an attribute's value for a case is its last non-missing value in event order.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir

from .filters import CASE, LogTables

__all__ = ["last_values"]

EID = "event_id"


def last_values(t: LogTables, names: Sequence[str]) -> ir.Table:
    """One row per case: the case id and the last known value of each named attribute
    (null when the case never has one; names the log lacks are left out)."""
    present = [n for n in dict.fromkeys(names) if n in t.events.columns]
    e = t.events.select(CASE, EID, *present).join(t.steps.select(CASE, EID, "pos"), [CASE, EID])
    return e.group_by(CASE).aggregate(
        **{n: e[n].argmax(e.pos, where=e[n].notnull()) for n in present}
    )
