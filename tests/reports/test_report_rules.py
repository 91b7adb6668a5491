"""The SLA report's arithmetic, as tables."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from amends.reports.rules import (
    CaseTimes,
    ClockTally,
    CsatSummary,
    NpsSummary,
    Outcome,
    SlaGroup,
    clock_outcome,
    csat,
    format_duration,
    nps,
    percent,
    percentile,
)

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
DUE = NOW - 2 * H


@pytest.mark.parametrize(
    ("due", "kept", "flagged", "ended", "paused", "expected"),
    [
        (None, None, False, None, None, None),  # no clock
        (None, NOW, True, None, None, None),  # no due time: not counted even if flagged
        (DUE, DUE - H, False, None, None, Outcome.MET),
        (DUE, DUE, False, None, None, Outcome.MET),  # kept exactly on time
        (DUE, DUE + H, False, None, None, Outcome.BREACHED),  # kept late
        (DUE, None, False, None, None, Outcome.BREACHED),  # still running past due
        (NOW + H, None, False, None, None, Outcome.RUNNING),
        (NOW, None, False, None, None, Outcome.RUNNING),  # due this very moment
        (DUE, DUE - H, True, None, None, Outcome.BREACHED),  # flagged wins over the times
        (NOW + H, None, True, None, None, Outcome.BREACHED),
        (DUE, None, False, DUE - H, None, Outcome.MET),  # the case ended in time
        (DUE, None, False, DUE + H, None, Outcome.BREACHED),  # ended late
        (DUE, None, False, None, DUE - H, Outcome.RUNNING),  # paused before due
        (DUE, None, False, None, DUE + H, Outcome.BREACHED),  # paused after due
    ],
)
def test_clock_outcome(
    due: datetime | None,
    kept: datetime | None,
    flagged: bool,
    ended: datetime | None,
    paused: datetime | None,
    expected: Outcome | None,
) -> None:
    got = clock_outcome(due, kept, now=NOW, flagged=flagged, ended_at=ended, paused_at=paused)
    assert got is expected


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], (0, 0, 0, None)),
        ([None, None], (0, 0, 0, None)),
        ([Outcome.RUNNING], (0, 0, 1, None)),  # nothing decided yet
        ([Outcome.MET, Outcome.MET, Outcome.BREACHED, Outcome.RUNNING], (2, 1, 1, 66.7)),
        ([Outcome.BREACHED], (0, 1, 0, 0.0)),
        ([Outcome.MET], (1, 0, 0, 100.0)),
    ],
)
def test_clock_tally(
    outcomes: list[Outcome | None], expected: tuple[int, int, int, float | None]
) -> None:
    tally = ClockTally()
    for outcome in outcomes:
        tally.add(outcome)
    assert (tally.met, tally.breached, tally.running, tally.attainment_pct) == expected


def test_group_counts_next_response_breaches_and_skips_clocks_without_due() -> None:
    group = SlaGroup("all")
    group.add(CaseTimes(opened_at=DUE), now=NOW)
    group.add(
        CaseTimes(
            opened_at=DUE - H,
            first_response_due=DUE,
            first_responded_at=DUE - H,
            breaches=frozenset({"next_response"}),
        ),
        now=NOW,
    )
    assert group.cases == 2
    assert (group.first_response.met, group.first_response.breached) == (1, 0)
    assert (group.resolution.met, group.resolution.breached, group.resolution.running) == (0, 0, 0)
    assert group.next_response_breached == 1


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 90, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 90, 3.7),  # rank 0.9 * 3 = 2.7: 3 + 0.7 * (4 - 3)
        ([float(v) for v in range(1, 11)], 90, 9.1),
        ([float(v) for v in range(1, 12)], 50, 6.0),
        ([5.0, 5.0, 5.0], 90, 5.0),
        ([100.0, 1.0], 50, 50.5),  # order does not matter
    ],
)
def test_percentile(values: list[float], p: int, expected: float | None) -> None:
    got = percentile(values, p)
    assert got == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize("p", [0, 100, -1])
def test_percentile_refuses_out_of_range(p: int) -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile([1.0, 2.0], p)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0, "0s"),
        (0.4, "0s"),
        (45, "45s"),
        (59.6, "1m"),
        (60, "1m"),
        (725, "12m 5s"),
        (3600, "1h"),
        (7500, "2h 5m"),
        (7529, "2h 5m"),  # two largest units only
        (86400, "1d"),
        (3 * 86400 + 4 * 3600 + 59, "3d 4h"),
        (86400 + 60, "1d"),  # 1d 0h 1m: the second unit is zero
        (-90, "-1m 30s"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(0, 0, None), (1, 3, 33.3), (2, 3, 66.7), (3, 3, 100.0), (0, 5, 0.0)],
)
def test_percent(part: int, whole: int, expected: float | None) -> None:
    assert percent(part, whole) == expected


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], CsatSummary(0, None, None)),
        ([5], CsatSummary(1, 5.0, 100.0)),
        ([5, 4, 3, 2, 1], CsatSummary(5, 3.0, 40.0)),
        ([4, 4, 1], CsatSummary(3, 3.0, 66.7)),
        ([5, 0, 6, 9], CsatSummary(1, 5.0, 100.0)),  # off the 1..5 scale: ignored
        ([3, 3, 4], CsatSummary(3, 3.33, 33.3)),
    ],
)
def test_csat(scores: list[int], expected: CsatSummary) -> None:
    assert csat(Counter(scores)) == expected


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], NpsSummary(0, 0, 0, 0, None)),
        ([10, 9], NpsSummary(2, 2, 0, 0, 100.0)),
        ([0, 6], NpsSummary(2, 0, 0, 2, -100.0)),
        ([7, 8], NpsSummary(2, 0, 2, 0, 0.0)),
        ([10, 9, 8, 6], NpsSummary(4, 2, 1, 1, 25.0)),
        ([10, 0, 7], NpsSummary(3, 1, 1, 1, 0.0)),
        ([9, 9, 6], NpsSummary(3, 2, 0, 1, 33.3)),
        ([11, -1, 10], NpsSummary(1, 1, 0, 0, 100.0)),  # off the 0..10 scale: ignored
    ],
)
def test_nps(scores: list[int], expected: NpsSummary) -> None:
    assert nps(Counter(scores)) == expected
