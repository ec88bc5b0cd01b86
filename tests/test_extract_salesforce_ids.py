"""Salesforce 15- vs 18-character ids: one normalisation (`tables.salesforce_id18`) on reading."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest
from extract_fixtures import salesforce_org, sap_sd

from lead2cash.errors import InputError
from lead2cash.simulate.text import sf_ids
from lead2cash.sources.registry import extract
from lead2cash.sources.tables import salesforce_id18
from lead2cash.store import Workspace

# Hand-computed with Salesforce's rule: per block of 5, bit i = character i is uppercase,
# value -> "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345". '006Dn' -> D at 3 = 8 -> I; '00000' -> A;
# 'AbCdE' -> A, C, E at 0, 2, 4 = 1 + 4 + 16 = 21 -> V.
ID15, ID18 = "006Dn00000AbCdE", "006Dn00000AbCdEIAV"
PAIRS = [
    (ID15, ID18),
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),  # 001A0: A at 3 -> I; 00000 -> A; 6Vm9r: V at 1
    ("0016000000K7Rba", "0016000000K7RbaAAF"),  # K7Rba: K at 0, R at 2 -> 1 + 4 = 5 -> F
    ("a0B5g00000XyZ12", "a0B5g00000XyZ12EAF"),  # a0B5g: B at 2 -> 4 -> E
    ("zzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzzAAA"),
    ("ZZZZZZZZZZZZZZZ", "ZZZZZZZZZZZZZZZ555"),  # all five bits: 31 -> 5
]
UNCHANGED = [ID18, "", "006A", "006000000000001", "006-n00000AbCdE", "006Dn00000AbCdE1", None]
WHEN = datetime(2024, 7, 27, 2, 0)


def _id18(values: list[str | None]) -> list[str | None]:
    """The SQL normalisation applied to a list of values, in order."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    return [
        r[0] for r in con.execute(f"SELECT {salesforce_id18('v')} FROM t ORDER BY i").fetchall()
    ]


@pytest.mark.parametrize(("short", "full"), PAIRS)
def test_known_pairs(short: str, full: str) -> None:
    assert _id18([short]) == [full]


def test_other_values_stay_as_they_are() -> None:
    assert _id18(UNCHANGED) == UNCHANGED


def test_agrees_with_the_simulators_independent_numpy_suffix() -> None:
    full = sf_ids("006", np.arange(0, 5_000_000, 4_999)).to_pylist()
    assert _id18([f[:15] for f in full]) == full and len(set(full)) == len(full)


def _rewrite(folder: Path, by_file: dict[str, str], other: str) -> None:
    """Put the opportunity `006A` in the form `by_file` names for a file, else `other`."""
    for f in folder.glob("*.csv"):
        f.write_text(f.read_text().replace("006A", by_file.get(f.stem, other)))


@pytest.mark.parametrize(("in_opportunity", "in_references"), [(ID18, ID15), (ID15, ID18)])
def test_mixed_forms_join_one_case_across_salesforce_and_sap(
    workspace: Workspace, tmp_path: Path, in_opportunity: str, in_references: str
) -> None:
    sf = salesforce_org(tmp_path / "sf")
    _rewrite(sf, {"Opportunity": in_opportunity}, in_references)
    sources = {"salesforce": sf, "sap-s4hana": sap_sd(tmp_path / "sap", ID15)}
    extract(workspace, sources, extracted_at=WHEN)
    rows = workspace.con.execute(
        "SELECT SourceSystem, count(*) FROM events WHERE SalesOpportunityId = ? GROUP BY 1 "
        "ORDER BY 1",
        [ID18],
    ).fetchall()
    # as with one id form (006A in extract_fixtures): 6 SAP events, 11 Salesforce events
    assert rows == [("SAP S/4HANA", 6), ("Salesforce CRM", 11)]
    cases = workspace.con.execute("SELECT count(*) FROM cases").fetchall()
    assert cases == [(2,)]


def test_the_same_id_in_both_forms_is_a_duplicate(workspace: Workspace, tmp_path: Path) -> None:
    sf = salesforce_org(tmp_path / "sf")
    opp = sf / "Opportunity.csv"
    lines = opp.read_text().splitlines()
    opp.write_text("\n".join([*lines, lines[1].replace("006A", ID15)]).replace("006A", ID18) + "\n")
    with pytest.raises(InputError, match="duplicate id"):
        extract(workspace, {"salesforce": sf}, extracted_at=WHEN)
