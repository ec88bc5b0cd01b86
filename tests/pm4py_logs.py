"""The real logs as pm4py (the test-only oracle) reads them: file order, times in UTC."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def pm4py_frame(path: Path) -> pd.DataFrame:
    """A log as pm4py's frame: XES through pm4py's reader, the receipt CSV formatted by pm4py."""
    import pm4py

    if path.suffix == ".csv":
        raw = pd.read_csv(path)
        raw["time:timestamp"] = pd.to_datetime(raw["time:timestamp"], utc=True, format="ISO8601")
        return pm4py.format_dataframe(raw, case_id="case:concept:name",
                                      activity_key="concept:name", timestamp_key="time:timestamp")
    return pm4py.read_xes(str(path))
