"""Spike detection: many customers hit by the same thing, against an hour-of-week baseline.

Pure: no IO and no database. The caller counts incoming feedback per key and per hour and
passes the counts; `detect` says which keys have an unusual number of items right now.

The input, for `detect` (and, one key's rows, for `expected_count`)::

    counts: Mapping[str, Sequence[tuple[datetime, int]]]
    {"category:billing": [(datetime(2026, 3, 2, 9, tzinfo=UTC), 4), ...], "label:...": [...]}

* A key is any string; ``"kind:value"`` (``category:billing``, ``label:Late delivery``,
  ``topic:17``, ``channel:x``) is written into the reason as "about billing", "on x".
* Each row is ``(hour_start, count)``: an aware datetime on a whole UTC hour and the number of
  items of that key received in ``[hour_start, hour_start + 1 h)``. This is what
  ``SELECT key, date_trunc('hour', received_at), count(*) ... GROUP BY 1, 2`` gives
  (``strftime('%Y-%m-%d %H:00:00', ...)``, read as UTC, on SQLite). Count distinct customers
  rather than messages where one customer can write many times, so one chatty customer is not
  a spike.
* Hours with no items are left out; rows may come in any order; rows for the same hour add up.
* The rows needed are those with ``hour_start`` in the range `count_range` returns: from
  ``window + guard + history`` before the current hour up to ``now``. The current
  hour's row counts the items received so far. Rows outside that range are ignored, so the
  caller may fetch more. A key with no rows at all needs no entry: it cannot reach ``min_count``.

Windows. Counts are hourly, so a window is ``config.window`` of whole hours. Each run tests two
windows per key: the *current* one, which ends with the hour that holds ``now`` and counts that
hour only up to ``now`` (its expected count is prorated), so a burst is seen minutes after it
starts; and the *last complete* one, which ends at the start of the current hour, so the items
received between the previous run and the top of the hour are always tested in a full window.
A key fires once per run, for the window with the smaller p-value.

Baseline. Each window's expected count comes from the key's own history before that window:
``config.history`` (4 weeks by default) ending ``config.guard`` (6 hours) before the window, so
a burst that builds up over a few hours does not raise its own expectation.

1. a flat rate, the history's items per hour;
2. an hour-of-day rate, weekdays and weekend apart, pulled toward the flat rate;
3. an hour-of-week rate (the same hour of the week in past weeks: busy Monday mornings), pulled
   toward the hour-of-day rate. Both pulls are empirical Bayes (see `_shrink`): as far as the
   key's own counts say its hours really differ, so a sparse or flat key borrows from the level
   above instead of trusting four single hours, and a strong cycle keeps its peaks;
4. times a level factor, the items of the last ``config.recent`` over what step 3 expected for
   them (both plus `_LEVEL_PRIOR_ITEMS`), so a key that doubled last week is measured against
   its new level rather than flagged every hour;
5. the highest of the hour and its ``config.spread`` neighbours on either side, so a cycle that
   moves by an hour (daylight saving time seen in UTC, a desk that opens early) is not a spike;
6. at least ``config.floor_rate`` per hour, so a key with no history (new, or quiet for the
   whole history) has a finite expectation and fires only at ``config.min_count``.

A window fires when all three hold: at least ``min_count`` items, at least ``min_ratio`` times
the expected count, and a Poisson upper tail ``P(X >= observed | expected)`` of at most
``alpha``. The Poisson test decides for quiet keys; for busy keys, where real counts vary more
than Poisson's, ``min_ratio`` decides.

Hours of the week are those of ``config.tz`` (UTC by default); every datetime must be aware.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Spike",
    "SpikeConfig",
    "count_range",
    "detect",
    "expected_count",
    "poisson_tail",
    "should_alert",
]

HOUR = timedelta(hours=1)
_HOUR_S = 3600
_DAY_S = 86_400
_WEEK_HOURS = 168
# Pseudo-items behind the recent level factor: a key with a handful of items last week keeps
# its long-run level; a busy key's level follows last week's volume.
_LEVEL_PRIOR_ITEMS = 10.0

Rows = Sequence[tuple[datetime, int]]
"""One key's ``(hour_start, count)`` rows: whole UTC hours, aware; hours with none left out."""

_IntArray = NDArray[np.int64]
_FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SpikeConfig:
    """When a key's count is a spike. Hashable, validated; invalid values raise `ValueError`."""

    # Length of the windows tested, a whole number of hours.
    window: timedelta = HOUR
    # How far back the baseline looks, a whole number of hours; whole weeks give every hour of
    # the week the same number of past observations.
    history: timedelta = timedelta(weeks=4)
    # The span whose volume sets the key's current level (step 4), whole hours, within history.
    recent: timedelta = timedelta(weeks=1)
    # Hours just before a window that its baseline leaves out, so a burst building up over a few
    # hours does not raise its own expectation; whole hours, may be zero.
    guard: timedelta = timedelta(hours=6)
    # Fewest items in a window that can fire, whatever the baseline.
    min_count: int = 5
    # Observed must be at least this many times the expected count.
    min_ratio: float = 3.0
    # Largest Poisson upper-tail probability that fires.
    alpha: float = 1e-4
    # Lowest expected items per hour for any key and hour (a new key: about one a day).
    floor_rate: float = 0.05
    # Hours on either side whose rate an hour takes when higher (0: the hour alone).
    spread: int = 1
    # IANA time zone whose hours of the week the baseline follows.
    tz: str = "UTC"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("window", "history", "recent", "guard"):
            value = getattr(self, name)
            least = timedelta(0) if name == "guard" else HOUR
            if not isinstance(value, timedelta) or value < least or value % HOUR:
                raise ValueError(f"{name} must be a whole number of hours, got {value!r}")
        if self.recent > self.history:
            raise ValueError(f"recent ({self.recent}) must not exceed history ({self.history})")
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int):
            raise ValueError(f"min_count must be an integer, got {self.min_count!r}")
        if self.min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {self.min_count}")
        if not self.min_ratio >= 1:
            raise ValueError(f"min_ratio must be at least 1, got {self.min_ratio}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1, got {self.alpha}")
        if not 0 < self.floor_rate < math.inf:
            raise ValueError(f"floor_rate must be positive, got {self.floor_rate}")
        if isinstance(self.spread, bool) or not isinstance(self.spread, int):
            raise ValueError(f"spread must be an integer, got {self.spread!r}")
        if not 0 <= self.spread < 12:
            raise ValueError(f"spread must be between 0 and 11 hours, got {self.spread}")
        if not isinstance(self.tz, str) or not self.tz:
            raise ValueError(f"tz must be an IANA name such as 'Europe/London', got {self.tz!r}")
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        object.__setattr__(self, "_zone", zone)

    @property
    def window_hours(self) -> int:
        return self.window // HOUR

    @property
    def history_hours(self) -> int:
        return self.history // HOUR

    @property
    def reach_hours(self) -> int:
        """How far the baseline of a window reaches back from its start: guard plus history."""
        return (self.guard + self.history) // HOUR


@dataclass(frozen=True)
class Spike:
    """One key with unusually many items in one window."""

    key: str
    window_start: datetime  # UTC, on a whole hour
    window_end: datetime  # UTC: ``now`` for the current window, else a whole hour
    observed: int
    expected: float
    p_value: float  # Poisson P(X >= observed | expected)
    ratio: float  # observed / expected
    reason: str  # "23 complaints in the last hour about billing, 3.1 expected at this hour"


def count_range(now: datetime, *, config: SpikeConfig) -> tuple[datetime, datetime]:
    """The UTC ``[start, now]`` whose hourly rows `detect` reads at aware `now`."""
    current = math.floor(_timestamp(now, "now") / _HOUR_S)
    start = current - config.window_hours - config.reach_hours
    return _at(start), now.astimezone(UTC)


def detect(
    counts: Mapping[str, Rows],
    *,
    now: datetime,
    config: SpikeConfig,
    since: datetime | None = None,
    names: Mapping[str, str] | None = None,
) -> list[Spike]:
    """The keys that spike at aware `now`, most significant first (input: see the module doc).

    `since` is when counting began (the desk's first feedback, or when a taxonomy label was
    created): hours before it are unknown rather than empty, so a young desk is not measured
    against weeks of zeros. `names` gives a readable subject for a key in the reason
    (``{"topic:17": "late deliveries"}``). Rows that are not aware whole UTC hours, or negative
    counts, raise `ValueError`.
    """
    now_s = _timestamp(now, "now")
    since_hour = _since_hour(since)
    current = math.floor(now_s / _HOUR_S)
    elapsed = (now_s - current * _HOUR_S) / _HOUR_S
    w = config.window_hours
    # (first hour, end hour, fraction of its last hour elapsed, end moment, whether it ends now)
    windows = [(current - w, current, 1.0, _at(current), elapsed == 0)]
    if elapsed > 0:
        windows.append((current - w + 1, current + 1, elapsed, now.astimezone(UTC), True))
    week = _HoursOfWeek(current - w - config.reach_hours, current + 1, config._zone)
    spikes: list[Spike] = []
    for key, rows in counts.items():
        hours, items = _parse_rows(rows, key)
        best: Spike | None = None
        for first, end, last_fraction, end_at, ends_now in windows:
            observed = int(items[(hours >= first) & (hours < end)].sum())
            if observed < config.min_count:
                continue
            baseline = _Baseline.fit(
                hours, items, start=first, config=config, since_hour=since_hour, week=week
            )
            expected = baseline.expected(first, end, last_fraction)
            ratio = observed / expected
            if ratio < config.min_ratio:
                continue
            p_value = poisson_tail(observed, expected)
            if p_value > config.alpha or (best is not None and p_value >= best.p_value):
                continue
            start_at = _at(first)
            best = Spike(
                key=key,
                window_start=start_at,
                window_end=end_at,
                observed=observed,
                expected=expected,
                p_value=p_value,
                ratio=ratio,
                reason=_reason(
                    key,
                    (names or {}).get(key),
                    observed=observed,
                    expected=expected,
                    start=start_at,
                    end=end_at,
                    ends_now=ends_now,
                    history_items=baseline.items,
                    history_hours=baseline.hours,
                    guard_items=baseline.guard_items,
                    guard=config.guard,
                    zone=config._zone,
                ),
            )
        if best is not None:
            spikes.append(best)
    spikes.sort(key=lambda s: (s.p_value, -s.ratio, s.key))
    return spikes


def expected_count(
    rows: Rows,
    *,
    start: datetime,
    end: datetime,
    config: SpikeConfig,
    since: datetime | None = None,
) -> float:
    """Items one key is expected to receive in ``[start, end)``, from its rows before `start`.

    `start` is a whole UTC hour, `end` any later moment (a partial last hour is prorated); the
    baseline reads the rows of the ``config.history`` that ends ``config.guard`` before `start`
    (and after `since`). This is the expected count `detect` tests a window against.
    """
    start_s = _timestamp(start, "start")
    end_s = _timestamp(end, "end")
    if start_s % _HOUR_S:
        raise ValueError(f"start must be a whole UTC hour, got {start}")
    if end_s <= start_s:
        raise ValueError(f"end ({end}) must be after start ({start})")
    first = int(start_s // _HOUR_S)
    end_hour = math.ceil(end_s / _HOUR_S)
    last_fraction = (end_s - (end_hour - 1) * _HOUR_S) / _HOUR_S
    week = _HoursOfWeek(first - config.reach_hours, end_hour, config._zone)
    hours, items = _parse_rows(rows, "rows")
    baseline = _Baseline.fit(
        hours, items, start=first, config=config, since_hour=_since_hour(since), week=week
    )
    return baseline.expected(first, end_hour, last_fraction)


def should_alert(
    spike: Spike, previous_alerts: Sequence[tuple[str, datetime]], *, cooldown: timedelta
) -> bool:
    """False when the same key was alerted within `cooldown` of the spike's window end.

    `previous_alerts` are ``(key, alerted_at)`` pairs (aware). An alert after the window end
    counts too (a later run that sees the same complete window). Keys with an open incident are
    the caller's to suppress.
    """
    if cooldown < timedelta(0):
        raise ValueError(f"cooldown must not be negative, got {cooldown}")
    for key, alerted_at in previous_alerts:
        if key != spike.key:
            continue
        _timestamp(alerted_at, "alerted_at")
        if abs(spike.window_end - alerted_at) < cooldown:
            return False
    return True


def poisson_tail(k: int, mu: float) -> float:
    """``P(X >= k)`` for ``X ~ Poisson(mu)``, accurate in the far tail (no ``1 - cdf`` there)."""
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    if k > mu:
        # pmf(k) * (1 + mu/(k+1) + mu^2/((k+1)(k+2)) + ...): terms shrink geometrically.
        log_pmf = k * math.log(mu) - mu - math.lgamma(k + 1)
        term = total = 1.0
        j = k
        while term > 1e-17 * total:
            j += 1
            term *= mu / j
            total += term
        return min(1.0, math.exp(log_pmf) * total)
    # Here the tail is large: 1 - P(X <= k-1), summed downward from pmf(k-1).
    log_pmf = (k - 1) * math.log(mu) - mu - math.lgamma(k)
    term = total = 1.0
    j = k - 1
    while j > 0 and term > 1e-17 * total:
        term *= j / mu
        j -= 1
        total += term
    return max(0.0, 1.0 - math.exp(log_pmf) * total)


# --- internals -------------------------------------------------------------------------------


def _timestamp(moment: datetime, name: str) -> float:
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment}")
    return moment.timestamp()


def _at(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * _HOUR_S, UTC)


def _since_hour(since: datetime | None) -> int | None:
    return None if since is None else math.ceil(_timestamp(since, "since") / _HOUR_S)


def _parse_rows(rows: Rows, key: str) -> tuple[_IntArray, _IntArray]:
    hours: list[int] = []
    items: list[int] = []
    for hour_start, count in rows:
        if hour_start.tzinfo is None or hour_start.utcoffset() is None:
            raise ValueError(f"{key!r}: hour {hour_start} must be timezone-aware")
        seconds = hour_start.timestamp()
        hour = int(seconds // _HOUR_S)
        if seconds != hour * _HOUR_S:
            raise ValueError(f"{key!r}: {hour_start} is not a whole UTC hour")
        try:
            n = operator.index(count)
        except TypeError:
            n = -1
        if n < 0 or isinstance(count, bool):
            raise ValueError(f"{key!r}: count at {hour_start} must be a whole number >= 0")
        hours.append(hour)
        items.append(n)
    return np.array(hours, dtype=np.int64), np.array(items, dtype=np.int64)


class _HoursOfWeek:
    """Hour of the week (Monday 00:00 = 0 .. 167) in one zone for each UTC hour in [lo, hi)."""

    def __init__(self, lo: int, hi: int, zone: ZoneInfo) -> None:
        self.lo = lo
        hours = np.arange(lo, hi, dtype=np.int64)
        offsets = _offsets(lo, hi, zone)
        local = hours * _HOUR_S + offsets
        # 1970-01-01 was a Thursday (weekday 3); numpy's // and % floor like Python's.
        self.of = ((local // _DAY_S + 3) % 7) * 24 + (local % _DAY_S) // _HOUR_S
        self._tallies: dict[tuple[int, int], _IntArray] = {}

    def tally(self, lo: int, hi: int) -> _IntArray:
        """How many hours of [lo, hi) fall on each hour of the week (shared by all keys)."""
        found = self._tallies.get((lo, hi))
        if found is None:
            found = np.bincount(self.of[lo - self.lo : hi - self.lo], minlength=_WEEK_HOURS)
            self._tallies[(lo, hi)] = found
        return found


def _offsets(lo: int, hi: int, zone: ZoneInfo) -> int | _IntArray:
    def offset(hour: int) -> int:
        delta = datetime.fromtimestamp(hour * _HOUR_S, zone).utcoffset()
        return 0 if delta is None else int(delta.total_seconds())

    # Offsets change a few times a year at most: sample once a day and go hour by hour only
    # when the range holds a change.
    samples = {offset(h) for h in [*range(lo, hi, 24), hi - 1]}
    if len(samples) == 1:
        return samples.pop()
    return np.array([offset(h) for h in range(lo, hi)], dtype=np.int64)


# Hour of the week -> one of 48 groups: the hour of the day on weekdays (0-23) or at the
# weekend (24-47). As a 48 x 168 0/1 matrix, so sums by group are one product.
_GROUP_OF = np.array([(24 if h >= 120 else 0) + h % 24 for h in range(_WEEK_HOURS)])
_GROUPS = (np.arange(48)[:, None] == _GROUP_OF[None, :]).astype(np.float64)


def _shrink(items: _FloatArray, hours: _FloatArray, prior: _FloatArray) -> _FloatArray:
    """Rates per cell, each pulled toward its `prior` rate as far as the data warrant.

    Gamma-Poisson empirical Bayes: the true rates are taken to vary around the prior by a
    relative variance ``v``, estimated by moments from how far the cells stray beyond Poisson
    noise. A cell then weighs its own ``items`` against ``1/v`` pseudo-items at the prior rate:
    no spread beyond noise (a flat key) gives the prior everywhere, a strong cycle gives each
    cell its own rate, and a cell never observed (short history) keeps the prior.

    One ``v`` for all cells under-trusts the few that differ most (busy Monday mornings among
    168 hours), so no cell is put more than one standard error below its own mean.
    """
    mean = hours * prior
    excess = float(((items - mean) ** 2 - mean).sum())
    scale = float((mean**2).sum())
    if excess <= 0 or scale <= 0:
        shrunk = prior
    else:
        strength = scale / excess  # 1/v, in items
        shrunk = (items + strength) / (hours + strength / np.maximum(prior, 1e-12))
    seen = np.maximum(hours, 1.0)
    own = items / seen
    return np.maximum(shrunk, np.where(hours > 0, own - np.sqrt(own / seen), 0.0))


@dataclass(frozen=True)
class _Baseline:
    rate: _FloatArray  # expected items per hour, by hour of the week
    items: int  # items in the history read
    hours: int  # hours of history read
    guard_items: int  # items in the guard hours between the history and the window
    week: _HoursOfWeek

    @classmethod
    def fit(
        cls,
        hours: _IntArray,
        items: _IntArray,
        *,
        start: int,
        config: SpikeConfig,
        since_hour: int | None,
        week: _HoursOfWeek,
    ) -> _Baseline:
        end = start - config.guard // HOUR
        lo = end - config.history_hours
        if since_hour is not None:
            lo = min(end, max(lo, since_hour))
        span = end - lo
        mask = (hours >= lo) & (hours < end)
        h, c = hours[mask], items[mask].astype(np.float64)
        total = float(c.sum())
        floor = np.full(_WEEK_HOURS, config.floor_rate)
        guard_items = int(items[(hours >= end) & (hours < start)].sum())
        if total == 0:
            return cls(rate=floor, items=0, hours=span, guard_items=guard_items, week=week)
        by_week = np.bincount(week.of[h - week.lo], weights=c, minlength=_WEEK_HOURS).astype(
            np.float64
        )
        seen_week = week.tally(lo, end).astype(np.float64)
        # Hour of the day, weekdays and weekend apart (48 groups), shrunk toward the flat rate;
        # then each hour of the week shrunk toward its group.
        by_group = _GROUPS @ by_week
        seen_group = _GROUPS @ seen_week
        flat = np.full(len(by_group), total / span)
        group = _shrink(by_group, seen_group, flat)
        seasonal = _shrink(by_week, seen_week, group @ _GROUPS)
        recent_lo = max(lo, end - config.recent // HOUR)
        recent_items = float(c[h >= recent_lo].sum())
        recent_expected = float(week.tally(recent_lo, end) @ seasonal)
        level = (recent_items + _LEVEL_PRIOR_ITEMS) / (recent_expected + _LEVEL_PRIOR_ITEMS)
        rate = seasonal
        for shift in range(1, config.spread + 1):
            # The week wraps: Sunday 23:00 neighbours Monday 00:00.
            rate = np.maximum(rate, np.maximum(np.roll(seasonal, shift), np.roll(seasonal, -shift)))
        return cls(
            rate=np.maximum(level * rate, floor),
            items=int(total),
            hours=span,
            guard_items=guard_items,
            week=week,
        )

    def expected(self, first: int, end: int, last_fraction: float) -> float:
        """Expected items in hours [first, end), the last one counted by `last_fraction`."""
        rates = self.rate[self.week.of[first - self.week.lo : end - self.week.lo]]
        return float(rates[:-1].sum() + rates[-1] * last_fraction)


_KIND_WORDS = {"channel": "on", "company": "about", "brand": "about"}


def _reason(
    key: str,
    name: str | None,
    *,
    observed: int,
    expected: float,
    start: datetime,
    end: datetime,
    ends_now: bool,
    history_items: int,
    history_hours: int,
    guard_items: int,
    guard: timedelta,
    zone: ZoneInfo,
) -> str:
    kind, sep, value = key.partition(":")
    if name:
        subject = f"about {name}"
    elif not sep:
        subject = f"about {key}"
    elif kind == "topic":
        subject = f"about topic {value}"
    else:
        subject = f"{_KIND_WORDS.get(kind, 'about')} {value}"
    span = _span_text(end - start)
    when = (
        f"in the last {span}"
        if ends_now
        else f"in the {span} to {end.astimezone(zone):%H:%M} {_zone_name(end, zone)}"
    )
    noun = "complaint" if observed == 1 else "complaints"
    if history_items == 0:
        history = _span_text(timedelta(hours=history_hours))
        if not history_hours:
            before = "no history yet"
        elif guard_items:
            before = f"{guard_items} in the {_span_text(guard)} before and none in the {history}"
            before += " before that"
        else:
            before = f"none in the previous {history}"
        return f"{observed} {noun} {when} {subject}, {before} ({_number(expected)} expected)"
    at = "at this hour" if end - start <= HOUR else "at these hours"
    return f"{observed} {noun} {when} {subject}, {_number(expected)} expected {at}"


def _zone_name(moment: datetime, zone: ZoneInfo) -> str:
    name = moment.astimezone(zone).tzname()
    return name or zone.key


def _span_text(span: timedelta) -> str:
    minutes = max(1, round(span.total_seconds() / 60))
    weeks, rest = divmod(minutes, 7 * 24 * 60)
    if weeks and not rest:
        return "week" if weeks == 1 else f"{weeks} weeks"
    days, rest = divmod(minutes, 24 * 60)
    if days > 1 and not rest:
        return f"{days} days"
    hours, mins = divmod(minutes, 60)
    if not hours:
        return "minute" if mins == 1 else f"{mins} minutes"
    hour_text = "hour" if hours == 1 else f"{hours} hours"
    if not mins:
        return hour_text
    if hours == 1:
        hour_text = "1 hour"
    return f"{hour_text} {mins} minute" + ("" if mins == 1 else "s")


def _number(value: float) -> str:
    if value >= 9.95:
        return f"{value:.0f}"
    if value >= 0.95:
        return f"{value:.1f}"
    return f"{value:.2g}"
