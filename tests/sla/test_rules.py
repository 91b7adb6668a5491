"""SLA clock arithmetic: hand-worked tables, DST nights, and a minute-by-minute reference check.

Dates are in 2026: Thursday 1 January; Monday 5, 12 and 19 January. DST changes in 2026:
Europe/London 29 March (01:00 GMT -> 02:00 BST) and 25 October (02:00 BST -> 01:00 GMT);
America/New_York 8 March (02:00 EST -> 03:00 EDT) and 1 November (02:00 EDT -> 01:00 EST).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from amends.sla.holidays import public_holidays
from amends.sla.rules import (
    MIDNIGHT,
    BusinessCalendar,
    Interval,
    add_business_time,
    business_time_between,
    format_duration,
    format_hours,
    is_open,
    next_open,
    parse_duration,
    parse_hours,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def utc(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def lon(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


def nyc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


def weekdays(spec: str) -> tuple[tuple[Interval, ...], ...]:
    return (parse_hours(spec),) * 5 + ((), ())


def every_day(spec: str) -> tuple[tuple[Interval, ...], ...]:
    return (parse_hours(spec),) * 7


# Mon-Fri 09:00-17:00 UTC; New Year's Day (Thu) and Friday 16 January are holidays.
CAL = BusinessCalendar(name="9-5", holidays=frozenset({date(2026, 1, 1), date(2026, 1, 16)}))
LUNCH = BusinessCalendar(name="lunch", hours=weekdays("08:00-12:00, 13:00-18:00"))
ALWAYS = BusinessCalendar.always()
ALWAYS_LONDON = BusinessCalendar.always(name="24/7 London", tz="Europe/London")
LON_9_5 = BusinessCalendar(name="London 9-5", tz="Europe/London")
NYC_9_5 = BusinessCalendar(name="New York 9-5", tz="America/New_York")
# A night shift every night: 22:00-24:00 and 00:00-06:00 local.
NIGHT_LON = BusinessCalendar(
    name="night London", tz="Europe/London", hours=every_day("22:00-24:00, 00:00-06:00")
)
NIGHT_NYC = BusinessCalendar(
    name="night New York", tz="America/New_York", hours=every_day("22:00-24:00, 00:00-06:00")
)
EARLY_NYC = BusinessCalendar(
    name="01-05 New York", tz="America/New_York", hours=every_day("01:00-05:00")
)
SPLIT_NYC = BusinessCalendar(
    name="split New York",
    tz="America/New_York",
    hours=weekdays("08:00-12:00, 13:00-17:00"),
    holidays=frozenset({date(2026, 7, 3), date(2026, 11, 26)}),
)

ADD_CASES = [
    # name, calendar, start, work, expected
    ("inside one day", CAL, utc(1, 5, 10), 4 * H, utc(1, 5, 14)),
    ("before opening", CAL, utc(1, 5, 7, 30), H, utc(1, 5, 10)),
    ("after closing", CAL, utc(1, 5, 18), H, utc(1, 6, 10)),
    ("spills into the next day", CAL, utc(1, 5, 15), 4 * H, utc(1, 6, 11)),
    ("over a weekend", CAL, utc(1, 9, 16), 2 * H, utc(1, 12, 10)),
    ("starts on a Saturday", CAL, utc(1, 10, 12), 30 * M, utc(1, 12, 9, 30)),
    ("over a holiday and a weekend", CAL, utc(1, 15, 16), 2 * H, utc(1, 19, 10)),
    ("starts inside a holiday", CAL, utc(1, 1, 10), H, utc(1, 2, 10)),
    ("ends at closing: due at next opening", CAL, utc(1, 5, 9), 8 * H, utc(1, 6, 9)),
    ("ends at Friday closing: due Monday", CAL, utc(1, 9, 13), 4 * H, utc(1, 12, 9)),
    ("a whole week", CAL, utc(1, 5, 9), 40 * H, utc(1, 12, 9)),
    ("a week and an hour", CAL, utc(1, 5, 9), 41 * H, utc(1, 12, 10)),
    # 40h in week one, 32h Mon-Thu of week two; Fri 16 is a holiday -> next opening Mon 19.
    ("3d is 72 business hours", CAL, utc(1, 5, 9), parse_duration("3d"), utc(1, 19, 9)),
    ("seconds carry over", CAL, utc(1, 5, 16, 59, 30), M, utc(1, 6, 9, 0, 30)),
    (
        "aware non-UTC start",
        CAL,
        datetime(2026, 1, 5, 11, tzinfo=ZoneInfo("Europe/Paris")),
        H,
        utc(1, 5, 11),
    ),
    ("zero work while open is start", CAL, utc(1, 5, 10), timedelta(0), utc(1, 5, 10)),
    ("zero work while closed is still start", CAL, utc(1, 10, 12), timedelta(0), utc(1, 10, 12)),
    ("lunch break is skipped", LUNCH, utc(1, 5, 11), 2 * H, utc(1, 5, 14)),
    ("start inside lunch", LUNCH, utc(1, 5, 12, 30), 30 * M, utc(1, 5, 13, 30)),
    ("ends at lunch: due after lunch", LUNCH, utc(1, 5, 11), H, utc(1, 5, 13)),
    ("split day over a weekend", LUNCH, utc(1, 9, 17), 2 * H, utc(1, 12, 9)),
    ("24/7 over midnight", ALWAYS, utc(1, 10, 23, 30), H, utc(1, 11, 0, 30)),
    ("24/7 three days", ALWAYS, utc(1, 10, 12), parse_duration("3d"), utc(1, 13, 12)),
    ("24/7 London counts the lost hour", ALWAYS_LONDON, lon(3, 28, 22), 8 * H, utc(3, 29, 6)),
    # A 9-17 calendar: the DST weekend must not matter; 10:00 local on Monday either way.
    ("London 9-5 over spring forward", LON_9_5, lon(3, 27, 16), 2 * H, lon(3, 30, 10)),
    ("London 9-5 over fall back", LON_9_5, lon(10, 23, 16), 2 * H, lon(10, 26, 10)),
    ("New York 9-5 over spring forward", NYC_9_5, nyc(3, 6, 16), 2 * H, nyc(3, 9, 10)),
    ("New York 9-5 over fall back", NYC_9_5, nyc(10, 30, 16), 2 * H, nyc(11, 2, 10)),
    # Night shift: 2h before midnight, then 00:00 GMT -> 06:00 BST is only 5 real hours.
    ("London night, spring forward", NIGHT_LON, lon(3, 28, 22), 6 * H, utc(3, 29, 4)),
    (
        "London night, spring forward, 7h is the whole night",
        NIGHT_LON,
        lon(3, 28, 22),
        7 * H,
        lon(3, 29, 22),
    ),
    # 2h before midnight BST, then 00:00 BST -> 06:00 GMT is 7 real hours.
    ("London night, fall back", NIGHT_LON, lon(10, 24, 22), 8 * H, utc(10, 25, 5)),
    (
        "London night, fall back, 9h is the whole night",
        NIGHT_LON,
        lon(10, 24, 22),
        9 * H,
        lon(10, 25, 22),
    ),
    ("New York night, spring forward", NIGHT_NYC, nyc(3, 7, 22), 6 * H, utc(3, 8, 9)),
    ("New York night, fall back", NIGHT_NYC, nyc(10, 31, 22), 8 * H, utc(11, 1, 10)),
    # 01:00 EST (06:00Z) .. 05:00 EDT (09:00Z): 3 real hours; 3h of work ends at close.
    ("New York 01-05, spring forward", EARLY_NYC, nyc(3, 8, 0), 2 * H, utc(3, 8, 8)),
    ("New York 01-05, spring forward ends at close", EARLY_NYC, nyc(3, 8, 0), 3 * H, nyc(3, 9, 1)),
    # 01:00 EDT (05:00Z, first of the two) .. 05:00 EST (10:00Z): 5 real hours.
    ("New York 01-05, fall back", EARLY_NYC, nyc(11, 1, 0), 4 * H + 30 * M, utc(11, 1, 9, 30)),
    ("New York split over a holiday", SPLIT_NYC, nyc(7, 2, 16), 2 * H, nyc(7, 6, 9)),
]


@pytest.mark.parametrize(
    ("cal", "start", "work", "expected"),
    [case[1:] for case in ADD_CASES],
    ids=[case[0] for case in ADD_CASES],
)
def test_add_business_time(
    cal: BusinessCalendar, start: datetime, work: timedelta, expected: datetime
) -> None:
    due = add_business_time(start, work, cal)
    assert due == expected
    assert due.tzinfo is UTC


BETWEEN_CASES = [
    # name, calendar, start, end, expected
    ("inside one day", CAL, utc(1, 5, 10), utc(1, 5, 14), 4 * H),
    ("start before opening", CAL, utc(1, 5, 7, 30), utc(1, 5, 10), H),
    ("start after closing", CAL, utc(1, 5, 18), utc(1, 6, 10), H),
    ("over a weekend", CAL, utc(1, 9, 16), utc(1, 12, 10), 2 * H),
    ("over a holiday", CAL, utc(1, 15, 16), utc(1, 19, 10), 2 * H),
    ("inside a holiday", CAL, utc(1, 1, 10), utc(1, 1, 16), timedelta(0)),
    ("from a holiday", CAL, utc(1, 1, 10), utc(1, 2, 10), H),
    ("a whole week", CAL, utc(1, 5, 9), utc(1, 12, 9), 40 * H),
    ("two weeks, one holiday", CAL, utc(1, 4), utc(1, 19), 72 * H),
    # 2026 has 261 weekdays; two of them are holidays.
    ("a whole year", CAL, utc(1, 1), datetime(2027, 1, 1, tzinfo=UTC), 259 * 8 * H),
    ("end before start", CAL, utc(1, 5, 14), utc(1, 5, 10), timedelta(0)),
    ("end equals start", CAL, utc(1, 5, 10), utc(1, 5, 10), timedelta(0)),
    ("closed all along", CAL, utc(1, 10), utc(1, 12, 9), timedelta(0)),
    ("lunch break", LUNCH, utc(1, 5, 11), utc(1, 5, 14), 2 * H),
    ("24/7", ALWAYS, utc(1, 10, 12), utc(1, 13, 12), 72 * H),
    ("24/7 London over spring forward", ALWAYS_LONDON, lon(3, 29), lon(3, 30), 23 * H),
    ("London 9-5 over spring forward", LON_9_5, lon(3, 27, 16), lon(3, 30, 10), 2 * H),
    ("London 9-5 over fall back", LON_9_5, lon(10, 23, 16), lon(10, 26, 10), 2 * H),
    ("New York 9-5 over spring forward", NYC_9_5, nyc(3, 6, 16), nyc(3, 9, 10), 2 * H),
    ("New York 9-5 over fall back", NYC_9_5, nyc(10, 30, 16), nyc(11, 2, 10), 2 * H),
    ("London night, spring forward", NIGHT_LON, lon(3, 28, 22), lon(3, 29, 6), 7 * H),
    ("London night, fall back", NIGHT_LON, lon(10, 24, 22), lon(10, 25, 6), 9 * H),
    ("London night, ordinary", NIGHT_LON, lon(1, 5, 22), lon(1, 6, 6), 8 * H),
    ("New York night, spring forward", NIGHT_NYC, nyc(3, 7, 22), nyc(3, 8, 6), 7 * H),
    ("New York night, fall back", NIGHT_NYC, nyc(10, 31, 22), nyc(11, 1, 6), 9 * H),
    ("New York 01-05, spring forward", EARLY_NYC, nyc(3, 8), nyc(3, 8, 12), 3 * H),
    ("New York 01-05, fall back", EARLY_NYC, nyc(11, 1), nyc(11, 1, 12), 5 * H),
]


@pytest.mark.parametrize(
    ("cal", "start", "end", "expected"),
    [case[1:] for case in BETWEEN_CASES],
    ids=[case[0] for case in BETWEEN_CASES],
)
def test_business_time_between(
    cal: BusinessCalendar, start: datetime, end: datetime, expected: timedelta
) -> None:
    assert business_time_between(start, end, cal) == expected


@pytest.mark.parametrize(
    ("cal", "start", "work", "expected"),
    [case[1:] for case in ADD_CASES],
    ids=[case[0] for case in ADD_CASES],
)
def test_between_undoes_add(
    cal: BusinessCalendar, start: datetime, work: timedelta, expected: datetime
) -> None:
    due = add_business_time(start, work, cal)
    assert business_time_between(start, due, cal) == work
    if work:
        assert is_open(due, cal)  # a positive target always falls due while open
        assert add_business_time(start, business_time_between(start, due, cal), cal) == due


IS_OPEN_CASES = [
    ("9-5 at opening", CAL, utc(1, 5, 9), True),
    ("9-5 at closing", CAL, utc(1, 5, 17), False),
    ("9-5 a second before closing", CAL, utc(1, 5, 16, 59, 59), True),
    ("Saturday", CAL, utc(1, 10, 12), False),
    ("holiday", CAL, utc(1, 16, 12), False),
    ("lunch", LUNCH, utc(1, 5, 12, 30), False),
    ("24/7", ALWAYS, utc(1, 10, 3), True),
    ("night at midnight", NIGHT_LON, lon(1, 6), True),
    ("night at 06:00", NIGHT_LON, lon(1, 6, 6), False),
    ("London 9-5 in BST", LON_9_5, utc(6, 1, 8, 30), True),  # 09:30 BST
    ("London 9-5 in BST, 16:30Z is 17:30", LON_9_5, utc(6, 1, 16, 30), False),
    ("New York 01-05, second 01:30 on fall back", EARLY_NYC, utc(11, 1, 6, 30), True),
]


@pytest.mark.parametrize(
    ("cal", "moment", "expected"),
    [case[1:] for case in IS_OPEN_CASES],
    ids=[case[0] for case in IS_OPEN_CASES],
)
def test_is_open(cal: BusinessCalendar, moment: datetime, expected: bool) -> None:
    assert is_open(moment, cal) is expected


NEXT_OPEN_CASES = [
    ("open: itself", CAL, utc(1, 5, 10, 15), utc(1, 5, 10, 15)),
    ("before opening", CAL, utc(1, 5, 7), utc(1, 5, 9)),
    ("at closing", CAL, utc(1, 5, 17), utc(1, 6, 9)),
    ("weekend and holiday", CAL, utc(1, 15, 18), utc(1, 19, 9)),
    ("lunch", LUNCH, utc(1, 5, 12), utc(1, 5, 13)),
    ("24/7", ALWAYS, utc(1, 10, 3), utc(1, 10, 3)),
    ("London 9-5 on the spring-forward Monday", LON_9_5, lon(3, 28, 12), utc(3, 30, 8)),
    ("returned in UTC", NYC_9_5, nyc(1, 5, 10), utc(1, 5, 15)),
]


@pytest.mark.parametrize(
    ("cal", "moment", "expected"),
    [case[1:] for case in NEXT_OPEN_CASES],
    ids=[case[0] for case in NEXT_OPEN_CASES],
)
def test_next_open(cal: BusinessCalendar, moment: datetime, expected: datetime) -> None:
    found = next_open(moment, cal)
    assert found == expected
    assert found.tzinfo is UTC


def test_a_time_in_the_spring_gap_resolves_like_zoneinfo_fold_0() -> None:
    # 02:30 does not exist on 8 March in New York; fold=0 reads it with the EST offset, so the
    # desk opens at 07:30Z (03:30 EDT) and works until 05:00 EDT: 1h30m that night.
    cal = BusinessCalendar(name="gap", tz="America/New_York", hours=every_day("02:30-05:00"))
    assert not is_open(utc(3, 8, 7, 15), cal)
    assert next_open(nyc(3, 8), cal) == utc(3, 8, 7, 30)
    assert business_time_between(nyc(3, 8), nyc(3, 8, 12), cal) == 90 * M


def test_an_ambiguous_time_on_fall_back_is_its_first_occurrence() -> None:
    cal = BusinessCalendar(name="fold", tz="America/New_York", hours=every_day("01:30-01:45"))
    assert business_time_between(nyc(11, 1), nyc(11, 1, 12), cal) == 15 * M
    assert is_open(utc(11, 1, 5, 40), cal)  # 01:40 EDT
    assert not is_open(utc(11, 1, 6, 40), cal)  # 01:40 EST


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_business_time(datetime(2026, 1, 5, 10), H, CAL),  # noqa: DTZ001
        lambda: business_time_between(utc(1, 5), datetime(2026, 1, 6), CAL),  # noqa: DTZ001
        lambda: is_open(datetime(2026, 1, 5, 10), CAL),  # noqa: DTZ001
        lambda: next_open(datetime(2026, 1, 5, 10), CAL),  # noqa: DTZ001
    ],
    ids=["add", "between", "is_open", "next_open"],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_negative_work_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(utc(1, 5, 10), -H, CAL)


def test_a_calendar_closed_for_over_ten_years_gives_up() -> None:
    every_day_off = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(366 * 11))
    cal = BusinessCalendar(name="closed", holidays=every_day_off)
    with pytest.raises(ValueError, match="no working time within 10 years"):
        add_business_time(utc(1, 5, 10), H, cal)
    with pytest.raises(ValueError, match="no working time within 10 years"):
        next_open(utc(1, 5, 10), cal)
    assert business_time_between(utc(1, 1), datetime(2030, 1, 1, tzinfo=UTC), cal) == timedelta(0)


def test_calendars_are_hashable_values() -> None:
    again = BusinessCalendar(name="9-5", holidays=frozenset({date(2026, 1, 16), date(2026, 1, 1)}))
    assert again == CAL
    assert hash(again) == hash(CAL)
    assert len({CAL, again, LUNCH}) == 2
    assert BusinessCalendar().hours[5:] == ((), ())
    assert BusinessCalendar().hours[0] == ((time(9), time(17)),)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
        ({"tz": ""}, "time zone"),
        ({"hours": ((),) * 6}, "exactly 7 entries"),
        ({"hours": ((),) * 8}, "exactly 7 entries"),
        ({"hours": (((time(17), time(9)),),) + ((),) * 6}, "Monday: interval 17:00-09:00"),
        ({"hours": (((time(9), time(9)),),) + ((),) * 6}, "does not open before it closes"),
        (
            {"hours": ((),) * 2 + (((time(9), time(13)), (time(12), time(17))),) + ((),) * 4},
            "Wednesday: intervals 09:00-13:00 and 12:00-17:00 overlap",
        ),
        ({"hours": (((time(22), MIDNIGHT), (time(23), time(23, 30))),) * 7}, "overlap"),
        ({"hours": ((),) * 7}, "no working time in the week"),
        ({"hours": ((("09:00", "17:00"),),) * 7}, "datetime.time"),
        ({"hours": (((time(9, tzinfo=UTC), time(17)),),) * 7}, "without tzinfo"),
        ({"holidays": frozenset({datetime(2026, 1, 1, tzinfo=UTC)})}, "not a datetime.date"),
    ],
)
def test_calendar_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_touching_intervals_and_lists_are_accepted() -> None:
    cal = BusinessCalendar(
        name="lists",
        hours=[[(time(9), time(12)), (time(12), time(17))]] * 5 + [[], []],  # type: ignore[arg-type]
        holidays={date(2026, 1, 1)},  # type: ignore[arg-type]
    )
    assert cal.hours[0] == ((time(9), time(12)), (time(12), time(17)))
    assert isinstance(cal.holidays, frozenset)
    assert hash(cal) == hash(cal)
    assert business_time_between(utc(1, 5), utc(1, 6), cal) == 8 * H
    assert add_business_time(utc(1, 5, 11), H, cal) == utc(1, 5, 12)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("09:00-17:00", ((time(9), time(17)),)),
        ("08:00-12:00, 13:00-18:00", ((time(8), time(12)), (time(13), time(18)))),
        ("13:00-18:00,08:00-12:00", ((time(8), time(12)), (time(13), time(18)))),
        ("9:30 - 17:45", ((time(9, 30), time(17, 45)),)),
        ("22:00-24:00", ((time(22), MIDNIGHT),)),
        ("22:00-00:00", ((time(22), MIDNIGHT),)),
        ("24h", ((MIDNIGHT, MIDNIGHT),)),
        ("00:00-24:00", ((MIDNIGHT, MIDNIGHT),)),
        ("closed", ()),
        (" Closed ", ()),
        ("", ()),
    ],
)
def test_parse_hours(spec: str, expected: tuple[Interval, ...]) -> None:
    assert parse_hours(spec) == expected
    assert parse_hours(format_hours(expected)) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("9-17", "bad opening hours '9-17'"),
        ("09:00-17:00, lunch", "bad opening hours 'lunch'"),
        ("09:00-17:00,", "bad opening hours ''"),
        ("17:00-09:00", "17:00-09:00 does not open before it closes"),
        ("09:00-17:00, 12:00-13:00", "09:00-17:00 and 12:00-13:00 overlap"),
        ("25:00-26:00", "bad time in opening hours '25:00-26:00'"),
        ("09:60-10:00", "bad time"),
        ("22:00-24:30", "bad time"),
        ("24:00-24:00", "bad time"),
        ("24/7", "bad opening hours"),
    ],
)
def test_parse_hours_refuses(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(spec)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("4h", 4 * H),
        ("30m", 30 * M),
        ("1h30m", 90 * M),
        ("2d", timedelta(days=2)),
        ("1d 4h", 28 * H),
        ("90s", timedelta(seconds=90)),
        ("1w", timedelta(weeks=1)),
        ("2 hours 15 minutes", 135 * M),
        ("1.5h", 90 * M),
        (" 4H ", 4 * H),
        ("PT4H", 4 * H),
        ("pt30m", 30 * M),
        ("P1DT4H", 28 * H),
        ("P2W", timedelta(weeks=2)),
        ("PT1,5H", 90 * M),
        ("45", 45 * M),
        (30, 30 * M),
        (1.5, timedelta(seconds=90)),
        (0, timedelta(0)),
        ("0m", timedelta(0)),
        ("PT0S", timedelta(0)),
    ],
)
def test_parse_duration(spec: str | int | float, expected: timedelta) -> None:
    assert parse_duration(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty duration"),
        ("4x", "unknown unit 'x'"),
        ("h", "bad duration 'h'"),
        ("4h4h", "hours given twice"),
        ("4h and 5m", "bad duration"),
        ("-4h", "must not be negative"),
        (-5, "non-negative"),
        (float("nan"), "finite"),
        (True, "bad duration"),
        ("P1M", "years or months"),
        ("P1Y2D", "years or months"),
        ("PT", "bad ISO 8601 duration"),
        ("P", "bad ISO 8601 duration"),
        ("PT4X", "bad ISO 8601 duration"),
        ("99999999999d", "too long"),
    ],
)
def test_parse_duration_refuses(spec: str | int | float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(spec)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (28 * H, "1d 4h"),
        (30 * M, "30m"),
        (timedelta(0), "0m"),
        (timedelta(seconds=90), "1m 30s"),
        (timedelta(days=2), "2d"),
        (timedelta(days=3, minutes=5), "3d 5m"),
        (timedelta(milliseconds=400), "0m"),
        (timedelta(seconds=59, milliseconds=600), "1m"),
        (-2 * H, "-2h"),
    ],
)
def test_format_duration(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text
    if delta >= timedelta(0):
        assert parse_duration(text) == timedelta(seconds=round(delta.total_seconds()))


# --- a reference check: every minute of random windows, against a plain local-time reading ---

REFERENCE_CALENDARS = [CAL, LUNCH, LON_9_5, NIGHT_LON, NIGHT_NYC, EARLY_NYC, SPLIT_NYC]


def reference_is_open(moment: datetime, cal: BusinessCalendar) -> bool:
    """Read the calendar directly in local time (valid where no boundary sits in a DST jump)."""
    local = moment.astimezone(ZoneInfo(cal.tz))
    if local.date() in cal.holidays:
        return False
    wall = local.time()
    return any(o <= wall and (c == MIDNIGHT or wall < c) for o, c in cal.hours[local.weekday()])


def random_moments(rng: random.Random, n: int) -> list[datetime]:
    """Minutes spread over 2026, half of them within two days of a DST change."""
    changes = [utc(3, 8), utc(3, 29), utc(10, 25), utc(11, 1)]
    out = []
    for i in range(n):
        if i % 2:
            out.append(rng.choice(changes) + timedelta(minutes=rng.randrange(-2880, 2880)))
        else:
            out.append(utc(1, 1) + timedelta(minutes=rng.randrange(365 * 1440)))
    return out


@pytest.mark.parametrize("cal", REFERENCE_CALENDARS, ids=lambda cal: cal.name)
def test_against_a_minute_by_minute_reference(cal: BusinessCalendar) -> None:
    rng = random.Random(cal.name)
    for start in random_moments(rng, 12):
        minutes = [start + timedelta(minutes=k) for k in range(rng.randrange(1, 3 * 1440))]
        flags = [reference_is_open(m, cal) for m in minutes]
        assert [is_open(m, cal) for m in minutes[::37]] == flags[::37]
        end = minutes[-1] + M
        assert business_time_between(start, end, cal) == sum(flags) * M
        if sum(flags):
            # The deadline for the window's work is the minute after its last open minute,
            # or the next opening when that is a closing time.
            last = max(k for k, flag in enumerate(flags) if flag)
            due = add_business_time(start, sum(flags) * M, cal)
            assert due == next_open(minutes[last] + M, cal)


@pytest.mark.parametrize("cal", [*REFERENCE_CALENDARS, ALWAYS, ALWAYS_LONDON], ids=lambda c: c.name)
def test_round_trip_properties(cal: BusinessCalendar) -> None:
    rng = random.Random(f"round trip {cal.name}")
    moments = random_moments(rng, 400)
    for start, other in zip(moments[::2], moments[1::2], strict=True):
        work = timedelta(minutes=rng.randrange(1, 6000))
        due = add_business_time(start, work, cal)
        assert due > start
        assert is_open(due, cal)
        assert business_time_between(start, due, cal) == work
        end = max(start, other)
        elapsed = business_time_between(start, end, cal)
        if is_open(end, cal) and elapsed:
            assert add_business_time(start, elapsed, cal) == end
        assert business_time_between(start, end, cal) <= end - start


def test_public_holidays_england_2026() -> None:
    days = public_holidays("GB", subdivision="ENG", years=[2026])
    assert date(2026, 12, 25) in days  # Christmas Day, a Friday
    assert date(2026, 12, 28) in days  # Boxing Day (Saturday) observed on Monday
    assert date(2026, 4, 3) in days  # Good Friday
    assert date(2026, 3, 17) not in days  # St Patrick's Day is Northern Ireland only
    assert date(2026, 3, 17) in public_holidays("GB", subdivision="NIR", years=[2026])
    assert public_holidays("gb", subdivision="eng", years=[2026]) == days
    assert public_holidays("US", years=[]) == frozenset()


@pytest.mark.parametrize(
    ("country", "subdivision", "message"),
    [
        ("XX", None, "unknown country 'XX'"),
        ("", None, "country must be"),
        ("GB", "XYZ", "unknown subdivision 'XYZ' of GB"),
    ],
)
def test_public_holidays_refuses(country: str, subdivision: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        public_holidays(country, subdivision=subdivision, years=[2026])


def test_public_holidays_feed_a_calendar() -> None:
    cal = BusinessCalendar(
        name="London",
        tz="Europe/London",
        holidays=public_holidays("GB", subdivision="ENG", years=[2026, 2027]),
    )
    # Thursday 24 Dec 16:00 + 2h: Christmas Friday, weekend, Boxing Day observed Monday 28.
    assert add_business_time(lon(12, 24, 16), 2 * H, cal) == utc(12, 29, 10)
