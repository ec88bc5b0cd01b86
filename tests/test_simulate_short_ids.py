"""`short_id_share`: some Salesforce references in the 15-character form, nothing else changed."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pv

from lead2cash.simulate import SimulationParams, simulate

# (file, reference column) the share applies to, per landscape folder
REFERENCES = {
    "salesforce/OpportunityHistory.csv": "OpportunityId",
    "salesforce/Quote.csv": "OpportunityId",
    "salesforce/Order.csv": "OpportunityId",
    "salesforce/OrderHistory.csv": "OrderId",
    "salesforce/blng__Invoice__c.csv": "blng__Order__c",
    "salesforce/blng__Payment__c.csv": "blng__Invoice__c",
}


def _column(path: Path, name: str) -> list[str]:
    opts = pv.ConvertOptions(strings_can_be_null=False, column_types={name: "string"})
    return pv.read_csv(path, convert_options=opts)[name].to_pylist()


def test_share_shortens_only_references_and_keeps_everything_else(tmp_path: Path) -> None:
    full = simulate(tmp_path / "a", 300, 4, "salesforce", SimulationParams())
    short = simulate(tmp_path / "b", 300, 4, "salesforce", SimulationParams(short_id_share=0.3))
    assert full.ground_truth.read_bytes() == short.ground_truth.read_bytes()
    for f in sorted((tmp_path / "a" / "salesforce").iterdir()):
        rel = f"salesforce/{f.name}"
        other = tmp_path / "b" / rel
        if rel not in REFERENCES:
            assert f.read_bytes() == other.read_bytes(), rel
            continue
        before, after = _column(f, REFERENCES[rel]), _column(other, REFERENCES[rel])
        shortened = [a for a in after if len(a) == 15]
        assert {len(b) for b in before} == {18} and len(after) == len(before)
        assert 0.2 < len(shortened) / len(after) < 0.4, rel
        assert all(b.startswith(a) for a, b in zip(after, before, strict=True)), rel


def test_sap_reference_is_shortened_in_the_mixed_landscape(tmp_path: Path) -> None:
    simulate(tmp_path, 300, 4, "salesforce+sap-s4hana", SimulationParams(short_id_share=0.5))
    bstnk = _column(tmp_path / "sap-s4hana" / "VBAK.csv", "BSTNK")
    opp = _column(tmp_path / "salesforce" / "Opportunity.csv", "Id")
    assert {len(b) for b in bstnk} == {15, 18}
    assert {b for b in bstnk if len(b) == 15} <= {o[:15] for o in opp}
    assert {b for b in bstnk if len(b) == 18} <= set(opp)
