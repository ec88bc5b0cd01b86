"""Render the data model as Markdown, so the docs come from the one definition in `model`."""

from __future__ import annotations

from .model import ACTIVITIES, ATTRIBUTES, HAPPY_PATH, ActivityGroup

__all__ = ["model_markdown"]


def model_markdown() -> str:
    """The 17 attributes and 15 activities as a Markdown page."""
    lines = [
        "# The Lead-to-Cash data model",
        "",
        "Generated from `src/lead2cash/model.py` by `lead2cash model --markdown`; do not edit by hand.",
        "One case = one sales opportunity; one event = one activity that happened to it at a time.",
        "Timestamps are stored in UTC with microsecond precision.",
        "",
        f"## Attributes ({len(ATTRIBUTES)})",
        "",
        "| Tier | Field | Level | Type | Meaning | Examples |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {a.tier} | `{a.name}` | {a.level} | {a.type} | {a.meaning} | {', '.join(a.examples)} |"
              for a in ATTRIBUTES]
    for group, title in ((ActivityGroup.KEY, "Key activities"), (ActivityGroup.FURTHER, "Further activities")):
        lines += ["", f"## {title}", "", "| Activity | Happens when | Typical source | Event type |",
                  "|---|---|---|---|"]
        lines += [f"| {a.name} | {a.happens_when} | {a.typical_source} | {a.kind} |"
                  for a in ACTIVITIES if a.group is group]
    lines += ["", "## Happy path", "", " → ".join(HAPPY_PATH), ""]
    return "\n".join(lines)
