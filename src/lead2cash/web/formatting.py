"""Numbers, shares, amounts and durations as the pages show them (Jinja filters).

Durations arrive in seconds of the dashboard's time basis and are shown in days or hours of
that basis, with the unit named ('d' calendar days, 'wd' working days), as the terminal does.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape

from ..app.units import CALENDAR_TIME, TimeBasis

__all__ = ["install"]


def count(v: Any) -> str:
    """12,345 or '-'."""
    return "-" if v is None else f"{int(v):,}"


def share(v: Any, digits: int = 1) -> str:
    """12.3% or '-'."""
    return "-" if v is None else f"{v:.{digits}%}"


def amount(v: Any) -> str:
    """1,234,567 or '-'."""
    return "-" if v is None else f"{v:,.0f}"


def days(v: Any, basis: TimeBasis = CALENDAR_TIME) -> str:
    """Seconds as '12.3 d' (or '12.3 wd') or '-'."""
    return "-" if v is None else f"{v / basis.day_s:,.1f} {basis.day_unit}"


def hours(v: Any, basis: TimeBasis = CALENDAR_TIME) -> str:
    """Seconds as '5.2 h' (or 'wh') or '-'."""
    return "-" if v is None else f"{v / 3600:,.1f} {basis.short('h')}"


def days_num(v: Any, basis: TimeBasis = CALENDAR_TIME) -> float | None:
    """Seconds as a number of days of the basis, for charts (None stays None)."""
    return None if v is None else round(v / basis.day_s, 3)


def human(v: Any, basis: TimeBasis = CALENDAR_TIME) -> str:
    """Seconds as '3d 4h' / '3wd 4h'."""
    return basis.human(v)


def hue(name: str) -> int:
    """A stable colour hue for an activity name (the same chip colour on every page)."""
    from ..model import ACTIVITY_NAMES

    if name in ACTIVITY_NAMES:
        return (ACTIVITY_NAMES.index(name) * 137) % 360
    return zlib.crc32(name.encode()) % 360


def cell(v: Any) -> str:
    """A case-list cell: numbers with separators, ISO times to the minute, '' when missing."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    text = str(v)
    if len(text) >= 16 and text[4] == "-" and text[10] == "T":
        return text[:16].replace("T", " ")
    return text


def tojson_attr(v: Any) -> Markup:
    """A value as JSON for a quoted data- attribute (HTML-escaped; the browser unescapes it)."""
    return escape(json.dumps(v, default=str, separators=(",", ":")))


def install(env: Environment) -> None:
    """Register the filters on a Jinja environment."""
    env.filters.update(cell=cell, days_num=days_num, count=count, share=share, amount=amount, days=days, hours=hours,
                       human=human, json=tojson_attr, hue=hue)
