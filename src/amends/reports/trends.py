"""`report trends`: weekly volume and sentiment by category and channel, the top causes with
their complaints before and after their fixes, and incidents on a timeline."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from amends.db import as_utc, utc_truncated
from amends.feedback.models import Feedback
from amends.feedback.rules import Direction
from amends.incidents.models import Incident
from amends.playbook.rules import Policy
from amends.problems.models import Problem, ProblemStatus
from amends.problems.service import verification, weekly_rate


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def trends(
    session: Session, *, now: datetime, policy: Policy, weeks: int = 12, top: int = 10
) -> dict[str, Any]:
    """The report as plain JSON types. Weeks start on Monday, in UTC."""
    first = _monday(now.astimezone(UTC).date()) - timedelta(weeks=weeks - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    complaints = and_(
        Feedback.direction == Direction.IN,
        Feedback.needs_response.is_(True),
        Feedback.received_at >= start,
        Feedback.received_at <= now,
    )
    day = utc_truncated(session, Feedback.received_at, "day").label("day")
    week_keys = [(first + timedelta(weeks=i)).isoformat() for i in range(weeks)]
    volume: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(week_keys, 0))
    feeling: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {w: [0.0, 0.0] for w in week_keys}
    )
    rows = session.execute(
        select(Feedback.category, day, func.count(Feedback.id), func.sum(Feedback.sentiment))
        .where(complaints)
        .group_by(Feedback.category, day)
    )
    for category, d, n, total in rows:
        week = _monday(as_utc(d).date()).isoformat()
        if week not in volume["(all)"]:
            continue
        for name in (category or "uncategorised", "(all)"):
            volume[name][week] += int(n)
            feeling[name][week][0] += float(total or 0.0)
            feeling[name][week][1] += int(n)
    by_channel: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(week_keys, 0))
    for channel, d, n in session.execute(
        select(Feedback.channel, day, func.count(Feedback.id))
        .where(complaints)
        .group_by(Feedback.channel, day)
    ):
        week = _monday(as_utc(d).date()).isoformat()
        if week in week_keys:
            by_channel[channel.value if hasattr(channel, "value") else str(channel)][week] += int(n)
    sentiment = {
        name: {w: (round(s / n, 3) if n else None) for w, (s, n) in per_week.items()}
        for name, per_week in feeling.items()
    }
    causes = []
    problems = session.scalars(
        select(Problem).where(Problem.status != ProblemStatus.PROPOSED).order_by(Problem.id)
    )
    for problem in problems:
        series = weekly_rate(session, problem.id, now=now, weeks=weeks)
        entry: dict[str, Any] = {
            "id": problem.id,
            "title": problem.title,
            "status": problem.status.value,
            "fixed_at": problem.fixed_at.isoformat() if problem.fixed_at else None,
            "complaints": sum(w.complaints for w in series),
            "weekly": {w.week.date().isoformat(): w.complaints for w in series},
        }
        if problem.fixed_at is not None:
            entry["verification"] = verification(
                session, problem.id, now=now, policy=policy
            ).to_dict()
        causes.append(entry)
    causes.sort(key=lambda c: -c["complaints"])
    incidents = session.scalars(
        select(Incident).where(Incident.opened_at >= start).order_by(Incident.opened_at)
    )
    return {
        "weeks": week_keys,
        "volume_by_category": dict(sorted(volume.items())),
        "volume_by_channel": dict(sorted(by_channel.items())),
        "sentiment_by_category": dict(sorted(sentiment.items())),
        "top_causes": causes[:top],
        "incidents": [
            {
                "id": i.id,
                "title": i.title,
                "tier": i.tier.value,
                "status": i.status.value,
                "customers": i.customers,
                "opened_at": i.opened_at.isoformat(),
                "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None,
            }
            for i in incidents
        ],
        "method": "complaints are incoming items that need a response; weeks start Monday, UTC; "
        "sentiment is the mean of the stored analysis (-1..1)",
    }
