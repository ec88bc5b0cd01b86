"""A simulated company: realistic CRM and ERP extracts with a known event log (ground truth).

`simulate(out_dir, cases, seed, landscape)` writes one folder per source system,
holding the files that system would export, and `ground_truth.parquet`, the event
log a correct connector derives from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .landscape import LANDSCAPES
from .params import PaymentTerm, SimulationParams

if TYPE_CHECKING:
    from .runner import SimulationResult, simulate

__all__ = ["LANDSCAPES", "PaymentTerm", "SimulationParams", "SimulationResult", "simulate"]


def __getattr__(name: str) -> Any:
    """The runner (numpy, Arrow, pandas) loads on first use, not when the landscapes are listed."""
    if name in ("SimulationResult", "simulate"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
