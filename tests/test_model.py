"""The data model as code matches the spec, and the docs are generated from it."""

from __future__ import annotations

from pathlib import Path

from lead2cash.model import ACTIVITIES, ATTRIBUTES, INFERRED_ACTIVITIES, Tier, attributes_in_tier
from lead2cash.model_doc import model_markdown

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "data-model.md"


def test_counts_match_the_template() -> None:
    assert len(ATTRIBUTES) == 17 and len(ACTIVITIES) == 15
    assert [len(attributes_in_tier(t)) for t in Tier] == [5, 8, 4]
    assert INFERRED_ACTIVITIES == {"Opportunity Qualified", "Requirements Gathered",
                                   "Solution Proposed", "Opportunity Reopened"}


def test_every_name_appears_in_the_spec() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    for a in ATTRIBUTES:
        assert f"| {a.tier.value} | `{a.name}` |" in spec
    for act in ACTIVITIES:
        assert f"| {act.name} |" in spec


def test_docs_page_is_generated_from_the_model() -> None:
    docs = Path(__file__).resolve().parents[1] / "docs" / "data-model.md"
    assert docs.read_text(encoding="utf-8") == model_markdown(), \
        "regenerate with: lead2cash model --markdown > docs/data-model.md"
