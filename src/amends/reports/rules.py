"""The arithmetic of the SLA report: clock outcomes, attainment, percentiles, CSAT and NPS. No IO.

Percentiles use `statistics.quantiles(..., method="inclusive")`: linear interpolation between
the closest ranks, the same as numpy's default (`"linear"`) and a spreadsheet's PERCENTILE.INC,
so the median of [1, 2, 3, 4] is 2.5 and every percentile lies within the observed values.
Durations are wall-clock seconds (opened to responded or resolved), not business hours.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from amends.sla.rules import format_approx as format_duration

FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"
RESOLUTION = "resolution"
PERCENTILE_METHOD = "linear interpolation between closest ranks (statistics.quantiles inclusive)"


class Outcome(StrEnum):
    MET = "met"
    BREACHED = "breached"
    RUNNING = "running"


def clock_outcome(
    due: datetime | None,
    kept_at: datetime | None,
    *,
    now: datetime,
    flagged: bool = False,
    ended_at: datetime | None = None,
    paused_at: datetime | None = None,
) -> Outcome | None:
    """How one SLA clock stands at `now`; None when the clock has no due time.

    `flagged` (the clock's name is in the case's breaches) always means breached: the desk saw
    it go past due, even if a pause later moved the due time. A clock not kept when its case
    ended (`ended_at`: resolved or closed) was fulfilled then, as solving a ticket fulfils every
    target in common helpdesks. A paused clock (`paused_at`: waiting on the customer) is judged
    as of the pause, since its due time moves on when it resumes.
    """
    if due is None:
        return None
    if flagged:
        return Outcome.BREACHED
    kept = kept_at or ended_at
    if kept is not None:
        return Outcome.MET if kept <= due else Outcome.BREACHED
    return Outcome.BREACHED if (paused_at or now) > due else Outcome.RUNNING


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, to one decimal; None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


@dataclass
class ClockTally:
    met: int = 0
    breached: int = 0
    running: int = 0

    def add(self, outcome: Outcome | None) -> None:
        if outcome is Outcome.MET:
            self.met += 1
        elif outcome is Outcome.BREACHED:
            self.breached += 1
        elif outcome is Outcome.RUNNING:
            self.running += 1

    @property
    def attainment_pct(self) -> float | None:
        """met / (met + breached): running clocks have not been decided yet."""
        return percent(self.met, self.met + self.breached)


@dataclass(frozen=True)
class CaseTimes:
    """The times of one case that the report reads; plain values, no ORM object."""

    opened_at: datetime
    first_response_due: datetime | None = None
    first_responded_at: datetime | None = None
    resolution_due: datetime | None = None
    resolved_at: datetime | None = None
    ended_at: datetime | None = None  # resolved or closed and not reopened since; else None
    paused_at: datetime | None = None
    breaches: frozenset[str] = frozenset()
    reopened_count: int = 0


@dataclass
class SlaGroup:
    """Attainment over a set of cases: all of them, or one team, priority or channel."""

    key: str
    cases: int = 0
    first_response: ClockTally = field(default_factory=ClockTally)
    resolution: ClockTally = field(default_factory=ClockTally)
    next_response_breached: int = 0  # cases with a next-response breach

    def add(self, case: CaseTimes, *, now: datetime) -> None:
        self.cases += 1
        self.first_response.add(
            clock_outcome(
                case.first_response_due,
                case.first_responded_at,
                now=now,
                flagged=FIRST_RESPONSE in case.breaches,
                ended_at=case.ended_at,
                paused_at=case.paused_at,
            )
        )
        self.resolution.add(
            clock_outcome(
                case.resolution_due,
                case.resolved_at,
                now=now,
                flagged=RESOLUTION in case.breaches,
                ended_at=case.ended_at,
                paused_at=case.paused_at,
            )
        )
        if NEXT_RESPONSE in case.breaches:
            self.next_response_breached += 1


def percentile(values: Sequence[float], p: int) -> float | None:
    """The `p`th percentile (1..99) by the module's method; None for no values."""
    if not 1 <= p <= 99:
        raise ValueError(f"percentile must be 1..99, not {p}")
    if not values:
        return None
    if len(values) == 1:  # statistics.quantiles needs two points on Python 3.11
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


@dataclass(frozen=True)
class DurationStats:
    count: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def median(self) -> str:
        return format_duration(self.median_seconds)

    @property
    def p90(self) -> str:
        return format_duration(self.p90_seconds)


def duration_stats(seconds: Sequence[float]) -> DurationStats:
    ordered = sorted(seconds)
    return DurationStats(len(ordered), percentile(ordered, 50), percentile(ordered, 90))


@dataclass(frozen=True)
class CsatSummary:
    answered: int
    mean: float | None  # 1 .. 5, to two decimals
    satisfied_pct: float | None  # share of 4 and 5 ("CSAT %")


def csat(scores: Mapping[int, int]) -> CsatSummary:
    """From a histogram {score: answers}; scores outside 1..5 are ignored."""
    valid = {s: n for s, n in scores.items() if 1 <= s <= 5 and n > 0}
    answered = sum(valid.values())
    if not answered:
        return CsatSummary(0, None, None)
    mean = round(sum(s * n for s, n in valid.items()) / answered, 2)
    satisfied = sum(n for s, n in valid.items() if s >= 4)
    return CsatSummary(answered, mean, percent(satisfied, answered))


@dataclass(frozen=True)
class NpsSummary:
    answered: int
    promoters: int  # 9 .. 10
    passives: int  # 7 .. 8
    detractors: int  # 0 .. 6
    score: float | None  # % promoters - % detractors, -100 .. 100, to one decimal


def nps(scores: Mapping[int, int]) -> NpsSummary:
    """From a histogram {score: answers}; scores outside 0..10 are ignored."""
    valid = {s: n for s, n in scores.items() if 0 <= s <= 10 and n > 0}
    answered = sum(valid.values())
    promoters = sum(n for s, n in valid.items() if s >= 9)
    detractors = sum(n for s, n in valid.items() if s <= 6)
    score = round(100 * (promoters - detractors) / answered, 1) if answered else None
    return NpsSummary(answered, promoters, answered - promoters - detractors, detractors, score)


UNASSIGNED = "unassigned"  # the team of cases that have none
NO_PRIORITY = "none"


@dataclass(frozen=True)
class CaseCounts:
    opened: int
    resolved: int  # resolved or closed, and not reopened since
    open: int


@dataclass(frozen=True)
class ReopenStats:
    resolved: int  # cases resolved at least once
    reopened: int  # of those, reopened at least once
    rate_pct: float | None


@dataclass(frozen=True)
class SurveyStats:
    sent: int
    answered: int
    response_rate_pct: float | None
    csat: CsatSummary
    nps: NpsSummary


@dataclass(frozen=True)
class SlaReport:
    since: datetime
    until: datetime  # exclusive
    now: datetime
    cases: CaseCounts
    first_response_time: DurationStats
    resolution_time: DurationStats
    sla: SlaGroup
    by_team: list[SlaGroup]
    by_priority: list[SlaGroup]
    by_channel: list[SlaGroup]
    reopen: ReopenStats
    surveys: SurveyStats
    time_basis: str = "wall-clock"
    percentile_method: str = PERCENTILE_METHOD


def _group_order(last: str) -> Callable[[SlaGroup], tuple[bool, str]]:
    return lambda g: (g.key == last, g.key.lower())


@dataclass
class SlaAccumulator:
    """Feed it the window's cases one at a time (so a large window streams), then `report()`."""

    now: datetime
    overall: SlaGroup = field(default_factory=lambda: SlaGroup("all"))
    teams: dict[str, SlaGroup] = field(default_factory=dict)
    priorities: dict[str, SlaGroup] = field(default_factory=dict)
    channels: dict[str, SlaGroup] = field(default_factory=dict)
    first_response_seconds: list[float] = field(default_factory=list)
    resolution_seconds: list[float] = field(default_factory=list)
    resolved: int = 0
    still_open: int = 0
    resolved_once: int = 0
    reopened: int = 0

    def add(
        self,
        case: CaseTimes,
        *,
        team: str | None,
        priority: str | None,
        channel: str,
        is_open: bool,
    ) -> None:
        self.overall.add(case, now=self.now)
        for groups, key in (
            (self.teams, team or UNASSIGNED),
            (self.priorities, priority or NO_PRIORITY),
            (self.channels, channel),
        ):
            groups.setdefault(key, SlaGroup(key)).add(case, now=self.now)
        if case.first_responded_at is not None:
            # A reply on record before the case opened (a merged case) was no wait at all.
            delta = case.first_responded_at - case.opened_at
            self.first_response_seconds.append(max(0.0, delta.total_seconds()))
        if case.resolved_at is not None:
            delta = case.resolved_at - case.opened_at
            self.resolution_seconds.append(max(0.0, delta.total_seconds()))
            self.resolved += 1
        self.still_open += is_open
        # A reopened case was resolved (or closed) before, whatever it is now.
        if case.resolved_at is not None or case.reopened_count > 0:
            self.resolved_once += 1
            self.reopened += case.reopened_count > 0

    def report(self, *, since: datetime, until: datetime, surveys: SurveyStats) -> SlaReport:
        return SlaReport(
            since=since,
            until=until,
            now=self.now,
            cases=CaseCounts(self.overall.cases, self.resolved, self.still_open),
            first_response_time=duration_stats(self.first_response_seconds),
            resolution_time=duration_stats(self.resolution_seconds),
            sla=self.overall,
            by_team=sorted(self.teams.values(), key=_group_order(UNASSIGNED)),
            by_priority=sorted(self.priorities.values(), key=_group_order(NO_PRIORITY)),
            by_channel=sorted(self.channels.values(), key=_group_order("")),
            reopen=ReopenStats(
                self.resolved_once, self.reopened, percent(self.reopened, self.resolved_once)
            ),
            surveys=surveys,
        )


def survey_stats(
    *, sent: int, answered: int, csat_scores: Mapping[int, int], nps_scores: Mapping[int, int]
) -> SurveyStats:
    return SurveyStats(sent, answered, percent(answered, sent), csat(csat_scores), nps(nps_scores))
