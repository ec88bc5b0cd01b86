"""Working-time durations: exact against a minute-by-minute reference, and calendar files."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lead2cash.errors import InputError, Lead2CashError
from lead2cash.mining.calendar import (
    BUILTIN_CALENDARS,
    Calendar,
    CalendarSet,
    load_calendars,
    working_seconds,
)


def brute_force_seconds(start: datetime, end: datetime, cal: Calendar) -> int:
    """Count working minutes one UTC minute at a time (whole-minute inputs), as seconds."""
    sign, lo, hi = (1, start, end) if end >= start else (-1, end, start)
    zone = ZoneInfo(cal.timezone)
    total, t = 0, lo
    while t < hi:
        wall = t.replace(tzinfo=timezone.utc).astimezone(zone)
        sec = wall.hour * 3600 + wall.minute * 60
        holiday = any(
            h == wall.strftime("%m-%d") or h == wall.strftime("%Y-%m-%d") for h in cal.holidays
        )
        if wall.weekday() in cal.weekdays and not holiday:
            total += any(a <= sec < b for a, b in cal.periods)
        t += timedelta(minutes=1)
    return sign * total * 60


def seconds(start: datetime, end: datetime, cal: Calendar | CalendarSet, region=None) -> float:
    """working_seconds on one pair."""
    s = np.array([start], dtype="datetime64[us]")
    e = np.array([end], dtype="datetime64[us]")
    r = None if region is None else np.array([region], dtype=object)
    return float(working_seconds(s, e, cal, r)[0])


# Anchors near weekends, holidays and DST changes, so examples hit the hard cases.
ANCHORS = [datetime(2024, 12, 23), datetime(2024, 3, 29), datetime(2024, 10, 25),
           datetime(2023, 12, 29), datetime(2024, 2, 28), datetime(2024, 7, 3)]
minutes = st.integers(min_value=-3 * 1440, max_value=5 * 1440).map(lambda m: timedelta(minutes=m))


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """Random calendars; periods stay clear of the night hours where DST shifts happen."""
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    cuts = sorted(draw(st.sets(st.integers(6 * 60, 22 * 60), min_size=2, max_size=4)))
    pairs = tuple((a * 60, b * 60) for a, b in zip(cuts[::2], cuts[1::2]))
    holidays = draw(st.lists(st.sampled_from(["12-25", "12-26", "01-01", "03-29", "2024-07-04",
                                               "10-28", "02-29"]), max_size=3))
    zone = draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
    return Calendar("random", tuple(sorted(days)), pairs, tuple(holidays), zone)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ANCHORS), minutes, minutes,
       st.one_of(st.sampled_from(list(BUILTIN_CALENDARS.values())), calendars()))
def test_matches_minute_by_minute_reference(
    anchor: datetime, a: timedelta, b: timedelta, cal: Calendar
) -> None:
    start, end = anchor + a, anchor + b
    assert seconds(start, end, cal) == brute_force_seconds(start, end, cal)


def test_known_durations_default_calendar() -> None:
    cal = BUILTIN_CALENDARS["default"]
    # Friday 16:00 to Monday 10:00: one hour each side of the weekend.
    assert seconds(datetime(2024, 1, 5, 16), datetime(2024, 1, 8, 10), cal) == 2 * 3600
    # A whole week: 5 days x 8 hours.
    assert seconds(datetime(2024, 1, 1), datetime(2024, 1, 8), cal) == 40 * 3600
    # Inside one working period, to the microsecond.
    s, e = datetime(2024, 1, 2, 10, 0, 0, 1), datetime(2024, 1, 2, 10, 0, 1)
    assert seconds(s, e, cal) == pytest.approx(0.999999, abs=1e-12)


def test_holidays_and_time_zone_of_builtins() -> None:
    # 2024-01-01 is a holiday in the US calendar; New York is UTC-5 in January.
    us = BUILTIN_CALENDARS["us"]
    assert seconds(datetime(2024, 1, 1), datetime(2024, 1, 8), us) == 32 * 3600
    assert seconds(datetime(2024, 1, 2, 14), datetime(2024, 1, 2, 15), us) == 3600
    assert seconds(datetime(2024, 1, 2, 13), datetime(2024, 1, 2, 14), us) == 0
    # Christmas and Boxing Day in Germany: 2024-12-23..27 has 3 working days.
    de = BUILTIN_CALENDARS["de"]
    assert seconds(datetime(2024, 12, 23), datetime(2024, 12, 28), de) == 3 * 8 * 3600


def test_vectorised_nat_negative_and_regions() -> None:
    cals = CalendarSet(BUILTIN_CALENDARS["default"], {"EMEA": BUILTIN_CALENDARS["de"]})
    s = np.array(["2024-12-24T08:00", "2024-12-27T08:00", "NaT", "2024-12-27T08:00"],
                 dtype="datetime64[us]")
    e = np.array(["2024-12-27T08:00", "2024-12-24T08:00", "2024-12-24", "2024-12-30T08:00"],
                 dtype="datetime64[us]")
    got = working_seconds(s, e, cals, np.array(["EMEA", "EMEA", "EMEA", None], dtype=object))
    # EMEA (Berlin, UTC+1): 24th 09:00-17:00 local (8 h) then the 25th and 26th are holidays.
    assert got[0] == 8 * 3600
    assert got[1] == -8 * 3600
    assert np.isnan(got[2])
    # Default calendar, no region: Fri 27th 09-17 UTC, weekend, Mon 30th until 08:00.
    assert got[3] == 8 * 3600


def test_toml_calendar_file(tmp_path: Path) -> None:
    path = tmp_path / "cal.toml"
    path.write_text(
        'hours = ["08:00-12:00", "13:00-17:00"]\n'
        'holidays = ["2024-01-03"]\n'
        '[regions.EMEA]\nextends = "fr"\nextra_holidays = ["2024-01-02"]\n'
        '[regions."North America"]\nweekdays = ["Mon", "Tue"]\n',
        encoding="utf-8",
    )
    cals = load_calendars(str(path))
    assert cals.default.day_seconds == 8 * 3600
    assert cals.regions["EMEA"].timezone == "Europe/Paris"
    assert "2024-01-02" in cals.regions["EMEA"].holidays and "07-14" in cals.regions["EMEA"].holidays
    assert cals.regions["North America"].weekdays == (0, 1)
    assert cals.regions["North America"].periods == cals.default.periods
    week = (datetime(2024, 1, 1), datetime(2024, 1, 8))
    assert seconds(*week, cals) == 4 * 8 * 3600
    assert seconds(*week, cals, "North America") == 2 * 8 * 3600
    assert seconds(*week, cals, "EMEA") == 3 * 8 * 3600  # Jan 1 and Jan 2 off


@pytest.mark.parametrize(
    ("body", "column", "value"),
    [
        ('hours = ["9-17"]\n', "hours", "9-17"),
        ('weekdays = ["Monday"]\n', "weekdays", "Monday"),
        ('holidays = ["25/12"]\n', "holidays", "25/12"),
        ('timezone = "Mars/Olympus"\n', "timezone", "Mars/Olympus"),
        ('[regions.EMEA]\nextends = "xx"\n', "extends", "xx"),
        ('hours = ["09:00-13:00", "12:00-17:00"]\n', "hours", None),
    ],
)
def test_bad_calendar_file_names_place_and_value(
    tmp_path: Path, body: str, column: str, value: str | None
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_calendars(str(path))
    assert info.value.location.file == str(path)
    assert info.value.location.column == column
    assert info.value.hint
    if value is not None:
        assert info.value.value == value


def test_unknown_calendar_name() -> None:
    with pytest.raises(Lead2CashError, match="neither a built-in calendar"):
        load_calendars("mars")
    assert load_calendars("uk").default.holidays == ("01-01", "12-25", "12-26")
    assert date(2024, 1, 1).weekday() == 0
