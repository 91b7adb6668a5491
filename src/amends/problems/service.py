"""Problems: root causes, their cases and incidents, corrective actions, and verification.
Services flush; callers commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.errors import InvalidInput, InvalidTransition, NotFound
from amends.feedback.models import Feedback
from amends.feedback.rules import Direction
from amends.playbook.rules import Policy
from amends.problems.models import (
    ActionStatus,
    CorrectiveAction,
    Problem,
    ProblemCase,
    ProblemStatus,
)
from amends.problems.rules import Verification, verify
from amends.teams.models import Agent, Notification

DISCOVER_LIMIT = 100_000  # complaints read by one discovery run


def get_problem(session: Session, problem_id: int) -> Problem:
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise NotFound("problem", problem_id)
    return problem


def list_problems(
    session: Session, *, status: ProblemStatus | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Problem], int]:
    query = select(Problem)
    if status is not None:
        query = query.where(Problem.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(
        session.scalars(query.order_by(Problem.id.desc()).limit(limit).offset(offset))
    ), total


def open_problem(
    session: Session,
    *,
    title: str,
    now: datetime,
    actor: str,
    category: str | None = None,
    company_label: str | None = None,
    terms: Sequence[str] = (),
    root_cause: str | None = None,
    what_will_change: str | None = None,
    owner: str | None = None,
    proposed: bool = False,
    examples: Sequence[int] = (),
) -> Problem:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("a problem needs a title")
    problem = Problem(
        title=title[:200],
        status=ProblemStatus.PROPOSED if proposed else ProblemStatus.OPEN,
        category=category,
        company_label=company_label,
        terms=[t.lower() for t in terms if t.strip()][:10],
        root_cause=root_cause,
        what_will_change=what_will_change,
        owner=owner.lower() if owner else None,
        opened_at=now,
        opened_by=actor[:254],
        examples=list(examples)[:10],
    )
    session.add(problem)
    session.flush()
    return problem


def update(session: Session, problem_id: int, **fields: Any) -> Problem:
    """Change what is known: title, root cause, what will change, owner, what counts."""
    problem = get_problem(session, problem_id)
    allowed = {"title", "root_cause", "what_will_change", "owner", "category", "company_label"}
    for name, value in fields.items():
        if name not in allowed:
            raise InvalidInput(f"unknown field {name!r}")
        if value is not None:
            setattr(problem, name, value.strip() or None)
    session.flush()
    return problem


def confirm(session: Session, problem_id: int) -> Problem:
    """A proposed problem is real: it is worked on like any other."""
    problem = get_problem(session, problem_id)
    if problem.status is not ProblemStatus.PROPOSED:
        raise InvalidTransition(f"problem {problem.id} is {problem.status.value}, not proposed")
    problem.status = ProblemStatus.OPEN
    session.flush()
    return problem


def link_cases(
    session: Session, problem_id: int, cases: Iterable[int], *, actor: str, now: datetime
) -> list[int]:
    get_problem(session, problem_id)
    wanted = sorted(set(cases))
    found = set(session.scalars(select(Case.id).where(Case.id.in_(wanted)))) if wanted else set()
    missing = [c for c in wanted if c not in found]
    if missing:
        raise NotFound("case", missing[0])
    linked = set(
        session.scalars(select(ProblemCase.case_id).where(ProblemCase.problem_id == problem_id))
    )
    added = [c for c in wanted if c not in linked]
    session.add_all(
        ProblemCase(problem_id=problem_id, case_id=c, added_at=now, added_by=actor[:254])
        for c in added
    )
    session.flush()
    return added


def link_incident(session: Session, problem_id: int, incident_id: int) -> None:
    from amends.incidents.service import get_incident

    get_problem(session, problem_id)
    get_incident(session, incident_id).problem_id = problem_id
    session.flush()


def add_action(
    session: Session,
    problem_id: int,
    *,
    title: str,
    owner: str,
    now: datetime,
    due_at: datetime | None = None,
) -> CorrectiveAction:
    get_problem(session, problem_id)
    if not title.strip() or not owner.strip():
        raise InvalidInput("a corrective action needs a title and an owner")
    action = CorrectiveAction(
        problem_id=problem_id,
        title=title.strip()[:300],
        owner=owner.strip().lower(),
        due_at=due_at,
        status=ActionStatus.OPEN,
        created_at=now,
    )
    session.add(action)
    session.flush()
    return action


def set_action(
    session: Session, action_id: int, status: ActionStatus, *, now: datetime, note: str | None
) -> CorrectiveAction:
    action = session.get(CorrectiveAction, action_id)
    if action is None:
        raise NotFound("corrective action", action_id)
    action.status = status
    action.done_at = now if status is ActionStatus.DONE else None
    action.note = note or action.note
    session.flush()
    return action


def actions(session: Session, problem_id: int) -> list[CorrectiveAction]:
    return list(
        session.scalars(
            select(CorrectiveAction)
            .where(CorrectiveAction.problem_id == problem_id)
            .order_by(CorrectiveAction.id)
        )
    )


def mark_fixed(session: Session, problem_id: int, *, now: datetime) -> Problem:
    problem = get_problem(session, problem_id)
    if problem.status not in (ProblemStatus.OPEN, ProblemStatus.RECURRING):
        raise InvalidTransition(f"problem {problem.id} is {problem.status.value}")
    problem.status = ProblemStatus.FIXED
    problem.fixed_at = now
    session.flush()
    return problem


def close(session: Session, problem_id: int, *, now: datetime) -> Problem:
    problem = get_problem(session, problem_id)
    problem.status = ProblemStatus.CLOSED
    problem.closed_at = now
    session.flush()
    return problem


# ---- counting its complaints ------------------------------------------------------------------


def _complaints() -> ColumnElement[bool]:
    return and_(Feedback.direction == Direction.IN, Feedback.needs_response.is_(True))


def _matches(problem: Problem) -> ColumnElement[bool]:
    """Its complaints: of its category or label, on its cases, or with its topic's words."""
    linked = select(ProblemCase.case_id).where(ProblemCase.problem_id == problem.id)
    clauses: list[ColumnElement[bool]] = [Feedback.case_id.in_(linked)]
    if problem.category:
        clauses.append(Feedback.category == problem.category)
    if problem.company_label:
        clauses.append(Feedback.company_label == problem.company_label)
    words = uses_terms(problem.terms or [])
    if words is not None:
        clauses.append(words)
    return or_(*clauses) if clauses else false()


def uses_terms(terms: Sequence[str]) -> ColumnElement[bool] | None:
    """Complaints with a topic's first two words in them (LIKE wildcards taken out)."""
    words = [t.replace("%", "").replace("_", "") for t in terms[:2] if t.strip()]
    words = [w for w in words if w]
    if not words:
        return None
    return and_(*(func.lower(Feedback.text).contains(w.lower()) for w in words))


def _count(session: Session, problem: Problem, start: datetime, end: datetime) -> tuple[int, int]:
    """Its complaints and all complaints received in [start, end)."""
    window = and_(_complaints(), Feedback.received_at >= start, Feedback.received_at < end)
    mine = session.scalar(select(func.count(Feedback.id)).where(window, _matches(problem))) or 0
    total = session.scalar(select(func.count(Feedback.id)).where(window)) or 0
    return mine, total


def verification(
    session: Session, problem_id: int, *, now: datetime, policy: Policy
) -> Verification:
    """The problem's share of complaints in the window before its fix and since it (at most
    the same length), with the test of whether the fall is real."""
    problem = get_problem(session, problem_id)
    if problem.fixed_at is None:
        raise InvalidTransition(f"problem {problem.id} has no fix yet: mark it fixed first")
    span = policy.problems.window
    fixed = problem.fixed_at
    before, before_total = _count(session, problem, fixed - span, fixed)
    after, after_total = _count(session, problem, fixed, min(now, fixed + span))
    recent, _ = _count(session, problem, max(fixed, now - policy.problems.recurring_window), now)
    return verify(before, before_total, after, after_total, recent=recent, policy=policy.problems)


@dataclass(frozen=True)
class WeekRate:
    week: datetime
    complaints: int
    total: int
    # of `complaints`, those that came before the fix (all of them in a week before it, none
    # in a week after it; the week of the fix is split at its moment)
    before_fix: int


def weekly_rate(
    session: Session, problem_id: int, *, now: datetime, weeks: int = 12
) -> list[WeekRate]:
    """Its complaints and all complaints, week by week: the chart of before and after."""
    problem = get_problem(session, problem_id)
    fixed = problem.fixed_at
    start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for i in range(weeks - 1, -1, -1):
        week = start - timedelta(weeks=i)
        end = week + timedelta(weeks=1)
        mine, total = _count(session, problem, week, end)
        if fixed is None or fixed >= end:
            before = mine
        elif fixed <= week:
            before = 0
        else:
            before, _ = _count(session, problem, week, fixed)
        out.append(WeekRate(week, mine, total, before))
    return out


def check_recurring(session: Session, *, now: datetime, policy: Policy) -> list[Problem]:
    """Fixed problems whose complaints came back are flagged, and their owner is told."""
    flagged = []
    fixed = session.scalars(select(Problem).where(Problem.status == ProblemStatus.FIXED))
    for problem in list(fixed):
        if verification(session, problem.id, now=now, policy=policy).verdict != "recurring":
            continue
        problem.status = ProblemStatus.RECURRING
        problem.recurring_at = now
        flagged.append(problem)
        owner = (
            session.scalar(select(Agent).where(Agent.email == problem.owner))
            if problem.owner
            else None
        )
        if owner is not None:
            session.add(
                Notification(
                    agent_id=owner.id,
                    kind="problem_recurring",
                    message=f"Problem {problem.id} ({problem.title[:100]}) is back after its fix",
                    created_at=now,
                )
            )
    session.flush()
    return flagged


# ---- discovery --------------------------------------------------------------------------------


def discover(
    session: Session,
    *,
    now: datetime,
    since: datetime,
    actor: str,
    max_topics: int | None = None,
    min_size: int = 5,
    propose: bool = True,
) -> list[dict[str, Any]]:
    """Topics among complaints the taxonomy could not place (category "other", or a guess
    under 0.5), each proposed as a problem with its readable label and typical examples."""
    from amends.analysis.topics import discover_topics

    rows = session.execute(
        select(Feedback.id, Feedback.text)
        .where(
            _complaints(),
            Feedback.received_at >= since,
            Feedback.received_at <= now,
            or_(
                Feedback.category == "other",
                Feedback.category.is_(None),
                Feedback.category_confidence < 0.5,
            ),
        )
        .order_by(Feedback.id.desc())
        .limit(DISCOVER_LIMIT)
    ).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    found = discover_topics([r[1] for r in rows], max_topics=max_topics, min_size=min_size)
    proposals = []
    for topic in found.topics:
        examples = [ids[i] for i in topic.examples]
        entry: dict[str, Any] = {
            "label": topic.label,
            "terms": list(topic.terms),
            "size": topic.size,
            "cohesion": topic.cohesion,
            "examples": examples,
        }
        if propose:
            problem = open_problem(
                session,
                title=topic.label,
                now=now,
                actor=actor,
                terms=topic.terms[:4],
                proposed=True,
                examples=examples,
            )
            entry["problem_id"] = problem.id
        proposals.append(entry)
    return proposals
