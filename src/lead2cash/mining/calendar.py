"""Working time: business calendars and exact working-time durations between timestamps.

A `Calendar` says which weekdays are worked, which wall-clock periods of a day
are worked, which dates are public holidays, and in which time zone. Durations
are exact to the microsecond: with W(t) = working microseconds from a common
anchor day up to t, the working time from s to e is W(e) - W(s), where W counts
whole working days with numpy's business-day functions and clips the last day
against the day's working periods. Everything is vectorised over numpy arrays,
so any engine's per-case (start, end) pairs can be measured the same way.
Working periods are wall-clock times; daylight-saving shifts happen at night,
outside any sensible working period, so they never change a result.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError, Lead2CashError, Location

__all__ = [
    "BUILTIN_CALENDARS",
    "Calendar",
    "CalendarSet",
    "load_calendars",
    "working_seconds",
]

WEEKDAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_US_PER_S = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_S
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_HOLIDAY = re.compile(r"^(?:(\d{4})-)?(\d{2})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class Calendar:
    """One set of working-time rules: weekdays, daily periods, holidays, time zone."""

    name: str = "default"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    periods: tuple[tuple[int, int], ...] = ((9 * 3600, 17 * 3600),)
    holidays: tuple[str, ...] = ()
    timezone: str = "UTC"

    @property
    def day_seconds(self) -> int:
        """Working seconds in one full working day."""
        return sum(b - a for a, b in self.periods)

    @property
    def weekmask(self) -> str:
        """numpy busday weekmask, Monday first."""
        return "".join("1" if d in self.weekdays else "0" for d in range(7))

    def holiday_dates(self, first_year: int, last_year: int) -> np.ndarray:
        """Concrete holiday dates in the given years (recurring MM-DD rules expanded)."""
        out: list[str] = []
        for text in self.holidays:
            m = _HOLIDAY.match(text)
            assert m, text  # validated on construction by the loader
            year, month, day = m.groups()
            years = [int(year)] if year else range(first_year, last_year + 1)
            for y in years:
                try:
                    out.append(np.datetime64(f"{y:04d}-{month}-{day}", "D").astype(str))
                except ValueError:  # 02-29 in a non-leap year
                    continue
        return np.array(sorted(set(out)), dtype="datetime64[D]")

    def local(self, t: np.ndarray) -> np.ndarray:
        """UTC timestamps (datetime64[us]) as wall-clock time in this calendar's zone."""
        if self.timezone == "UTC":
            return t
        utc = pa.array(t, type=pa.timestamp("us", tz="UTC"))
        wall = pc.local_timestamp(utc.cast(pa.timestamp("us", tz=self.timezone)))
        return wall.to_numpy(zero_copy_only=False).astype("datetime64[us]")

    def cumulative_us(self, t: np.ndarray, anchor: np.datetime64) -> np.ndarray:
        """Working microseconds from the start of `anchor` (a local day) up to each t."""
        wall = self.local(t)
        days = wall.astype("datetime64[D]")
        tod = (wall - days).astype(np.int64)
        holidays = self.holiday_dates(
            int(str(min(anchor, days.min()))[:4]), int(str(days.max())[:4])
        )
        full = np.busday_count(anchor, days, weekmask=self.weekmask, holidays=holidays)
        worked = np.zeros(len(t), dtype=np.int64)
        for a, b in self.periods:
            worked += np.clip(tod, a * _US_PER_S, b * _US_PER_S) - a * _US_PER_S
        is_working = np.is_busday(days, weekmask=self.weekmask, holidays=holidays)
        return full * (self.day_seconds * _US_PER_S) + np.where(is_working, worked, 0)


@dataclass(frozen=True, slots=True)
class CalendarSet:
    """A default calendar plus optional calendars per sales region."""

    default: Calendar
    regions: Mapping[str, Calendar] = field(default_factory=dict)

    def for_region(self, region: str | None) -> Calendar:
        """The calendar that applies to a region (the default when it has none)."""
        return self.regions.get(region, self.default) if region is not None else self.default


def working_seconds(
    start: np.ndarray,
    end: np.ndarray,
    calendar: Calendar | CalendarSet,
    region: np.ndarray | None = None,
) -> np.ndarray:
    """Exact working seconds from each start to each end (negative if end < start, NaN if missing)."""
    start = np.asarray(start, dtype="datetime64[us]")
    end = np.asarray(end, dtype="datetime64[us]")
    out = np.full(len(start), np.nan)
    valid = ~(np.isnat(start) | np.isnat(end))
    cals = calendar if isinstance(calendar, CalendarSet) else CalendarSet(calendar)
    regions = np.full(len(start), None, dtype=object) if region is None else np.asarray(region)
    keys = [r for r in dict.fromkeys(regions[valid].tolist()) if r in cals.regions]
    groups = [(cals.regions[k], valid & (regions == k)) for k in keys]
    rest = valid & ~np.isin(regions, keys) if keys else valid
    for cal, mask in [*groups, (cals.default, rest)]:
        if not mask.any():
            continue
        s, e = start[mask], end[mask]
        anchor = min(cal.local(s).min(), cal.local(e).min()).astype("datetime64[D]")
        diff = cal.cumulative_us(e, anchor) - cal.cumulative_us(s, anchor)
        out[mask] = diff / _US_PER_S
    return out


def _calendar(name: str, weekdays: str, hours: str, holidays: str, zone: str) -> Calendar:
    """Build a built-in calendar from compact text (trusted input)."""
    return _parse(
        {"weekdays": weekdays.split(), "hours": hours.split(), "holidays": holidays.split(),
         "timezone": zone},
        Calendar(name=name), Location("built-in calendars", name),
    )


def _parse(table: Mapping[str, Any], base: Calendar, where: Location) -> Calendar:
    """Apply one TOML table's keys on top of a base calendar, validating each value."""
    known = {"extends", "weekdays", "hours", "holidays", "extra_holidays", "timezone", "name"}
    for key in table:
        if key not in known and not isinstance(table[key], dict):
            raise InputError(replace(where, column=key), "unknown calendar key",
                             f"use one of: {', '.join(sorted(known))}", key)
    cal = base
    if "weekdays" in table:
        days = table["weekdays"]
        bad = [d for d in days if d not in WEEKDAY_NAMES] if isinstance(days, list) else [days]
        if bad:
            raise InputError(replace(where, column="weekdays"), "not a list of weekday names",
                             f"write e.g. weekdays = [\"Mon\", \"Tue\"] using {WEEKDAY_NAMES}", bad[0])
        cal = replace(cal, weekdays=tuple(sorted(WEEKDAY_NAMES.index(d) for d in set(days))))
    if "hours" in table:
        cal = replace(cal, periods=_periods(table["hours"], replace(where, column="hours")))
    for key in ("holidays", "extra_holidays"):
        if key in table:
            days = _holidays(table[key], replace(where, column=key))
            cal = replace(cal, holidays=days if key == "holidays" else cal.holidays + days)
    if "timezone" in table:
        cal = replace(cal, timezone=_zone(table["timezone"], replace(where, column="timezone")))
    return replace(cal, name=str(table.get("name", cal.name)))


def _periods(value: Any, where: Location) -> tuple[tuple[int, int], ...]:
    """Parse ["09:00-12:00", "13:00-17:00"] into sorted, non-overlapping second ranges."""
    items = value if isinstance(value, list) else [value]
    out: list[tuple[int, int]] = []
    for item in items:
        m = _PERIOD.match(str(item))
        if not m:
            raise InputError(where, "not a working period HH:MM-HH:MM",
                             'write e.g. hours = ["09:00-12:00", "13:00-17:00"]', item)
        h1, m1, h2, m2 = map(int, m.groups())
        a, b = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
        if not (0 <= a < b <= 86_400 and m1 < 60 and m2 < 60):
            raise InputError(where, "period must start before it ends, within 00:00-24:00",
                             "write e.g. 09:00-17:00", item)
        out.append((a, b))
    out.sort()
    for (_, b), (a, _) in zip(out, out[1:]):
        if a < b:
            raise InputError(where, "working periods overlap", "list disjoint periods", value)
    return tuple(out)


def _holidays(value: Any, where: Location) -> tuple[str, ...]:
    """Validate holidays: recurring 'MM-DD' or one-off 'YYYY-MM-DD'."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        text = str(item)
        m = _HOLIDAY.match(text)
        ok = bool(m) and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31
        if not ok:
            raise InputError(where, "not a holiday date",
                             'write "MM-DD" for every year or "YYYY-MM-DD" for one day', item)
    return tuple(str(i) for i in items)


def _zone(value: Any, where: Location) -> str:
    """Check that a time zone name is known to the tz database."""
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(where, "unknown time zone", "use an IANA name such as Europe/Berlin",
                         value) from exc
    return str(value)


_WEEK = "Mon Tue Wed Thu Fri"
BUILTIN_CALENDARS: dict[str, Calendar] = {
    "default": _calendar("default", _WEEK, "09:00-17:00", "", "UTC"),
    # United States, federal fixed-date holidays: New Year, Juneteenth, Independence Day,
    # Veterans Day, Christmas (moveable ones such as Thanksgiving: add them as YYYY-MM-DD).
    "us": _calendar("us", _WEEK, "09:00-17:00", "01-01 06-19 07-04 11-11 12-25",
                    "America/New_York"),
    # Germany, nationwide fixed-date holidays: New Year, Labour Day, Unity Day, Christmas.
    "de": _calendar("de", _WEEK, "09:00-17:00", "01-01 05-01 10-03 12-25 12-26", "Europe/Berlin"),
    # France: New Year, Labour Day, Victory 1945, Bastille Day, Assumption, All Saints,
    # Armistice, Christmas.
    "fr": _calendar("fr", _WEEK, "09:00-17:00",
                    "01-01 05-01 05-08 07-14 08-15 11-01 11-11 12-25", "Europe/Paris"),
    # United Kingdom (England): New Year, Christmas, Boxing Day.
    "uk": _calendar("uk", _WEEK, "09:00-17:00", "01-01 12-25 12-26", "Europe/London"),
}


def load_calendars(spec: str) -> CalendarSet:
    """A built-in calendar by name, or a TOML file with a default calendar and [regions.*]."""
    if spec in BUILTIN_CALENDARS:
        return CalendarSet(BUILTIN_CALENDARS[spec])
    path = Path(spec)
    if not path.is_file():
        raise Lead2CashError(
            f"{spec}: neither a built-in calendar nor a calendar file",
            f"use one of {', '.join(BUILTIN_CALENDARS)} or the path of a TOML file (see docs/kpis.md)",
        )
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Location(str(path)), f"not valid TOML: {exc}",
                         "fix the syntax at the line shown") from exc
    default = _parse(doc, _base(doc, path, "top level"), Location(str(path), "top level"))
    regions: dict[str, Calendar] = {}
    for region, table in (doc.get("regions") or {}).items():
        where = f"table [regions.{region}]"
        if not isinstance(table, dict):
            raise InputError(Location(str(path), where), "a region must be a table",
                             f'write [regions."{region}"] followed by its keys', table)
        base = _base(table, path, where) if "extends" in table else default
        regions[region] = _parse(table, replace(base, name=region), Location(str(path), where))
    return CalendarSet(default, regions)


def _base(table: Mapping[str, Any], path: Path, where: str) -> Calendar:
    """The built-in calendar a TOML table extends (the 'default' one when it names none)."""
    name = table.get("extends", "default")
    if name not in BUILTIN_CALENDARS:
        raise InputError(Location(str(path), where, "extends"), "unknown built-in calendar",
                         f"use one of {', '.join(BUILTIN_CALENDARS)}", name)
    return BUILTIN_CALENDARS[name]
