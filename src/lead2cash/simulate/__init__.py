"""A simulated company: realistic CRM and ERP extracts with a known event log (ground truth).

`simulate(out_dir, cases, seed, landscape)` writes one folder per source system,
holding the files that system would export, and `ground_truth.parquet`, the event
log a correct connector derives from them.
"""

from __future__ import annotations

from .landscape import LANDSCAPES
from .params import PaymentTerm, SimulationParams
from .runner import SimulationResult, simulate

__all__ = ["LANDSCAPES", "PaymentTerm", "SimulationParams", "SimulationResult", "simulate"]
