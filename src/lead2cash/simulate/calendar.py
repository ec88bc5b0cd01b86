"""Business time: working hours on working days, mapped monotonically to UTC instants.

The simulator schedules work in *business seconds* (only working hours count), so
adding a delay can never land on a night, weekend or holiday, and order is kept.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .params import SimulationParams

__all__ = ["BusinessCalendar", "DAY"]

DAY = 86_400


def _easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


class BusinessCalendar:
    """Working days and hours of the company from `start` for `days` calendar days."""

    def __init__(self, p: SimulationParams, days: int) -> None:
        self.start = date.fromisoformat(p.start)
        self.work_seconds = p.work_hours * 3600
        zone = ZoneInfo(p.time_zone)
        dates = [self.start + timedelta(d) for d in range(days)]
        holidays = {date(y, int(md[:2]), int(md[3:])) for y in {d.year for d in dates}
                    for md in p.holidays}
        if p.easter_holidays:
            for y in {d.year for d in dates}:
                holidays |= {_easter(y) - timedelta(2), _easter(y) + timedelta(1)}
        epoch0 = (self.start - date(1970, 1, 1)).days
        # UTC offset of local noon per calendar day (DST switches at night, outside work).
        self.offsets = np.array(
            [int(datetime(d.year, d.month, d.day, 12, tzinfo=zone).utcoffset().total_seconds())
             for d in dates], dtype=np.int64)
        self.first_day = epoch0
        business = np.array([d.weekday() < 5 and d not in holidays for d in dates])
        self.days = np.flatnonzero(business).astype(np.int64) + epoch0  # day ordinals
        local_open = self.days * DAY + p.work_start_hour * 3600
        self.utc_open = local_open - self.offsets[self.days - epoch0]

    @property
    def business_days(self) -> int:
        """Number of working days in the calendar."""
        return len(self.days)

    def to_utc(self, bsec: np.ndarray) -> np.ndarray:
        """UTC epoch seconds of business-second instants (clipped to the calendar's end)."""
        day = np.minimum(bsec // self.work_seconds, len(self.days) - 1)
        return self.utc_open[day] + (bsec - day * self.work_seconds)

    def local(self, utc: np.ndarray) -> np.ndarray:
        """Local wall-clock epoch seconds (the SAP server's ERDAT/ERZET) of UTC instants."""
        day = np.clip(utc // DAY - self.first_day, 0, len(self.offsets) - 1)
        return utc + self.offsets[day]

    def local_day(self, utc: np.ndarray) -> np.ndarray:
        """Local calendar day (ordinal since 1970) of UTC instants, for date-only fields."""
        return self.local(utc) // DAY

    def next_business_day(self, day: np.ndarray) -> np.ndarray:
        """The first working day on or after each day ordinal."""
        idx = np.minimum(np.searchsorted(self.days, day), len(self.days) - 1)
        return self.days[idx]
