"""The web dashboard's figures: one value per day or week (UTC) over a window, for charts.

Volumes, sentiment, surveys, reopens, offers and checker findings are counted by the database
(GROUP BY a UTC day) and folded here into buckets that cover the whole window, zeros where
nothing happened. Medians need every value, so response and resolution times read one pair of
timestamps per case, and SLA attainment reads each clock's times to judge it with the same
rule as `report sla`. Reads only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES
from amends.db import as_utc, chunked, utc_truncated
from amends.errors import InvalidInput
from amends.feedback.models import Feedback
from amends.feedback.rules import Direction
from amends.followups.models import FollowUp
from amends.followups.service import verdict
from amends.offers.models import Offer
from amends.offers.rules import FIXES, SPENT, OfferStatus
from amends.replies.models import ReplyFinding
from amends.reports.rules import (
    FIRST_RESPONSE,
    RESOLUTION,
    ClockTally,
    clock_outcome,
    duration_stats,
    percent,
)
from amends.reports.service import CHUNK, report_window
from amends.teams.models import Agent

BucketSize = Literal["day", "week"]
_DAYS: Mapping[str, int] = {"day": 1, "week": 7}
# A chart of more points than this is unreadable, and the per-agent series grow with it.
MAX_BUCKETS = 400
UNCATEGORISED = "uncategorised"
ACCEPTED: frozenset[OfferStatus] = frozenset({OfferStatus.ACCEPTED, OfferStatus.REDEEMED})

DEFINITIONS: Mapping[str, str] = {
    "bucket": "a UTC day, or a week from Monday 00:00 UTC; the first and last buckets hold only "
    "the part of them inside [start, end)",
    "volume": "incoming feedback items (not automatic mail) received in the bucket, by channel "
    "and by the category the analysis gave them",
    "sentiment": "the mean analysis sentiment (-1 .. 1) of the bucket's incoming items that "
    "have one",
    "first_response": "cases first answered in the bucket: median and 90th percentile of the "
    "wall-clock hours from opening to that answer",
    "resolution": "cases resolved in the bucket (their latest resolution): median and 90th "
    "percentile of the wall-clock hours from opening",
    "sla": "first-response and resolution clocks due in the bucket, judged as of `now` as "
    "`report sla` judges them: met / (met + breached); running clocks are not counted",
    "recovery": "follow-up survey answers given in the bucket: the share that were good "
    "(CSAT 4-5, NPS 9-10)",
    "reopen": "cases opened in the bucket that were resolved at least once: the share that "
    "were reopened at least once",
    "compensation": "offers made to the customer in the bucket, by currency: the value of the "
    "signs of apology made, of those accepted or redeemed, their spend as `report offers` "
    "counts it (made, accepted or redeemed), and fixes (refunds, replacements) not refused or "
    "withdrawn",
    "coaching": "per agent, replies sent in the bucket, the checker's findings on them by "
    "rule, those sent over a blocking finding, and findings per reply",
    "teams": "with teams chosen, only the cases of those teams count, with their feedback, "
    "replies, findings, offers and surveys",
}


@dataclass(frozen=True)
class Series:
    """One line of a chart: a count per bucket."""

    key: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Volume:
    total: tuple[int, ...]
    by_channel: tuple[Series, ...]  # largest first
    by_category: tuple[Series, ...]  # largest first; "uncategorised" where analysis had none


@dataclass(frozen=True)
class Sentiment:
    scored: tuple[int, ...]  # items with a sentiment
    mean_score: tuple[float | None, ...]  # -1 .. 1, to three decimals


@dataclass(frozen=True)
class Durations:
    count: tuple[int, ...]
    median_hours: tuple[float | None, ...]  # to two decimals
    p90_hours: tuple[float | None, ...]


@dataclass(frozen=True)
class SlaAttainment:
    met: tuple[int, ...]
    breached: tuple[int, ...]
    running: tuple[int, ...]
    attainment_pct: tuple[float | None, ...]


@dataclass(frozen=True)
class Recovery:
    answered: tuple[int, ...]
    good: tuple[int, ...]
    rate_pct: tuple[float | None, ...]


@dataclass(frozen=True)
class Reopens:
    resolved: tuple[int, ...]
    reopened: tuple[int, ...]
    rate_pct: tuple[float | None, ...]


@dataclass(frozen=True)
class Compensation:
    currency: str
    offers_made: tuple[int, ...]
    made_amount: tuple[Decimal, ...]
    accepted_amount: tuple[Decimal, ...]
    spend: tuple[Decimal, ...]
    fixes_amount: tuple[Decimal, ...]


@dataclass(frozen=True)
class AgentCoaching:
    agent_id: int
    name: str
    email: str
    replies: tuple[int, ...]
    findings: tuple[int, ...]
    overridden: tuple[int, ...]  # findings that blocked and were sent over with a reason
    findings_per_reply: tuple[float | None, ...]  # to two decimals
    by_rule: tuple[Series, ...]  # largest first


@dataclass(frozen=True)
class Coaching:
    agents: tuple[AgentCoaching, ...]  # most findings first
    unattributed_findings: tuple[int, ...]  # on replies sent without a known agent


@dataclass(frozen=True)
class Dashboard:
    start: datetime
    end: datetime  # exclusive
    now: datetime  # SLA clocks are judged as of this moment
    bucket: BucketSize
    team_ids: tuple[int, ...] | None
    bucket_starts: tuple[datetime, ...]
    labels: tuple[str, ...]  # the ISO date each bucket starts on
    empty: bool  # no incoming feedback in the window
    volume: Volume
    sentiment: Sentiment
    first_response: Durations
    resolution: Durations
    sla: SlaAttainment
    recovery: Recovery
    reopen: Reopens
    compensation: tuple[Compensation, ...]  # one per currency, alphabetical
    coaching: Coaching
    definitions: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: datetimes in ISO 8601, amounts as decimal strings."""
        plain = _plain(self)
        assert isinstance(plain, dict)
        return plain


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class _Axis:
    """The buckets of a window; maps a moment to its bucket's index."""

    first: date
    days: int
    size: int

    def index(self, moment: str | datetime) -> int | None:
        i = (as_utc(moment).date() - self.first).days // self.days
        return i if 0 <= i < self.size else None

    def starts(self) -> tuple[datetime, ...]:
        return tuple(
            datetime.combine(self.first + timedelta(days=i * self.days), datetime.min.time(), UTC)
            for i in range(self.size)
        )

    def zeros(self) -> list[int]:
        return [0] * self.size


def _axis(start: datetime, end: datetime, bucket: str) -> _Axis:
    days = _DAYS.get(bucket)
    if days is None:
        raise InvalidInput(f'bucket must be "day" or "week", not {bucket!r}')
    first = start.astimezone(UTC).date()
    if days == 7:
        first -= timedelta(days=first.weekday())
    last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    size = (last - first).days // days + 1
    if size > MAX_BUCKETS:
        raise InvalidInput(
            f"the window holds {size} {bucket}s; at most {MAX_BUCKETS} fit on a chart"
        )
    return _Axis(first, days, size)


def dashboard(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    bucket: BucketSize = "day",
    team_ids: frozenset[int] | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """The dashboard over [start, end) (a naive bound is UTC), in day or week buckets; with
    `team_ids`, only the cases of those teams. SLA clocks are judged as of `now`, by default
    `end`: pass the present when the window reaches past it. Raises InvalidInput for an empty
    window, an unknown bucket size or too many buckets. Reads only."""
    start, end = report_window(start, end, now=end)
    as_of = end if now is None else as_utc(now)
    axis = _axis(start, end, bucket)
    teams = None if team_ids is None else tuple(sorted(team_ids))
    volume, sentiment = _volume(session, axis, start, end, teams)
    return Dashboard(
        start=start,
        end=end,
        now=as_of,
        bucket=bucket,
        team_ids=teams,
        bucket_starts=axis.starts(),
        labels=tuple(s.date().isoformat() for s in axis.starts()),
        empty=not any(volume.total),
        volume=volume,
        sentiment=sentiment,
        first_response=_durations(session, axis, start, end, teams, Case.first_responded_at),
        resolution=_durations(session, axis, start, end, teams, Case.resolved_at),
        sla=_sla(session, axis, start, end, teams, now=as_of),
        recovery=_recovery(session, axis, start, end, teams),
        reopen=_reopens(session, axis, start, end, teams),
        compensation=_compensation(session, axis, start, end, teams),
        coaching=_coaching(session, axis, start, end, teams),
        definitions=dict(DEFINITIONS),
    )


def window_durations(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    team_ids: frozenset[int] | None = None,
) -> tuple[Durations, Durations]:
    """First-response and resolution times over the whole of [start, end) as one bucket each,
    counted as `dashboard` counts them: a median needs every case, so the window's cannot be
    read off its buckets. Raises InvalidInput for an empty window. Reads only."""
    start, end = report_window(start, end, now=end)
    first = start.astimezone(UTC).date()
    last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    axis = _Axis(first, (last - first).days + 1, 1)
    teams = None if team_ids is None else tuple(sorted(team_ids))
    return (
        _durations(session, axis, start, end, teams, Case.first_responded_at),
        _durations(session, axis, start, end, teams, Case.resolved_at),
    )


def _of_teams(
    case_id: InstrumentedAttribute[int] | InstrumentedAttribute[int | None],
    teams: tuple[int, ...] | None,
) -> list[ColumnElement[bool]]:
    """Where clauses keeping the rows of the chosen teams' cases; none without a choice."""
    if teams is None:
        return []
    return [case_id.in_(select(Case.id).where(Case.team_id.in_(teams)))]


def _cases(teams: tuple[int, ...] | None) -> list[ColumnElement[bool]]:
    # Merged cases live on in the case they were merged into, as in `report sla`.
    where: list[ColumnElement[bool]] = [Case.merged_into_id.is_(None)]
    if teams is not None:
        where.append(Case.team_id.in_(teams))
    return where


def _series(counts: Mapping[str, list[int]]) -> tuple[Series, ...]:
    ordered = sorted(counts.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    return tuple(Series(key, tuple(values)) for key, values in ordered)


def _rates(part: Sequence[int], whole: Sequence[int]) -> tuple[float | None, ...]:
    return tuple(percent(p, w) for p, w in zip(part, whole, strict=True))


def _volume(
    session: Session, axis: _Axis, start: datetime, end: datetime, teams: tuple[int, ...] | None
) -> tuple[Volume, Sentiment]:
    day = utc_truncated(session, Feedback.received_at, "day").label("day")
    rows = session.execute(
        select(
            Feedback.channel,
            Feedback.category,
            day,
            func.count(Feedback.id),
            func.count(Feedback.sentiment),
            func.sum(Feedback.sentiment),
        )
        .where(
            Feedback.direction == Direction.IN,
            Feedback.automated.is_(False),
            Feedback.received_at >= start,
            Feedback.received_at < end,
            *_of_teams(Feedback.case_id, teams),
        )
        .group_by(Feedback.channel, Feedback.category, day)
    )
    total = axis.zeros()
    scored = axis.zeros()
    sums = [0.0] * axis.size
    channels: dict[str, list[int]] = defaultdict(axis.zeros)
    categories: dict[str, list[int]] = defaultdict(axis.zeros)
    for channel, category, d, n, n_scored, sentiment_sum in rows:
        i = axis.index(d)
        if i is None:
            continue
        total[i] += n
        channels[channel.value][i] += n
        categories[category or UNCATEGORISED][i] += n
        scored[i] += n_scored
        sums[i] += float(sentiment_sum or 0.0)
    mean = tuple(round(s / n, 3) if n else None for s, n in zip(sums, scored, strict=True))
    return (
        Volume(tuple(total), _series(channels), _series(categories)),
        Sentiment(tuple(scored), mean),
    )


def _durations(
    session: Session,
    axis: _Axis,
    start: datetime,
    end: datetime,
    teams: tuple[int, ...] | None,
    ended: InstrumentedAttribute[datetime | None],
) -> Durations:
    """Hours from opening to `ended`, bucketed by `ended`; one row per case is read, since a
    median needs every value and SQLite has no percentile function."""
    seconds: list[list[float]] = [[] for _ in range(axis.size)]
    rows = session.execute(
        select(Case.opened_at, ended)
        .where(ended >= start, ended < end, *_cases(teams))
        .execution_options(yield_per=CHUNK)
    )
    for opened_at, at in rows:
        i = None if at is None else axis.index(at)
        if i is not None:
            assert at is not None
            # A reply on record before the case opened (a merged case; a conversation whose
            # brand turn came first) was no wait at all, not a negative one.
            seconds[i].append(max(0.0, (at - opened_at).total_seconds()))
    stats = [duration_stats(s) for s in seconds]
    return Durations(
        count=tuple(s.count for s in stats),
        median_hours=tuple(_hours(s.median_seconds) for s in stats),
        p90_hours=tuple(_hours(s.p90_seconds) for s in stats),
    )


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _sla(
    session: Session,
    axis: _Axis,
    start: datetime,
    end: datetime,
    teams: tuple[int, ...] | None,
    *,
    now: datetime,
) -> SlaAttainment:
    """The clocks due in each bucket, each judged by `clock_outcome` as `report sla` does."""
    tallies = [ClockTally() for _ in range(axis.size)]
    rows = session.execute(
        select(
            Case.status,
            Case.first_response_due,
            Case.first_responded_at,
            Case.resolution_due,
            Case.resolved_at,
            Case.closed_at,
            Case.paused_at,
            Case.breaches,
        )
        .where(
            or_(
                and_(Case.first_response_due >= start, Case.first_response_due < end),
                and_(Case.resolution_due >= start, Case.resolution_due < end),
            ),
            *_cases(teams),
        )
        .execution_options(yield_per=CHUNK)
    )
    for status, fr_due, fr_at, res_due, resolved_at, closed_at, paused_at, breaches in rows:
        is_open = status in OPEN_STATUSES
        flagged = frozenset(breaches or ())
        for name, due, kept in (
            (FIRST_RESPONSE, fr_due, fr_at),
            (RESOLUTION, res_due, resolved_at),
        ):
            if due is None or not start <= due < end:
                continue
            i = axis.index(due)
            if i is None:
                continue
            tallies[i].add(
                clock_outcome(
                    due,
                    kept,
                    now=now,
                    flagged=name in flagged,
                    ended_at=None if is_open else (resolved_at or closed_at),
                    paused_at=paused_at if is_open else None,
                )
            )
    return SlaAttainment(
        met=tuple(t.met for t in tallies),
        breached=tuple(t.breached for t in tallies),
        running=tuple(t.running for t in tallies),
        attainment_pct=tuple(t.attainment_pct for t in tallies),
    )


def _recovery(
    session: Session, axis: _Axis, start: datetime, end: datetime, teams: tuple[int, ...] | None
) -> Recovery:
    day = utc_truncated(session, FollowUp.answered_at, "day").label("day")
    rows = session.execute(
        select(day, FollowUp.scale, FollowUp.score, func.count(FollowUp.id))
        .where(
            FollowUp.answered_at >= start,
            FollowUp.answered_at < end,
            FollowUp.score.is_not(None),
            *_of_teams(FollowUp.case_id, teams),
        )
        .group_by(day, FollowUp.scale, FollowUp.score)
    )
    answered = axis.zeros()
    good = axis.zeros()
    for d, scale, score, n in rows:
        i = axis.index(d)
        if i is None:
            continue
        answered[i] += n
        if verdict(scale, score) == "good":
            good[i] += n
    return Recovery(tuple(answered), tuple(good), _rates(good, answered))


def _reopens(
    session: Session, axis: _Axis, start: datetime, end: datetime, teams: tuple[int, ...] | None
) -> Reopens:
    # As in `report sla`: a case reopened since was resolved before, whatever it is now.
    was_reopened = Case.reopened_count > 0
    resolved_once = or_(Case.resolved_at.is_not(None), was_reopened)
    day = utc_truncated(session, Case.opened_at, "day").label("day")
    rows = session.execute(
        select(
            day,
            func.count(case((resolved_once, 1))),
            func.count(case((was_reopened, 1))),
        )
        .where(Case.opened_at >= start, Case.opened_at < end, *_cases(teams))
        .group_by(day)
    )
    resolved = axis.zeros()
    reopened = axis.zeros()
    for d, n_resolved, n_reopened in rows:
        i = axis.index(d)
        if i is not None:
            resolved[i] += n_resolved
            reopened[i] += n_reopened
    return Reopens(tuple(resolved), tuple(reopened), _rates(reopened, resolved))


def _compensation(
    session: Session, axis: _Axis, start: datetime, end: datetime, teams: tuple[int, ...] | None
) -> tuple[Compensation, ...]:
    day = utc_truncated(session, Offer.made_at, "day").label("day")
    rows = session.execute(
        select(
            Offer.currency,
            day,
            Offer.kind,
            Offer.status,
            func.count(Offer.id),
            func.sum(Offer.amount),
        )
        .where(
            Offer.made_at >= start,
            Offer.made_at < end,
            *_of_teams(Offer.case_id, teams),
        )
        .group_by(Offer.currency, day, Offer.kind, Offer.status)
    )

    def amounts() -> list[Decimal]:
        return [Decimal("0.00")] * axis.size

    made: dict[str, list[int]] = defaultdict(axis.zeros)
    offered: dict[str, list[Decimal]] = defaultdict(amounts)
    accepted: dict[str, list[Decimal]] = defaultdict(amounts)
    spend: dict[str, list[Decimal]] = defaultdict(amounts)
    fixes: dict[str, list[Decimal]] = defaultdict(amounts)
    for currency, d, kind, status, n, total in rows:
        i = axis.index(d)
        if i is None:
            continue
        made[currency][i] += n
        amount = Decimal(total or 0).quantize(Decimal("0.01"))
        if kind in FIXES:
            if status in SPENT:
                fixes[currency][i] += amount
            continue
        offered[currency][i] += amount
        if status in ACCEPTED:
            accepted[currency][i] += amount
        if status in SPENT:
            spend[currency][i] += amount
    return tuple(
        Compensation(
            currency=currency,
            offers_made=tuple(made[currency]),
            made_amount=tuple(offered[currency]),
            accepted_amount=tuple(accepted[currency]),
            spend=tuple(spend[currency]),
            fixes_amount=tuple(fixes[currency]),
        )
        for currency in sorted(made)
    )


def _coaching(
    session: Session, axis: _Axis, start: datetime, end: datetime, teams: tuple[int, ...] | None
) -> Coaching:
    # A reply names its agent by email in its metadata; the checker's findings by agent id.
    sent_day = utc_truncated(session, Feedback.received_at, "day").label("day")
    replies: dict[int, list[int]] = defaultdict(axis.zeros)
    for agent_id, d, n in session.execute(
        select(Agent.id, sent_day, func.count(Feedback.id))
        .select_from(Feedback)
        .join(Agent, Agent.email == Feedback.meta["agent"].as_string())
        .where(
            Feedback.direction == Direction.OUT,
            Feedback.automated.is_(False),
            Feedback.received_at >= start,
            Feedback.received_at < end,
            *_of_teams(Feedback.case_id, teams),
        )
        .group_by(Agent.id, sent_day)
    ):
        i = axis.index(d)
        if i is not None:
            replies[agent_id][i] += n

    found_day = utc_truncated(session, ReplyFinding.at, "day").label("day")
    findings: dict[int, list[int]] = defaultdict(axis.zeros)
    overridden: dict[int, list[int]] = defaultdict(axis.zeros)
    by_rule: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(axis.zeros))
    unattributed = axis.zeros()
    for agent_id, d, rule, was_overridden, n in session.execute(
        select(
            ReplyFinding.agent_id,
            found_day,
            ReplyFinding.rule,
            ReplyFinding.overridden,
            func.count(ReplyFinding.id),
        )
        .where(
            ReplyFinding.at >= start,
            ReplyFinding.at < end,
            *_of_teams(ReplyFinding.case_id, teams),
        )
        .group_by(ReplyFinding.agent_id, found_day, ReplyFinding.rule, ReplyFinding.overridden)
    ):
        i = axis.index(d)
        if i is None:
            continue
        if agent_id is None:
            unattributed[i] += n
            continue
        findings[agent_id][i] += n
        by_rule[agent_id][rule][i] += n
        if was_overridden:
            overridden[agent_id][i] += n

    agents = _agents(session, set(replies) | set(findings))
    rows = []
    for agent_id, (name, email) in agents.items():
        sent = replies[agent_id]
        found = findings[agent_id]
        rows.append(
            AgentCoaching(
                agent_id=agent_id,
                name=name,
                email=email,
                replies=tuple(sent),
                findings=tuple(found),
                overridden=tuple(overridden[agent_id]),
                findings_per_reply=tuple(
                    round(f / r, 2) if r else None for f, r in zip(found, sent, strict=True)
                ),
                by_rule=_series(by_rule[agent_id]),
            )
        )
    rows.sort(key=lambda a: (-sum(a.findings), a.name.lower(), a.agent_id))
    return Coaching(tuple(rows), tuple(unattributed))


def _agents(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    for part in chunked(sorted(ids)):
        for agent_id, name, email in session.execute(
            select(Agent.id, Agent.name, Agent.email).where(Agent.id.in_(part))
        ):
            found[agent_id] = (name, email)
    return found
