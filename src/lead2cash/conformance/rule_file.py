"""Rule files: a small TOML file of `[[rule]]` tables, read into `Rule` objects.

    [[rule]]
    id = "quote-accepted-after-issued"
    template = "precedence"       # see rules.py for the twelve templates
    a = "Quote Issued"
    b = "Quote Accepted"
    within = "30d"                # optional time limit: us, ms, s, m, h, d or w
    when = "outcome = 'Won'"      # optional: only the cases this filter keeps
    description = "Quote Accepted only after Quote Issued"

Keys: id, template, a, b, n, within, unless, when, description. Every mistake is
reported with the file and the line of the rule (or key) at fault.
`DEFAULT_RULES` is the built-in Lead-to-Cash rule set (lead_to_cash_rules.toml,
printed by `lead2cash mine conformance --print-rules`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

from ..errors import InputError, Lead2CashError, Location
from ..mining.filter_language import parse_filter
from .rules import BINARY, COUNTED, TEMPLATES, TIMED, Rule, Template

__all__ = ["DEFAULT_RULES", "RuleSet", "default_rules", "default_rules_text", "load_rules",
           "parse_rules"]

DEFAULT_RULES = "lead_to_cash_rules.toml"
_KEYS = ("id", "template", "a", "b", "n", "within", "unless", "when", "description")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d|w)\s*$")
_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_HELP = "see docs/conformance.md (the rule language), or `lead2cash mine conformance --print-rules`"


@dataclass(frozen=True)
class RuleSet:
    """The rules of one file, in file order, and where they came from."""

    rules: tuple[Rule, ...]
    origin: str

    def by_id(self) -> dict[str, Rule]:
        """The rules by id (for `breaks 'id'` filters and `--target`)."""
        return {r.id: r for r in self.rules}

    def get(self, rule_id: str) -> Rule:
        """One rule by id, or an error listing the ids there are."""
        found = self.by_id().get(rule_id)
        if found is None:
            raise Lead2CashError(f"{self.origin}: no rule {rule_id!r}",
                                 f"use one of: {', '.join(r.id for r in self.rules)}")
        return found


def _lines(text: str) -> tuple[list[int], list[dict[str, int]]]:
    """The line of each `[[rule]]` header, and per rule the line of each key under it."""
    headers: list[int] = []
    keys: list[dict[str, int]] = []
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if re.match(r"^\[\[\s*rule\s*\]\]", stripped):
            headers.append(no)
            keys.append({})
        elif headers and (m := re.match(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*=", stripped)):
            keys[-1].setdefault(m.group(1), no)
    return headers, keys


def parse_rules(text: str, origin: str) -> RuleSet:
    """Read rule-file text; `origin` names it in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(Location(origin, f"line {m.group(1)}" if m else None),
                         f"not valid TOML ({exc})", _HELP) from None
    headers, key_lines = _lines(text)
    extra = [k for k in data if k != "rule"]
    if extra:
        raise InputError(Location(origin), f"unknown top-level key {extra[0]!r}",
                         "write each rule as a [[rule]] table; " + _HELP)
    tables = data.get("rule", [])
    if not isinstance(tables, list) or not tables:
        raise InputError(Location(origin), "the file holds no [[rule]] table", _HELP)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        line = headers[i] if i < len(headers) else None
        rule = _rule(table, origin, line, key_lines[i] if i < len(key_lines) else {})
        if rule.id in seen:
            raise InputError(Location(origin, f"line {line}"),
                             f"rule id {rule.id!r} is already used by rule {seen[rule.id]}",
                             "give every rule its own id")
        seen[rule.id] = i + 1
        rules.append(rule)
    return RuleSet(tuple(rules), origin)


def _rule(table: dict[str, Any], origin: str, line: int | None, keys: dict[str, int]) -> Rule:
    """One [[rule]] table as a Rule; errors point at the key's line (or the rule's)."""

    def fail(problem: str, key: str | None = None, value: object = None, fix: str = _HELP) -> InputError:
        at = keys.get(key, line) if key else line
        return InputError(Location(origin, f"line {at}" if at else None, None), problem, fix, value)

    unknown = [k for k in table if k not in _KEYS]
    if unknown:
        raise fail(f"unknown key {unknown[0]!r}", unknown[0], None, f"use only: {', '.join(_KEYS)}")
    for key in ("id", "template", "a"):
        if key not in table:
            raise fail(f"the rule has no {key!r}", None, None,
                       f"add {key} = \"...\" to the rule; " + _HELP)
    for key in ("id", "template", "a", "b", "unless", "when", "description", "within"):
        if key in table and not isinstance(table[key], str):
            raise fail(f"{key!r} must be text in quotes", key, table[key])
    rid = table["id"]
    template = table["template"]
    if template not in TEMPLATES:
        raise fail(f"unknown template {template!r}", "template", None,
                   f"use one of: {', '.join(TEMPLATES)}")
    if template in BINARY and "b" not in table:
        raise fail(f"template {template} relates two activities: the rule has no 'b'", None, None,
                   f"add b = \"...\"; {template} reads: {_READS[template]}")
    if template not in BINARY and "b" in table:
        raise fail(f"template {template} takes one activity, but the rule has 'b'", "b")
    n = table.get("n", 1 if template != "exactly" else None)
    if n is None:
        raise fail("template exactly needs a count 'n'", None, None, "add n = 1 (or another count)")
    if "n" in table and template not in COUNTED:
        raise fail(f"template {template} takes no count 'n'", "n")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or (template == "existence" and n < 1):
        raise fail("'n' must be a whole number (1 or more for existence)", "n", n)
    within = None
    if "within" in table:
        if template not in TIMED:
            raise fail(f"template {template} takes no time limit 'within'", "within", None,
                       f"time limits apply to: {', '.join(sorted(TIMED))}")
        m = _DURATION.match(table["within"])
        if not m:
            raise fail("'within' is not a duration", "within", table["within"],
                       "write a number and a unit: us, ms, s, m, h, d or w (e.g. \"30d\")")
        within = float(m.group(1)) * _UNITS_S[m.group(2)]
    if "unless" in table and template != "not-succession":
        raise fail("only not-succession takes 'unless'", "unless")
    when = ()
    if "when" in table:
        try:
            when = tuple(parse_filter(table["when"]))
        except Lead2CashError as exc:
            raise fail(f"'when' is not a filter: {exc.message}", "when", None,
                       exc.hint or _HELP) from None
    return Rule(rid, cast(Template, template), table["a"], table.get("b"), n, within,
                table.get("unless"), when, table.get("when"), table.get("description", ""))


_READS = {
    "response": "every a is followed by a b",
    "precedence": "every b is preceded by an a",
    "succession": "response and precedence",
    "chain-response": "every a is directly followed by a b",
    "responded-existence": "a case with an a also has a b",
    "not-coexistence": "a case never has both a and b",
    "not-succession": "no b after an a (unless a c lies between them)",
}


def load_rules(path: str | Path | None = None) -> RuleSet:
    """The rules of a TOML file, or the built-in Lead-to-Cash rule set."""
    if path is None:
        return default_rules()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Location(str(p)), "no such file",
                         "check the path; `--print-rules > rules.toml` writes a file to start from"
                         ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Location(str(p)), f"cannot read the rule file ({exc})",
                         "save it as UTF-8 text") from None
    return parse_rules(text, str(p))


def default_rules_text() -> str:
    """The built-in rule file's text (to copy and edit)."""
    return resources.files(__package__).joinpath(DEFAULT_RULES).read_text(encoding="utf-8")


def default_rules() -> RuleSet:
    """The built-in Lead-to-Cash rule set."""
    return parse_rules(default_rules_text(), f"built-in {DEFAULT_RULES}")
