"""The dashboard's Objects page: `lead2cash mine objects` for the served workspace.

One computation for both: `mining.object_centric.report`, whose JSON (`to_dict`) is what
`mine objects --json` prints; the page shows that JSON (per type counts and lifecycles, fan-out
between types, what flattening on the case type repeats or misorders, one process map per
object type), so every number on the page is the CLI's number.
"""

from __future__ import annotations

from typing import Any

from ..mining.object_centric import report
from ..objects import has_objects
from ..store import Workspace

__all__ = ["objects_view"]


def objects_view(ws: Workspace, top: int = 5) -> dict[str, Any]:
    """`mine objects --json` of the workspace, or `{"available": False}` for a workspace loaded
    by a version that kept no objects (the page then says how to get them)."""
    if not has_objects(ws.con):
        return {"available": False}
    return {"available": True, **report(ws, None, top).to_dict()}
