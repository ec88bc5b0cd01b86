"""Source systems: per-system defaults (stages, status codes) and the readers of their exports.

`extract(ws, {"salesforce": dir, "sap-s4hana": dir}, config=None, extracted_at=None)` builds
the workspace's event log from export folders (see docs/connectors/).
"""

from .registry import SYSTEMS, extract

__all__ = ["SYSTEMS", "extract"]
