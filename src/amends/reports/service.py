"""Reports over cases: read-only queries of plain columns, fed to the pure rules."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES
from amends.errors import InvalidInput
from amends.followups.models import FollowUp, SurveyScale
from amends.reports.rules import (
    CaseTimes,
    SlaAccumulator,
    SlaReport,
    SurveyStats,
    survey_stats,
)
from amends.teams.models import Team

DEFAULT_WINDOW = timedelta(days=30)
# Rows fetched at a time: the window's cases stream instead of loading all at once.
CHUNK = 5000


def report_window(
    since: datetime | None, until: datetime | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """[since, until) in UTC, a naive bound read as UTC; by default the 30 days up to `now`.
    Raises InvalidInput if the window is empty."""
    end = _utc(until) if until is not None else now
    start = _utc(since) if since is not None else end - DEFAULT_WINDOW
    if start >= end:
        raise InvalidInput(f"the report window is empty: since {start} is not before {end}")
    return start, end


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _in_window(since: datetime, until: datetime) -> ColumnElement[bool]:
    # Merged cases live on in the case they were merged into.
    return and_(Case.opened_at >= since, Case.opened_at < until, Case.merged_into_id.is_(None))


def sla_report(
    session: Session, *, since: datetime | None, until: datetime | None, now: datetime
) -> SlaReport:
    """SLA attainment, response and resolution times, reopens and surveys over the cases
    opened in [since, until), as of `now`. Reads only."""
    start, end = report_window(since, until, now=now)
    in_window = _in_window(start, end)
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    acc = SlaAccumulator(now=now)
    rows = session.execute(
        select(
            Case.status,
            Case.opened_at,
            Case.first_response_due,
            Case.first_responded_at,
            Case.resolution_due,
            Case.resolved_at,
            Case.closed_at,
            Case.paused_at,
            Case.breaches,
            Case.reopened_count,
            Case.team_id,
            Case.priority,
            Case.channel,
        )
        .where(in_window)
        .execution_options(yield_per=CHUNK)
    )
    for (
        status,
        opened_at,
        fr_due,
        fr_at,
        res_due,
        resolved_at,
        closed_at,
        paused_at,
        breaches,
        reopened,
        team_id,
        priority,
        channel,
    ) in rows:
        is_open = status in OPEN_STATUSES
        case = CaseTimes(
            opened_at=opened_at,
            first_response_due=fr_due,
            first_responded_at=fr_at,
            resolution_due=res_due,
            resolved_at=resolved_at,
            ended_at=None if is_open else (resolved_at or closed_at),
            paused_at=paused_at if is_open else None,
            breaches=frozenset(breaches or ()),
            reopened_count=reopened or 0,
        )
        acc.add(
            case,
            team=teams.get(team_id) if team_id is not None else None,
            priority=priority,
            channel=channel.value,
            is_open=is_open,
        )
    return acc.report(since=start, until=end, surveys=_surveys(session, in_window))


def _surveys(session: Session, in_window: ColumnElement[bool]) -> SurveyStats:
    """Follow-ups of the window's cases, counted per (scale, score) in the database."""
    sent = func.count(func.coalesce(FollowUp.sent_at, FollowUp.answered_at))
    answered = func.count(FollowUp.answered_at)
    rows = session.execute(
        select(FollowUp.scale, FollowUp.score, sent, answered)
        .join(Case, Case.id == FollowUp.case_id)
        .where(in_window)
        .group_by(FollowUp.scale, FollowUp.score)
    )
    total_sent = total_answered = 0
    scores: dict[SurveyScale, Counter[int]] = {s: Counter() for s in SurveyScale}
    for scale, score, n_sent, n_answered in rows:
        total_sent += n_sent
        total_answered += n_answered
        if score is not None and n_answered:
            scores[scale][score] += n_answered
    return survey_stats(
        sent=total_sent,
        answered=total_answered,
        csat_scores=scores[SurveyScale.CSAT],
        nps_scores=scores[SurveyScale.NPS],
    )
