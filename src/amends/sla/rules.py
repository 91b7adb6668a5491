"""Business-time arithmetic for SLA clocks: pure functions over a `BusinessCalendar`.

No IO and no database: the caller passes the moment, the target and the calendar.

Conventions every caller relies on:

* ``hours[weekday]`` (Monday=0) lists the local wall-clock intervals ``(open, close)`` in which
  the desk works, half-open: open at ``open``, closed again at ``close``. ``close == time(0)``
  means midnight at the *end* of that day (24:00; `parse_hours` accepts ``24:00``). An interval
  never crosses midnight, so a night shift is two intervals on two days: ``22:00-24:00`` on one
  day and ``00:00-06:00`` on the next. Touching intervals are merged, so that shift is one
  unbroken stretch of working time.
* ``holidays`` are local dates on which the desk is closed all day; a shift that started the
  evening before still runs until its own midnight.
* Business time is counted in real elapsed time. A ``01:00-05:00`` interval lasts 3 real hours
  on a spring-forward night and 5 on a fall-back night. Local times are turned into instants the
  way `zoneinfo` does with ``fold=0``: an ambiguous time (fall back) is its first occurrence, and
  a time inside the spring gap uses the offset from before the gap, so 02:30 on a New York
  spring-forward night means 03:30 EDT. Where that makes two intervals overlap, they count once.
* Every returned datetime is UTC-aware (``tzinfo=UTC``); naive input raises `ValueError`.
* `add_business_time` with a zero target returns ``start`` itself (now), even when closed. With
  a positive target the deadline is always an open moment: work that runs out exactly at a
  closing time falls due at the next opening (Friday 17:00 becomes Monday 09:00). Hence
  ``add_business_time(s, business_time_between(s, e), cal) == e`` for every open ``e`` after
  ``s`` with business time between them.
* A walk that finds no working time within 10 years (every day a holiday) raises `ValueError`.
* `parse_duration`'s ``d`` is 24 hours of business time, not a business day: ``3d`` on a
  Monday-Friday 9-17 calendar is 72 business hours, nine working days.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_HOURS",
    "MIDNIGHT",
    "BusinessCalendar",
    "Hours",
    "Interval",
    "add_business_time",
    "business_time_between",
    "format_duration",
    "format_hours",
    "is_open",
    "next_open",
    "parse_duration",
    "parse_hours",
]

Interval = tuple[time, time]
"""Local wall-clock ``(open, close)``; ``close == time(0)`` is midnight at the end of the day."""

Hours = tuple[tuple[Interval, ...], ...]
"""Seven entries, Monday=0: the working intervals of each weekday."""

MIDNIGHT = time(0)
_NINE_TO_FIVE: tuple[Interval, ...] = ((time(9), time(17)),)
DEFAULT_HOURS: Hours = (_NINE_TO_FIVE,) * 5 + ((), ())
_ALL_DAY: tuple[Interval, ...] = ((MIDNIGHT, MIDNIGHT),)
_ALWAYS_HOURS: Hours = (_ALL_DAY,) * 7
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

MAX_WALK_YEARS = 10
# Weeks walked before giving up: a little over ten years.
_MAX_WEEKS = 522
_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)

_Span = tuple[datetime, datetime]
# (start of the local week, start of the next, working spans in UTC, their total, their ends)
_Week = tuple[datetime, datetime, tuple[_Span, ...], timedelta, tuple[datetime, ...]]


@dataclass(frozen=True)
class BusinessCalendar:
    """When a desk works: weekly hours in one time zone, minus holidays. Hashable, validated."""

    name: str = "default"
    tz: str = "UTC"
    hours: Hours = DEFAULT_HOURS
    holidays: frozenset[date] = frozenset()
    # Derived in __post_init__; not part of equality. The hash is cached because every cached
    # week lookup hashes the calendar.
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _always: bool = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise ValueError(f"calendar name must be a string, got {self.name!r}")
        zone = _zone_for(self.tz)
        hours = _check_week(self.hours, self.name)
        holidays = _check_holidays(self.holidays, self.name)
        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_always", hours == _ALWAYS_HOURS and not holidays)
        object.__setattr__(self, "_hash", hash((self.name, self.tz, hours, holidays)))

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def always(cls, name: str = "24/7", tz: str = "UTC") -> BusinessCalendar:
        """A calendar that is open all the time and has no holidays."""
        return cls(name=name, tz=tz, hours=_ALWAYS_HOURS)


def add_business_time(start: datetime, work: timedelta, cal: BusinessCalendar) -> datetime:
    """The UTC moment at which `work` of business time has elapsed after aware `start`.

    ``work == 0`` returns `start` (in UTC) even when closed; otherwise the result is always an
    open moment (work ending exactly at a closing time falls due at the next opening). Negative
    work, naive `start` or no working time within 10 years raise `ValueError`.
    """
    start_utc = _as_utc(start, "start")
    if work < _ZERO:
        raise ValueError(f"work must not be negative, got {work}")
    if not work:
        return start_utc
    try:
        if cal._always:
            return start_utc + work
        remaining = work
        monday, week = _week_of(start_utc, cal)
        spans = week[2]
        for s, e in spans[bisect_right(week[4], start_utc) :]:
            begin = s if s >= start_utc else start_utc
            if remaining < e - begin:
                return begin + remaining
            remaining -= e - begin
        # Whole weeks after the first: skip a week at once when the work outlasts it.
        for _ in range(_MAX_WEEKS):
            monday += 7
            week = _week(cal, monday)
            if remaining >= week[3]:
                remaining -= week[3]
                continue
            for s, e in week[2]:
                span = e - s
                if remaining < span:
                    return s + remaining
                remaining -= span
    except OverflowError as exc:
        raise ValueError(f"deadline for {start} + {work} is out of range") from exc
    raise ValueError(
        f"calendar {cal.name!r} has no working time within {MAX_WALK_YEARS} years after {start}"
    )


def business_time_between(start: datetime, end: datetime, cal: BusinessCalendar) -> timedelta:
    """Business time inside ``[start, end)`` (both aware); zero when ``end <= start``."""
    lo_utc = _as_utc(start, "start")
    hi_utc = _as_utc(end, "end")
    if hi_utc <= lo_utc:
        return _ZERO
    if cal._always:
        return hi_utc - lo_utc
    total = _ZERO
    try:
        monday, week = _week_of(lo_utc, cal)
        while True:
            week_lo, week_hi, spans, week_total, _ends = week
            if week_lo >= hi_utc:
                return total
            if week_lo >= lo_utc and week_hi <= hi_utc:
                total += week_total
            else:
                for s, e in spans:
                    if s >= hi_utc:
                        return total
                    if e > lo_utc:
                        total += (e if e <= hi_utc else hi_utc) - (s if s >= lo_utc else lo_utc)
            monday += 7
            week = _week(cal, monday)
    except OverflowError as exc:  # pragma: no cover - only near year 9999
        raise ValueError(f"business time between {start} and {end} is out of range") from exc


def is_open(moment: datetime, cal: BusinessCalendar) -> bool:
    """Whether the desk is working at aware `moment`."""
    m = _as_utc(moment, "moment")
    if cal._always:
        return True
    try:
        week = _week_of(m, cal)[1]
    except OverflowError as exc:  # pragma: no cover - only near year 9999
        raise ValueError(f"{moment} is out of range") from exc
    spans = week[2]
    i = bisect_right(week[4], m)
    return i < len(spans) and spans[i][0] <= m


def next_open(moment: datetime, cal: BusinessCalendar) -> datetime:
    """`moment` (in UTC) when open, else the next opening; `ValueError` after 10 closed years."""
    m = _as_utc(moment, "moment")
    if cal._always:
        return m
    try:
        monday, week = _week_of(m, cal)
        i = bisect_right(week[4], m)
        if i < len(week[2]):
            s = week[2][i][0]
            return s if s > m else m
        for _ in range(_MAX_WEEKS):
            monday += 7
            spans = _week(cal, monday)[2]
            if spans:
                return spans[0][0]
    except OverflowError as exc:
        raise ValueError(f"no opening found after {moment}: out of range") from exc
    raise ValueError(
        f"calendar {cal.name!r} has no working time within {MAX_WALK_YEARS} years after {moment}"
    )


_HOURS_PART = re.compile(r"(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})")


def parse_hours(spec: str) -> tuple[Interval, ...]:
    """One day's intervals from ``"09:00-17:00"``, ``"08:00-12:00, 13:00-18:00"``, ``"24h"``.

    ``""`` or ``"closed"`` is no working time; ``"24h"`` and ``"00:00-24:00"`` are the whole day.
    A close of ``24:00`` (or ``00:00``) is midnight at the end of the day, stored as ``time(0)``.
    Bad input raises `ValueError` naming the bad part.
    """
    if not isinstance(spec, str):
        raise ValueError(f"opening hours must be a string, got {spec!r}")
    text = spec.strip().lower()
    if text in ("", "closed"):
        return ()
    if text == "24h":
        return _ALL_DAY
    intervals: list[Interval] = []
    for raw in text.split(","):
        part = raw.strip()
        match = _HOURS_PART.fullmatch(part)
        if match is None:
            raise ValueError(
                f"bad opening hours {part!r} in {spec!r}: expected HH:MM-HH:MM such as "
                "09:00-17:00, several separated by commas, or 'closed' or '24h'"
            )
        oh, om, ch, cm = (int(g) for g in match.groups())
        if oh > 23 or om > 59 or cm > 59 or ch > 24 or (ch == 24 and cm != 0):
            raise ValueError(f"bad time in opening hours {part!r} in {spec!r}")
        intervals.append((time(oh, om), MIDNIGHT if ch == 24 else time(ch, cm)))
    return _check_day(intervals, f"opening hours {spec!r}")


def format_hours(intervals: tuple[Interval, ...]) -> str:
    """The text `parse_hours` reads back: ``"08:00-12:00, 13:00-18:00"``, ``"closed"``."""
    if not intervals:
        return "closed"
    return ", ".join(_fmt_interval(o, c) for o, c in intervals)


_UNITS = {
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "d": "days",
    "day": "days",
    "days": "days",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "s": "seconds",
    "sec": "seconds",
    "secs": "seconds",
    "second": "seconds",
    "seconds": "seconds",
}
_NUMBER = r"\d+(?:\.\d+)?"
_PLAIN_NUMBER = re.compile(_NUMBER)
_TOKEN = re.compile(rf"\s*({_NUMBER})\s*([a-z]+)\s*")
_ISO_NUMBER = r"(\d+(?:[.,]\d+)?)"
_ISO = re.compile(
    rf"P(?!$)(?:{_ISO_NUMBER}W)?(?:{_ISO_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_ISO_NUMBER}H)?(?:{_ISO_NUMBER}M)?(?:{_ISO_NUMBER}S)?)?"
)
_ISO_YEARS_MONTHS = re.compile(r"P[^T]*[YM]")


def parse_duration(spec: str | int | float) -> timedelta:
    """A non-negative duration from ``"4h"``, ``"1h30m"``, ``"1d 4h"``, ``"90s"``, ``"PT4H"``.

    A bare number (int, float or numeric string) means minutes. Units: w, d (24 hours, not a
    business day), h, m, s and their long forms. ISO 8601 durations with weeks, days, hours,
    minutes and seconds are accepted; years and months (no fixed length) are refused.
    Anything else, or a negative duration, raises `ValueError`.
    """
    if isinstance(spec, bool):
        raise ValueError(f"bad duration {spec!r}: expected e.g. '4h', '30m' or minutes")
    if isinstance(spec, int | float):
        return _minutes(float(spec), spec)
    if not isinstance(spec, str):
        raise ValueError(f"bad duration {spec!r}: expected e.g. '4h', '30m' or minutes")
    text = spec.strip().lower()
    if not text:
        raise ValueError("empty duration: expected e.g. '4h', '30m', '1d 4h' or 'PT4H'")
    if text.startswith("-"):
        raise ValueError(f"duration {spec!r} must not be negative")
    if _PLAIN_NUMBER.fullmatch(text):
        return _minutes(float(text), spec)
    try:
        if text.startswith("p"):
            return _parse_iso(text.upper(), spec)
        return _parse_units(text, spec)
    except OverflowError as exc:
        raise ValueError(f"duration {spec!r} is too long") from exc


def format_duration(delta: timedelta) -> str:
    """``"1d 4h"``, ``"1h 30m"``, ``"0m"``: rounded to the second; `parse_duration` reads it back.

    Negative durations (overdue by) get a leading ``-``, which `parse_duration` refuses.
    """
    negative = delta < _ZERO
    if negative:
        delta = -delta
    seconds = delta.days * 86400 + delta.seconds + (1 if delta.microseconds >= 500_000 else 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{value}{unit}"
        for value, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s"))
        if value
    ]
    if not parts:
        return "0m"
    return ("-" if negative else "") + " ".join(parts)


def format_approx(seconds: float | None) -> str:
    """Readable, the two largest units: "45s", "12m 5s", "2h 5m", "3d 4h"; "-" for None."""
    if seconds is None:
        return "-"
    total = round(seconds)
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, total = divmod(total, size)
        if amount or parts:
            parts.append(f"{amount}{unit}")
        if len(parts) == 2:
            break
    if not parts:
        return "0s"
    shown = [parts[0]] + [p for p in parts[1:] if not p.startswith("0")]
    return sign + " ".join(shown)


# --- internals -------------------------------------------------------------------------------


def _zone_for(tz: object) -> ZoneInfo:
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"time zone must be an IANA name such as 'Europe/London', got {tz!r}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {tz!r}: expected an IANA name such as 'Europe/London'"
        ) from exc


def _fmt_time(t: time) -> str:
    return t.strftime("%H:%M:%S" if t.second or t.microsecond else "%H:%M")


def _fmt_interval(open_: time, close: time) -> str:
    return f"{_fmt_time(open_)}-{'24:00' if close == MIDNIGHT else _fmt_time(close)}"


def _check_day(intervals: object, where: str) -> tuple[Interval, ...]:
    """Validated intervals of one day, sorted by opening time."""
    if isinstance(intervals, str) or not isinstance(intervals, tuple | list):
        raise ValueError(f"{where}: expected a sequence of (open, close) intervals")
    checked: list[Interval] = []
    for item in intervals:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise ValueError(f"{where}: an interval is a pair (open, close) of times, not {item!r}")
        open_, close = item
        if not isinstance(open_, time) or not isinstance(close, time):
            raise ValueError(f"{where}: an interval is a pair of datetime.time, not {item!r}")
        if open_.tzinfo is not None or close.tzinfo is not None:
            raise ValueError(f"{where}: interval times are local wall-clock times, without tzinfo")
        if close != MIDNIGHT and open_ >= close:
            raise ValueError(
                f"{where}: interval {_fmt_interval(open_, close)} does not open before it closes "
                "(midnight at the end of the day is 24:00, time(0); a shift past midnight is "
                "two intervals on two days)"
            )
        checked.append((open_, close))
    checked.sort(key=lambda interval: interval[0])
    for (o1, c1), (o2, c2) in pairwise(checked):
        if c1 == MIDNIGHT or c1 > o2:
            raise ValueError(
                f"{where}: intervals {_fmt_interval(o1, c1)} and {_fmt_interval(o2, c2)} overlap"
            )
    return tuple(checked)


def _check_week(hours: object, name: str) -> Hours:
    if isinstance(hours, str) or not isinstance(hours, tuple | list) or len(hours) != 7:
        raise ValueError(
            f"calendar {name!r}: hours must have exactly 7 entries, Monday first"
            + (f", got {len(hours)}" if isinstance(hours, tuple | list) else "")
        )
    week = tuple(
        _check_day(day, f"calendar {name!r}, {_DAY_NAMES[i]}") for i, day in enumerate(hours)
    )
    if not any(week):
        raise ValueError(f"calendar {name!r} has no working time in the week")
    return week


def _check_holidays(holidays: object, name: str) -> frozenset[date]:
    if isinstance(holidays, str) or not isinstance(holidays, frozenset | set | list | tuple):
        raise ValueError(f"calendar {name!r}: holidays must be a set of dates")
    for day in holidays:
        # A datetime is a date subclass but never equal to one, so it would silently not match.
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"calendar {name!r}: holiday {day!r} is not a datetime.date")
    return frozenset(holidays)


def _as_utc(moment: datetime, what: str) -> datetime:
    if not isinstance(moment, datetime):
        raise ValueError(f"{what} must be an aware datetime, got {moment!r}")
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _week_of(moment_utc: datetime, cal: BusinessCalendar) -> tuple[int, _Week]:
    """The Monday ordinal and the cached week holding `moment_utc` (ordinal 1 is a Monday).

    Guessed from the UTC date and corrected by one week at most, which avoids a time-zone
    conversion per call: a local date is never more than a day from the UTC date.
    """
    monday = moment_utc.toordinal() - moment_utc.weekday()
    week = _week(cal, monday)
    if moment_utc < week[0]:
        monday -= 7
        week = _week(cal, monday)
    elif moment_utc >= week[1]:
        monday += 7
        week = _week(cal, monday)
    return monday, week


def _utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=8192)
def _week(cal: BusinessCalendar, monday: int) -> _Week:
    """The working spans of one local week in UTC, sorted, disjoint, touching ones merged."""
    zone = cal._zone
    first = date.fromordinal(monday)
    week_lo = _utc(first, MIDNIGHT, zone)
    week_hi = _utc(first + timedelta(days=7), MIDNIGHT, zone)
    spans: list[list[datetime]] = []
    day_lo = week_lo
    for offset in range(7):
        day = first + timedelta(days=offset)
        day_hi = _utc(day + _ONE_DAY, MIDNIGHT, zone)
        intervals = cal.hours[offset]
        if intervals and day not in cal.holidays:
            day_spans: list[tuple[datetime, datetime]] = []
            for open_, close in intervals:
                # Clamp to the day: with fold=0 a time in a spring gap can map past the gap.
                s = max(_utc(day, open_, zone), day_lo)
                e = day_hi if close == MIDNIGHT else min(_utc(day, close, zone), day_hi)
                if s < e:
                    day_spans.append((s, e))
            day_spans.sort()
            for s, e in day_spans:
                if spans and s <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], e)
                else:
                    spans.append([s, e])
        day_lo = day_hi
    merged = tuple((s, e) for s, e in spans)
    total = sum((e - s for s, e in merged), _ZERO)
    return week_lo, week_hi, merged, total, tuple(e for _s, e in merged)


def _minutes(value: float, spec: object) -> timedelta:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"duration {spec!r} must be a finite, non-negative number of minutes")
    try:
        return timedelta(minutes=value)
    except OverflowError as exc:
        raise ValueError(f"duration {spec!r} is too long") from exc


def _parse_iso(text: str, spec: str) -> timedelta:
    match = _ISO.fullmatch(text)
    if match is None:
        if _ISO_YEARS_MONTHS.match(text):
            raise ValueError(
                f"ISO duration {spec!r} has years or months, which have no fixed length; "
                "use weeks, days (P3D), hours (PT4H), minutes or seconds"
            )
        raise ValueError(f"bad ISO 8601 duration {spec!r}: expected e.g. PT4H, P1DT4H, PT30M")
    weeks, days, hours, minutes, seconds = (
        float(g.replace(",", ".")) if g else 0.0 for g in match.groups()
    )
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


def _parse_units(text: str, spec: str) -> timedelta:
    amounts: dict[str, float] = {}
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(
                f"bad duration {spec!r} at {text[pos:]!r}: expected e.g. '4h', '30m', '1h30m', "
                "'1d 4h', '90s' or 'PT4H'"
            )
        number, unit = match.groups()
        name = _UNITS.get(unit)
        if name is None:
            raise ValueError(f"bad duration {spec!r}: unknown unit {unit!r} (use w, d, h, m or s)")
        if name in amounts:
            raise ValueError(f"bad duration {spec!r}: {name} given twice")
        amounts[name] = float(number)
        pos = match.end()
    return timedelta(**amounts)
