"""Conformance: does the log follow the reference process, by rules or by a model?

Rules (`Rule`, a TOML `RuleSet`, `check_rules`): declarative constraints over
activities, evaluated per case on DuckDB or Spark. Models (`PetriNet` from PNML or
BPMN, or the built-in `reference_model`): token-based replay (`replay_log`) and
optimal alignments (`align_log`), once per variant. Every result has `to_dict()`.

    >>> from lead2cash.conformance import check_rules, replay_log, load_model
    >>> from lead2cash.mining import using
    >>> with using("lead2cash.duckdb") as engine:
    ...     rules = check_rules(engine)
    ...     fit = replay_log(engine, model=load_model("model.pnml"))

Definitions: docs/conformance.md.
"""

from __future__ import annotations

from .alignments import Aligner, Alignment, Move
from .bpmn import read_bpmn
from .model_check import (
    ActivityDeviation,
    AlignmentReport,
    ReplayReport,
    VariantAlignment,
    VariantReplay,
    align_log,
    load_model,
    replay_log,
)
from .petri import Arc, PetriNet, Transition
from .pnml import read_pnml, to_pnml, write_pnml
from .reference import reference_model
from .rule_file import RuleSet, default_rules, default_rules_text, load_rules, parse_rules
from .rules import TEMPLATES, Rule
from .rules_check import RuleResult, RulesReport, check_rules
from .token_replay import TokenReplayer, TraceReplay

__all__ = [
    "TEMPLATES",
    "ActivityDeviation",
    "Aligner",
    "Alignment",
    "AlignmentReport",
    "Arc",
    "Move",
    "PetriNet",
    "ReplayReport",
    "Rule",
    "RuleResult",
    "RuleSet",
    "RulesReport",
    "TokenReplayer",
    "TraceReplay",
    "Transition",
    "VariantAlignment",
    "VariantReplay",
    "align_log",
    "check_rules",
    "default_rules",
    "default_rules_text",
    "load_model",
    "load_rules",
    "parse_rules",
    "read_bpmn",
    "read_pnml",
    "reference_model",
    "replay_log",
    "to_pnml",
    "write_pnml",
]
