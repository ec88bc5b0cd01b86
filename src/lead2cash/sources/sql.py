"""SQL text helpers shared by the extraction engine and the system mappings."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["id_order", "lit", "lits", "normalized"]


def lit(value: object) -> str:
    """A SQL literal for a config value (strings quoted, None as NULL)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def lits(values: Sequence[object]) -> str:
    """A parenthesised SQL list of literals, usable after IN (never empty)."""
    return "(" + ", ".join(lit(v) for v in values) + ")" if values else "(NULL)"


def id_order(expr: str) -> str:
    """A text key that sorts record ids in their creation order: shorter ids first, then by
    text (so numeric ids of different lengths sort as numbers, and fixed-width ids, such as
    Salesforce's base-62 ids or SAP's zero-padded numbers, sort by their text).

    Every ordering of equal times uses it, so ties follow the record ids whatever the file
    order."""
    text = f"coalesce(trim(CAST({expr} AS VARCHAR)), '')"
    return f"(lpad(CAST(length({text}) AS VARCHAR), 6, '0') || {text})"


def normalized(expr: str) -> str:
    """A value compared accent-, case-, space- and punctuation-insensitively: `México`,
    `mexico` and `MEXICO ` become `mexico`, `U.S.A.` becomes `usa` (letters of every script
    are kept)."""
    return rf"regexp_replace(lower(strip_accents(trim(CAST({expr} AS VARCHAR)))), '[^\pL\pN]', '', 'g')"
