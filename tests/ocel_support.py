"""Shared helpers of the OCEL 2.0 tests: counts as pm4py and as the workspace see them, and the
third-party files (schemas, published logs) used when present.

Files nobody here wrote are not in the repository (their licences are not ours to grant):
put them in the folder `LEAD2CASH_OCEL_DATA` names (default `~/.cache/lead2cash/ocel`):
`ocel20-schema-json.json` and `ocel20-schema-xml.xsd` (https://www.ocel-standard.org/2.0/),
`order-management.json|.xml|.sqlite` (https://doi.org/10.5281/zenodo.8337463) and pm4py's
`ocel20_example.jsonocel|.xmlocel|.sqlite`. Tests that need one skip when it is absent.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from lead2cash.store import Workspace

OCEL_DATA = Path(os.environ.get("LEAD2CASH_OCEL_DATA", Path.home() / ".cache" / "lead2cash" / "ocel"))
SMALL = Path(__file__).parent / "data" / "ocel" / "lead2cash-small.json"
# events, objects, object types, E2O, O2O of the hand-written log (counted by hand in its generator)
SMALL_COUNTS = (17, 15, 7, 37, 16)


def third_party(*names: str) -> Path:
    """The first of these files present in OCEL_DATA, else skip the test."""
    for name in names:
        if (OCEL_DATA / name).is_file():
            return OCEL_DATA / name
    pytest.skip(f"none of {', '.join(names)} in {OCEL_DATA} (set LEAD2CASH_OCEL_DATA)")


def pm4py_counts(path: Path) -> tuple[int, int, int, int, int]:
    """Events, objects, object types, E2O and O2O as pm4py's read_ocel2 reads the file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py

        ocel = pm4py.read_ocel2(str(path))
    return (len(ocel.events), len(ocel.objects), int(ocel.objects["ocel:type"].nunique()),
            len(ocel.relations), len(ocel.o2o))


def our_counts(ws: Workspace) -> tuple[int, int, int, int, int]:
    """Events (once each), objects, object types, E2O and O2O in the workspace."""
    from lead2cash.objects import unique_events_table

    events = unique_events_table(ws.con)
    return ws.con.execute(
        f"SELECT (SELECT count(*) FROM {events}), (SELECT count(*) FROM objects), "
        "(SELECT count(DISTINCT object_type) FROM objects), (SELECT count(*) FROM event_objects), "
        "(SELECT count(*) FROM object_objects)").fetchall()[0]
