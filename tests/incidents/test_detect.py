"""Spike detection on synthetic hourly counts: quiet on normal variation, fast on bursts.

Dates are in 2026: Monday 5 January is the first day of every stream below unless told;
Europe/Berlin moves to summer time on Sunday 29 March.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from amends.incidents.detect import (
    Spike,
    SpikeConfig,
    count_range,
    detect,
    expected_count,
    poisson_tail,
    should_alert,
)

H = timedelta(hours=1)
WEEK = timedelta(weeks=1)
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
CONFIG = SpikeConfig()
Rows = list[tuple[datetime, int]]


def stream(rate: Callable[[datetime], float], *, weeks: int, seed: int) -> Rows:
    """Poisson counts per hour for `weeks` weeks from START; empty hours left out."""
    rng = np.random.default_rng(seed)
    rows: Rows = []
    for i in range(weeks * 168):
        hour = START + i * H
        n = int(rng.poisson(rate(hour)))
        if n:
            rows.append((hour, n))
    return rows


def upto(rows: Rows, now: datetime) -> Rows:
    """What the database would return at `now`: the hours started by then, the current one
    holding only the items received so far (each item's minute drawn from a seeded RNG)."""
    out: Rows = []
    for hour, n in rows:
        if hour + H <= now:
            out.append((hour, n))
        elif hour <= now:
            rng = np.random.default_rng(int(hour.timestamp()))
            seen = int((rng.random(n) < (now - hour) / H).sum())
            if seen:
                out.append((hour, seen))
    return out


def scan(
    counts: dict[str, Rows],
    *,
    first: datetime,
    last: datetime,
    step: timedelta = H,
    config: SpikeConfig = CONFIG,
) -> list[Spike]:
    """Every spike of runs every `step` from `first` to `last`."""
    found: list[Spike] = []
    now = first
    while now <= last:
        found += detect({k: upto(r, now) for k, r in counts.items()}, now=now, config=config)
        now += step
    return found


def busy_mondays(hour: datetime, *, zone: ZoneInfo | None = None) -> float:
    """Weekdays 9-17 busy, Monday morning three times busier, nights and weekends quiet."""
    local = hour.astimezone(zone) if zone else hour
    if local.weekday() >= 5:
        return 0.5
    if local.weekday() == 0 and 9 <= local.hour < 12:
        return 24.0
    if 9 <= local.hour < 17:
        return 8.0
    return 0.3


def test_flat_poisson_streams_raise_nothing_over_many_windows() -> None:
    counts = {
        f"category:k{rate}": stream(lambda _h, r=rate: r, weeks=5, seed=i)
        for i, rate in enumerate((0.1, 0.5, 2.0, 6.0, 25.0))
    }
    # A week of runs every 40 minutes, each with four full weeks of history before it.
    spikes = scan(
        counts,
        first=START + 4 * WEEK,
        last=START + 5 * WEEK - H,
        step=timedelta(minutes=40),
    )
    assert spikes == []


def test_daily_and_weekly_cycle_raises_nothing_at_its_usual_peaks() -> None:
    counts = {"category:billing": stream(busy_mondays, weeks=6, seed=7)}
    spikes = scan(counts, first=START + 4 * WEEK, last=START + 6 * WEEK - H)
    assert spikes == []
    # The Monday-morning peak is expected: about 24 an hour, not the weekly average.
    monday_ten = START + 4 * WEEK + 10 * H
    expected = expected_count(
        upto(counts["category:billing"], monday_ten),
        start=monday_ten,
        end=monday_ten + H,
        config=CONFIG,
    )
    assert 15 < expected < 30


@pytest.mark.parametrize(
    ("tz", "spread", "quiet"),
    [
        ("Europe/Berlin", 0, True),  # the desk's zone: the cycle does not move
        ("UTC", 1, True),  # seen in UTC it moves an hour, which the neighbours cover
        ("UTC", 0, False),  # without them, the opening hour looks like a spike
    ],
)
def test_local_cycle_across_daylight_saving(tz: str, spread: int, quiet: bool) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 2, tzinfo=berlin)  # four weeks before the change, one after
    rng = np.random.default_rng(3)
    rows: Rows = []
    for i in range(5 * 168):
        hour = start.astimezone(UTC) + i * H
        n = int(rng.poisson(busy_mondays(hour, zone=berlin)))
        if n:
            rows.append((hour, n))
    config = SpikeConfig(tz=tz, spread=spread)
    first = start.astimezone(UTC) + 4 * WEEK
    spikes = scan({"label:Late delivery": rows}, first=first, last=first + WEEK - H, config=config)
    assert (spikes == []) is quiet


def test_burst_of_twenty_on_a_quiet_key_fires_with_a_readable_reason() -> None:
    burst_hour = START + 4 * WEEK + 3 * 24 * H + 14 * H  # Thursday 14:00
    quiet = [r for r in stream(lambda _h: 0.2, weeks=4, seed=11) if r[0] < burst_hour]
    busy = stream(lambda _h: 2.0, weeks=5, seed=12)

    # At 14:40 the current window (14:00 to 14:40) holds the twenty.
    now = burst_hour + timedelta(minutes=40)
    counts = {"category:billing": [*quiet, (burst_hour, 20)], "category:delivery": upto(busy, now)}
    spikes = detect(counts, now=now, config=CONFIG)
    assert [s.key for s in spikes] == ["category:billing"]
    spike = spikes[0]
    assert (spike.window_start, spike.window_end, spike.observed) == (burst_hour, now, 20)
    assert spike.p_value < 1e-10
    assert spike.ratio == pytest.approx(20 / spike.expected)
    assert spike.reason.startswith("20 complaints in the last 40 minutes about billing, ")
    assert spike.reason.endswith(" expected at this hour")

    # At 15:10 the hour it fell in is the last complete window.
    later = burst_hour + timedelta(minutes=70)
    counts["category:delivery"] = upto(busy, later)
    spike = detect(counts, now=later, config=CONFIG)[0]
    assert (spike.window_start, spike.window_end) == (burst_hour, burst_hour + H)
    assert spike.reason.startswith("20 complaints in the hour to 15:00 UTC about billing, ")


def test_burst_is_seen_in_a_full_window_by_the_first_run_after_the_hour() -> None:
    # Runs at :00 test the hour just ended, whatever the run before it saw.
    rows = [*stream(lambda _h: 0.2, weeks=4, seed=5), (START + 4 * WEEK, 6)]
    now = START + 4 * WEEK + H
    (spike,) = detect({"channel:email": rows}, now=now, config=CONFIG)
    assert spike.window_end == now
    assert spike.reason.startswith("6 complaints in the last hour on email, ")


def test_burst_building_up_over_hours_does_not_raise_its_own_baseline() -> None:
    quiet = stream(lambda _h: 0.1, weeks=4, seed=6)
    begins = START + 4 * WEEK + 10 * H
    rows = [*quiet, (begins, 3), (begins + H, 4), (begins + 2 * H, 4), (begins + 3 * H, 6)]
    now = begins + 4 * H
    (spike,) = detect({"category:login": rows}, now=now, config=CONFIG)
    assert spike.observed == 6
    assert spike.expected < 0.3
    # Without the guard the same three hours feed the level and the hour next to the window.
    unguarded = SpikeConfig(guard=timedelta(0))
    assert expected_count(rows, start=now - H, end=now, config=unguarded) > 2 * spike.expected


def test_slow_doubling_over_weeks_does_not_fire() -> None:
    def growing(base: float) -> Callable[[datetime], float]:
        def rate(hour: datetime) -> float:
            weeks = (hour - START) / WEEK
            return base * 2 ** (weeks / 4) * busy_mondays(hour) / 8

        return rate

    counts = {f"label:g{b}": stream(growing(b), weeks=7, seed=int(b)) for b in (1.0, 4.0, 16.0)}
    assert scan(counts, first=START + 5 * WEEK, last=START + 7 * WEEK - H) == []


def test_a_key_that_doubled_last_week_is_measured_at_its_new_level() -> None:
    rows = stream(lambda h: 1.0 if h < START + 3 * WEEK else 2.0, weeks=4, seed=9)
    now = START + 4 * WEEK
    expected = expected_count(upto(rows, now), start=now, end=now + H, config=CONFIG)
    # Four weeks' average would be 1.25; the last week says 2.
    assert 1.7 < expected < 2.4
    stays = SpikeConfig(recent=timedelta(weeks=4))
    assert expected_count(rows, start=now, end=now + H, config=stays) < 1.5


def test_brand_new_key_fires_only_from_min_count() -> None:
    now = START + 4 * WEEK + 10 * H + timedelta(minutes=30)
    hour = START + 4 * WEEK + 10 * H
    assert detect({"topic:17": [(hour, 4)]}, now=now, config=CONFIG) == []
    (spike,) = detect(
        {"topic:17": [(hour, 5)]}, now=now, config=CONFIG, names={"topic:17": "late deliveries"}
    )
    assert spike.expected == pytest.approx(CONFIG.floor_rate / 2)
    assert spike.reason == (
        "5 complaints in the last 30 minutes about late deliveries, "
        "none in the previous 4 weeks (0.025 expected)"
    )


def test_sparse_key_needs_min_count_not_just_a_small_tail() -> None:
    now = START + 4 * WEEK + 15 * H
    rows = [(START + 2 * 24 * H + 9 * H, 1), (START + 9 * 24 * H + 11 * H, 1), (now - H, 3)]
    assert detect({"category:refunds": rows}, now=now, config=CONFIG) == []
    (spike,) = detect({"category:refunds": rows}, now=now, config=SpikeConfig(min_count=3))
    assert spike.observed == 3


def test_since_keeps_a_young_desk_from_weeks_of_zeros() -> None:
    began = START + 4 * WEEK - 2 * 24 * H
    rows = [r for r in stream(lambda _h: 4.0, weeks=4, seed=2) if r[0] >= began]
    now = START + 4 * WEEK + H
    young = expected_count(rows, start=now - H, end=now, config=CONFIG, since=began)
    assert 3 < young < 5
    # Read as four weeks, mostly empty, the same rows look like a quieter key.
    assert expected_count(rows, start=now - H, end=now, config=CONFIG) < young / 2
    assert detect({"channel:x": rows}, now=now, config=CONFIG, since=began) == []


def test_partial_current_hour_is_prorated() -> None:
    rows = stream(lambda _h: 6.0, weeks=4, seed=4)
    hour = START + 4 * WEEK
    full = expected_count(rows, start=hour, end=hour + H, config=CONFIG)
    third = expected_count(rows, start=hour, end=hour + timedelta(minutes=20), config=CONFIG)
    assert third == pytest.approx(full / 3)


def test_count_range_covers_both_windows_and_their_history() -> None:
    now = datetime(2026, 2, 2, 10, 20, tzinfo=UTC)
    # One window before the current hour, the guard of 6 hours, then four weeks of history.
    assert count_range(now, config=CONFIG) == (now.replace(minute=0) - 7 * H - 4 * WEEK, now)


@pytest.mark.parametrize(
    ("alerted", "allowed"),
    [
        ([], True),
        ([("category:billing", datetime(2026, 2, 2, 9, tzinfo=UTC))], False),
        ([("category:billing", datetime(2026, 2, 2, 10, 5, tzinfo=UTC))], False),  # after it
        ([("category:billing", datetime(2026, 2, 1, 21, tzinfo=UTC))], True),
        ([("category:delivery", datetime(2026, 2, 2, 9, tzinfo=UTC))], True),
    ],
)
def test_should_alert_suppresses_repeats_within_the_cooldown(
    alerted: list[tuple[str, datetime]], allowed: bool
) -> None:
    spike = Spike(
        key="category:billing",
        window_start=datetime(2026, 2, 2, 9, tzinfo=UTC),
        window_end=datetime(2026, 2, 2, 10, tzinfo=UTC),
        observed=20,
        expected=2.0,
        p_value=1e-9,
        ratio=10.0,
        reason="20 complaints in the hour to 10:00 UTC about billing, 2.0 expected at this hour",
    )
    assert should_alert(spike, alerted, cooldown=12 * H) is allowed


@pytest.mark.parametrize(
    ("k", "mu"),
    [(0, 2.0), (1, 0.5), (3, 0.05), (5, 0.025), (20, 3.1), (50, 10.0), (7, 9.0), (100, 120.0)],
)
def test_poisson_tail_matches_scipy(k: int, mu: float) -> None:
    special = pytest.importorskip("scipy.special")
    # P(X >= k) is the regularised lower incomplete gamma function P(k, mu).
    reference = float(special.gammainc(k, mu)) if k else 1.0
    assert math.isclose(poisson_tail(k, mu), reference, rel_tol=1e-9, abs_tol=1e-300)


@pytest.mark.parametrize(
    "changes",
    [
        {"window": timedelta(minutes=30)},
        {"recent": timedelta(weeks=5)},
        {"min_count": 0},
        {"min_ratio": 0.5},
        {"alpha": 0.0},
        {"floor_rate": 0.0},
        {"spread": -1},
        {"tz": "Mars/Olympus"},
    ],
)
def test_config_refuses_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(changes)) if "tz" not in changes else "zone"):
        SpikeConfig(**changes)  # type: ignore[arg-type]


def test_naive_datetimes_and_unaligned_hours_are_refused() -> None:
    now = datetime(2026, 2, 2, 10)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        detect({}, now=now, config=CONFIG)
    aware = now.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="whole UTC hour"):
        detect({"channel:x": [(aware - timedelta(minutes=30), 1)]}, now=aware, config=CONFIG)
