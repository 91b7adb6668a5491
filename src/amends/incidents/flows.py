"""Spike detection over the desk's complaints: hourly counts per key from the database, the
pure detector (`incidents.detect`), and an incident for each new alarm.

Keys are "category:<default category>", "label:<company taxonomy label>", "channel:<channel>"
and "topic:<problem id>" for open or proposed problems that carry a topic's words. Runs from
`amends incidents detect`, the API, and every tick once `incidents.every` has passed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Engine, and_, func, literal, select
from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES
from amends.db import as_utc, session_scope, utc_truncated
from amends.feedback.models import Feedback
from amends.feedback.rules import Direction
from amends.incidents import service
from amends.incidents.detect import Spike, SpikeConfig, count_range, should_alert
from amends.incidents.detect import detect as find_spikes
from amends.incidents.models import DetectorRun, Incident, IncidentCase, SpikeAlert
from amends.incidents.rules import IncidentStatus
from amends.playbook.rules import Policy
from amends.playbook.service import active_policy
from amends.problems.models import Problem, ProblemStatus
from amends.problems.service import uses_terms

DETECTOR = "spikes"
TOPIC_KEYS = 20  # problems whose words are watched
SIMILAR_LOOKBACK = timedelta(days=3)
SIMILAR_CANDIDATES = 5_000


def _complaints(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(
        Feedback.direction == Direction.IN,
        Feedback.needs_response.is_(True),
        Feedback.received_at >= start,
        Feedback.received_at < end,
    )


Topics = dict[str, tuple[str, ColumnElement[bool]]]  # "topic:<id>" -> (title, its complaints)


def watched_topics(session: Session) -> Topics:
    """The newest open or proposed problems that carry a topic's words: read once a run."""
    problems = session.scalars(
        select(Problem)
        .where(Problem.status.in_([ProblemStatus.PROPOSED, ProblemStatus.OPEN]))
        .order_by(Problem.id.desc())
        .limit(TOPIC_KEYS)
    )
    out: Topics = {}
    for p in problems:
        match = uses_terms(p.terms or [])
        if match is not None:
            out[f"topic:{p.id}"] = (p.title, match)
    return out


def hourly_counts(
    session: Session, *, now: datetime, policy: Policy, topics: Topics | None = None
) -> dict[str, list[tuple[datetime, int]]]:
    """Per key, the customers who complained in each hour of the detector's range, oldest
    first. Customers, not messages: one person's thread of eight tweets is one voice."""
    start = count_range(now, config=_config(policy))[0]
    hour = utc_truncated(session, Feedback.received_at, "hour").label("hour")
    wanted = set(policy.incidents.keys)
    columns = {
        "category": Feedback.category,
        "label": Feedback.company_label,
        "channel": Feedback.channel,
    }
    counts: dict[str, dict[datetime, int]] = defaultdict(dict)
    for kind, column in columns.items():
        if kind not in wanted:
            continue
        rows = session.execute(
            select(column, hour, func.count(func.distinct(Feedback.customer_id)))
            .where(_complaints(start, now), column.is_not(None))
            .group_by(column, hour)
        )
        for value, at, n in rows:
            name = value.value if hasattr(value, "value") else str(value)
            counts[f"{kind}:{name}"][as_utc(at)] = int(n)
    if "topic" in wanted:
        watched = watched_topics(session) if topics is None else topics
        for key, (_title, match) in watched.items():
            rows = session.execute(
                select(hour, func.count(func.distinct(Feedback.customer_id)))
                .where(_complaints(start, now), match)
                .group_by(hour)
            )
            for at, n in rows:
                counts[key][as_utc(at)] = int(n)
    return {key: sorted(by_hour.items()) for key, by_hour in counts.items()}


def _config(policy: Policy) -> SpikeConfig:
    p = policy.incidents
    return SpikeConfig(
        window=p.window,
        history=p.history,
        min_count=p.min_count,
        min_ratio=p.min_ratio,
        alpha=p.alpha,
        tz=policy.calendar(None).tz,  # hours of the week as the desk's customers live them
    )


def _key_filter(key: str, topics: Topics) -> ColumnElement[bool]:
    kind, _, value = key.partition(":")
    if kind == "category":
        return Feedback.category == value
    if kind == "label":
        return Feedback.company_label == value
    if kind == "channel":
        return Feedback.channel == value
    if kind == "topic":
        return topics[key][1] if key in topics else literal(False)
    return literal(False)


def _cases_in(
    session: Session, key: str, start: datetime, end: datetime, *, topics: Topics
) -> list[int]:
    rows = session.scalars(
        select(Feedback.case_id)
        .where(_complaints(start, end), _key_filter(key, topics), Feedback.case_id.is_not(None))
        .distinct()
    )
    return sorted(c for c in rows if c is not None)


def similar_cases(
    session: Session, incident: Incident, *, now: datetime, threshold: float
) -> dict[int, float]:
    """Open cases of the last days, in no open incident, whose complaint reads like the
    incident's (cosine of TF-IDF vectors against the centroid of its complaints)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    linked = select(IncidentCase.case_id).where(IncidentCase.incident_id == incident.id)
    mine = list(
        session.scalars(
            select(Feedback.text)
            .where(Feedback.case_id.in_(linked), Feedback.direction == Direction.IN)
            .limit(500)
        )
    )
    if not mine:
        return {}
    busy = (
        select(IncidentCase.case_id)
        .join(Incident, Incident.id == IncidentCase.incident_id)
        .where(Incident.status == IncidentStatus.OPEN)
    )
    candidates = session.execute(
        select(Feedback.case_id, Feedback.text)
        .join(Case, Case.id == Feedback.case_id)
        .where(
            Feedback.direction == Direction.IN,
            Feedback.received_at >= now - SIMILAR_LOOKBACK,
            Case.status.in_(list(OPEN_STATUSES)),
            Case.id.not_in(busy),
        )
        .limit(SIMILAR_CANDIDATES)
    ).all()
    if not candidates:
        return {}
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1)
    matrix = vectorizer.fit_transform(mine + [t for _c, t in candidates])
    centroid = np.asarray(matrix[: len(mine)].mean(axis=0)).ravel()
    norm = float(np.linalg.norm(centroid)) or 1.0
    scores = matrix[len(mine) :] @ (centroid / norm)
    found: dict[int, float] = {}
    for (case_id, _text), score in zip(candidates, scores, strict=True):
        if case_id is not None and float(score) >= threshold:
            found[case_id] = max(found.get(case_id, 0.0), round(float(score), 3))
    return found


def detect(session: Session, *, now: datetime, policy: Policy) -> list[dict[str, Any]]:
    """Find spikes and act: a new alarm opens an incident with the window's cases and similar
    open ones; a key that has an open incident adds its new cases there; a repeat within the
    cooldown is left alone."""
    first = session.scalar(
        select(func.min(Feedback.received_at)).where(Feedback.direction == Direction.IN)
    )
    topics = watched_topics(session)
    spikes = find_spikes(
        hourly_counts(session, now=now, policy=policy, topics=topics),
        now=now,
        config=_config(policy),
        since=first,
        names={key: title for key, (title, _match) in topics.items()},
    )
    # What a complaint is about names an incident better than where it came in.
    spikes.sort(key=lambda sp: _KIND_ORDER.get(sp.key.partition(":")[0], 9))
    results: list[dict[str, Any]] = []
    for spike in spikes:
        entry: dict[str, Any] = {
            "key": spike.key,
            "observed": spike.observed,
            "expected": round(spike.expected, 2),
            "p_value": spike.p_value,
            "reason": spike.reason,
            "incident_id": None,
        }
        cases = _cases_in(session, spike.key, spike.window_start, spike.window_end, topics=topics)
        open_one = session.scalar(
            select(Incident).where(
                Incident.key == spike.key, Incident.status == IncidentStatus.OPEN
            )
        )
        if open_one is not None:
            service.add_cases(
                session, open_one.id, cases, how="spike", actor="detector", now=now, policy=policy
            )
            entry["incident_id"] = open_one.id
            entry["action"] = "added to the open incident"
            results.append(entry)
            continue
        previous = [
            (k, at)
            for k, at in session.execute(
                select(SpikeAlert.key, SpikeAlert.raised_at).where(
                    SpikeAlert.key == spike.key,
                    SpikeAlert.raised_at >= now - policy.incidents.cooldown,
                )
            )
        ]
        if not should_alert(spike, previous, cooldown=policy.incidents.cooldown):
            entry["action"] = "raised already"
            results.append(entry)
            continue
        same = _overlapping(session, cases)
        if same is not None:  # the same complaints seen by another key: one incident
            service.add_cases(
                session, same, cases, how="spike", actor="detector", now=now, policy=policy
            )
            _alert(session, spike, now=now, incident_id=same)
            entry["incident_id"] = same
            entry["action"] = "joined the incident of the same complaints"
            results.append(entry)
            continue
        incident = service.open_incident(
            session,
            title=_title(spike.key, spike.reason, _main_category(session, cases)),
            now=now,
            actor="detector",
            policy=policy,
            key=spike.key,
            cases=cases,
            reason=spike.reason,
        )
        similar = similar_cases(session, incident, now=now, threshold=policy.incidents.similarity)
        if similar:
            service.add_cases(
                session,
                incident.id,
                list(similar),
                how="similar",
                actor="detector",
                now=now,
                policy=policy,
                similarity=similar,
            )
        _alert(session, spike, now=now, incident_id=incident.id)
        entry["incident_id"] = incident.id
        entry["action"] = "incident opened"
        results.append(entry)
    _ran(session, now)
    from amends.problems.service import check_recurring

    check_recurring(session, now=now, policy=policy)
    session.flush()
    return results


_KIND_ORDER = {"category": 0, "label": 1, "topic": 2, "channel": 3}


def _overlapping(session: Session, cases: list[int]) -> int | None:
    """An open incident that already holds at least half of these cases."""
    if not cases:
        return None
    row = session.execute(
        select(IncidentCase.incident_id, func.count(IncidentCase.id))
        .join(Incident, Incident.id == IncidentCase.incident_id)
        .where(Incident.status == IncidentStatus.OPEN, IncidentCase.case_id.in_(cases))
        .group_by(IncidentCase.incident_id)
        .order_by(func.count(IncidentCase.id).desc())
        .limit(1)
    ).first()
    if row is None or row[1] * 2 < len(cases):
        return None
    return int(row[0])


def _alert(session: Session, spike: Spike, *, now: datetime, incident_id: int) -> None:
    session.add(
        SpikeAlert(
            key=spike.key,
            raised_at=now,
            window_start=spike.window_start,
            window_end=spike.window_end,
            observed=spike.observed,
            expected=spike.expected,
            p_value=spike.p_value,
            reason=spike.reason[:500],
            incident_id=incident_id,
        )
    )
    session.flush()


def _main_category(session: Session, cases: list[int]) -> str | None:
    """The category at least half of these cases share, if any."""
    if not cases:
        return None
    found = [c for c in session.scalars(select(Case.category).where(Case.id.in_(cases))) if c]
    if not found:
        return None
    top, n = max(((c, found.count(c)) for c in set(found)), key=lambda x: (x[1], x[0]))
    return top if n * 2 >= len(cases) else None


def _title(key: str, reason: str, category: str | None = None) -> str:
    kind, _, value = key.partition(":")
    what = value.replace("_", " ")
    if kind == "channel" and category:
        return f"Spike in {category.replace('_', ' ')} complaints on {what}"
    names = {
        "category": f"Spike in {what} complaints",
        "channel": f"Spike on {what}",
        "label": f"Spike in {what}",
        "topic": f"Spike in topic {what}",
    }
    return names.get(kind, reason[:200])


def _ran(session: Session, now: datetime) -> None:
    row = session.get(DetectorRun, DETECTOR)
    if row is None:
        session.add(DetectorRun(name=DETECTOR, last_run_at=now))
    else:
        row.last_run_at = now


def detect_if_due(engine: Engine, *, now: datetime) -> int:
    """For the tick: detection once `incidents.every` has passed since the last run.
    Returns the incidents opened."""
    with session_scope(engine) as session:
        policy = active_policy(session)
        row = session.get(DetectorRun, DETECTOR)
        if row is not None and now - row.last_run_at < policy.incidents.every:
            return 0
        found = detect(session, now=now, policy=policy)
        return sum(1 for f in found if f.get("action") == "incident opened")
