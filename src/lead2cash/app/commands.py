"""The terminal commands that print a view's numbers: what each page and the report name.

Every number the dashboard shows comes from the mining layer, as `lead2cash mine ...` prints
it; a page says which command, with its scope's `--filter` texts and the view's own options
(the process map's shares of activities and paths, the number of variants, working time),
so an analyst can get the same numbers in the terminal or in a script.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .scope import Scope

__all__ = ["shell_quote", "view_commands"]

KPI_VIEWS = ("overview", "funnel", "discounts", "o2c", "cases")
"""Views whose numbers are all `mine kpis`' (the case list counts a KPI's cases)."""
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def shell_quote(text: str) -> str:
    """An argument as a POSIX shell reads it back: bare when plain, else in double quotes
    (filter texts hold single quotes) with the characters special there escaped."""
    if _PLAIN.fullmatch(text):
        return text
    return '"' + re.sub(r'(["\\$`])', r"\\\1", text) + '"'


def _command(words: Sequence[str], filters: Sequence[str]) -> str:
    args = [*words, *(x for f in filters for x in ("-f", f))]
    return " ".join(shell_quote(a) for a in args)


def view_commands(view: str, db: Path, scope: Scope, working_time: str | None = None, *,
                  activities: float = 1.0, paths: float = 1.0, top: int | None = None,
                  segments: Sequence[str] = (), target: str | None = None) -> list[str]:
    """The command lines giving a view's numbers: `view` is a page key (`overview`, `map`,
    `variants`, ...); `working_time` is the `--working-time` value of its durations (None:
    calendar time); `segments` are the compare view's two conditions (and `paths` its maps'
    share of paths); `target` is the drivers view's target. Empty for a view the terminal has no counterpart of (the case explorer)."""
    base = ["lead2cash", "mine"]
    time = ["--working-time", working_time] if working_time else []
    at = ["--db", str(db)]
    filters = scope.filter_texts()
    if view in KPI_VIEWS:
        return [_command([*base, "kpis", *at, *time], filters)]
    if view == "map":
        shares = [x for name, share in (("--activities", activities), ("--paths", paths))
                  if share < 1.0 for x in (name, f"{share:g}")]
        return [_command([*base, "dfg", *at, *shares, *time], filters)]
    if view == "variants":
        return [_command([*base, "variants", *at, *(["--top", str(top)] if top else []), *time],
                         filters)]
    if view == "compare":  # each segment's KPIs, then its map
        return [_command([*base, what, *at, *extra, *time], [*filters, s] if s else filters)
                for what, extra in (("kpis", []), ("dfg", ["--paths", f"{paths:g}"])) for s in segments]
    if view == "conformance":  # the rules, then the replay on the reference model
        return [_command([*base, "conformance", *at, *method], filters)
                for method in ([], ["--method", "replay"])]
    if view == "drivers":
        return [_command([*base, "drivers", *at, "--target", target or "lost"], filters)]
    if view == "quality":
        return [_command(["lead2cash", "check", *at], ())]
    return []
