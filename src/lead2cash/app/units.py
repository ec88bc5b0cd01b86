"""Durations for people, with their unit named: calendar days or working days.

Every analysis reports durations in seconds of the time it measured (`*_s` JSON keys):
calendar time, or working time under a business calendar. A face shows them in days or
hours of that time. A calendar day has 24 hours; a working day has the default calendar's
working hours (8 for the built-in calendars), and is written "wd" so that "27wd" is never
read as 27 calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..mining.calendar import CalendarSet

__all__ = ["CALENDAR_TIME", "TimeBasis", "time_basis"]


@dataclass(frozen=True, slots=True)
class TimeBasis:
    """The time durations were measured in, and how long its 'day' is."""

    name: str  # "calendar" or "working (<calendar>)", as the results' `time` field says
    day_s: float  # seconds in one day of this time: 86,400, or one working day

    @property
    def working(self) -> bool:
        """Whether durations are working time."""
        return self.name != "calendar"

    @property
    def day_unit(self) -> str:
        """'d' for calendar days, 'wd' for working days."""
        return "wd" if self.working else "d"

    def unit(self, unit: str) -> str:
        """A unit for a column header: 'd', 'h', 'working d (8 h)' or 'working h'."""
        if not self.working:
            return unit
        return f"working d ({self.day_s / 3600:g} h)" if unit == "d" else f"working {unit}"

    def short(self, unit: str) -> str:
        """A compact unit for narrow headers: 'd'/'h', or 'wd'/'wh' in working time."""
        return f"w{unit}" if self.working else unit

    def note(self) -> str:
        """One line saying what the durations are: 'calendar time' / 'working time (de), ...'."""
        if not self.working:
            return "calendar time"
        return f"{self.name} time; 1 wd = {self.day_s / 3600:g} working hours"

    def days(self, seconds: float | None) -> float | None:
        """Seconds as days of this time (None stays None)."""
        return None if seconds is None else seconds / self.day_s

    def hours(self, seconds: float | None) -> float | None:
        """Seconds as hours (an hour is an hour in both times)."""
        return None if seconds is None else seconds / 3600.0

    def human(self, seconds: float | None) -> str:
        """'3d 4h', '27wd 3h', '12m 5s', '0.4s', or '-' when there is none."""
        if seconds is None:
            return "-"
        if seconds < 60:
            return f"{seconds:.3g}s"
        parts, rest = [], round(seconds)
        day = round(self.day_s)
        for unit, size in ((self.day_unit, day), ("h", 3600), ("m", 60), ("s", 1)):
            if rest >= size:
                parts.append(f"{rest // size}{unit}")
                rest %= size
        return " ".join(parts[:2])


CALENDAR_TIME = TimeBasis("calendar", 86_400.0)


def time_basis(calendar: CalendarSet | None) -> TimeBasis:
    """The time basis of results computed under `calendar` (None: calendar time)."""
    if calendar is None:
        return CALENDAR_TIME
    return TimeBasis(f"working ({calendar.default.name})", float(calendar.default.day_seconds))
