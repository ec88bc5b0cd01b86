"""The source systems the connectors know: key (as in `model.SOURCE_SYSTEMS`) -> mapping module."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping as MappingT
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import ModuleType

from ..errors import Lead2CashError
from ..progress import NO_PROGRESS, Progress
from ..store import Workspace
from . import dynamics, oracle, salesforce, sap
from .config import load_config
from .engine import Mapping, run_extract

__all__ = ["SYSTEMS", "extract"]

SYSTEMS: dict[str, ModuleType] = {
    "salesforce": salesforce,
    "sap-s4hana": sap,
    "dynamics365": dynamics,
    "oracle-cx": oracle,
}


def extract(
    ws: Workspace,
    sources: MappingT[str, Path],
    config: Path | None = None,
    extracted_at: datetime | None = None,
    progress: Progress = NO_PROGRESS,
    incremental: bool = False,
) -> dict[str, str]:
    """Build the workspace's event log from system export folders (`system key -> folder`).

    `incremental`: the folders hold delta exports, merged into the records kept from the
    earlier incremental runs (`incremental.py`); the log is derived from all of them.

    Each system's `encoding` setting applies to all its CSV / text files (else detected).
    The run is recorded in the workspace's `runs` table (a failed one in its journal), with
    every file's rows read = rows used + rows set aside.
    """
    with ws.recording("extract") as run:
        if incremental:
            run.kind = "extract --incremental"
        return _extract(ws, sources, config, extracted_at, progress, incremental)


def _extract(
    ws: Workspace,
    sources: MappingT[str, Path],
    config: Path | None,
    extracted_at: datetime | None,
    progress: Progress,
    incremental: bool = False,
) -> dict[str, str]:
    """Check the sources and the configuration, then run the engine (inside a recorded run)."""
    for key, folder in sources.items():
        if key not in SYSTEMS:
            raise Lead2CashError(
                f"unknown source system {key!r}",
                f"use one of: {', '.join(SYSTEMS)} (as SYSTEM=DIR)",
            )
        if not Path(folder).is_dir():
            raise Lead2CashError(
                f"{folder}: no such folder for {key}",
                "point SYSTEM=DIR at the folder holding that system's export files",
            )
    cfg = load_config(config)
    crm_present = any(SYSTEMS[key].IS_CRM for key in sources)

    def build(key: str) -> Mapping:
        """A system's mapping under its settings, with the extra and attribute fields the user
        asked for."""
        mapping = SYSTEMS[key].mapping(cfg[key], crm_present)
        encoding = str(cfg[key]["encoding"]) or None
        return replace(
            mapping,
            tables=tuple(replace(t, encoding=encoding) for t in mapping.tables),
            extra_fields=tuple(cfg[key]["extra_fields"]),
            attribute_fields=tuple(cfg[key]["attribute_fields"].items()),
        )

    if not incremental:
        return run_extract(ws, sources, build, extracted_at, progress)
    from .incremental import keeper, merge_deltas

    with tempfile.TemporaryDirectory(prefix="lead2cash-merge-") as tmp:
        progress("merge deltas", 0, 1)
        merged = merge_deltas(ws, sources, build, extracted_at, Path(tmp))
        progress("merge deltas", 1, 1)
        return run_extract(ws, merged, build, extracted_at, progress, keep=keeper(ws))
