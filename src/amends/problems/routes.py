"""/api/v1/problems."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from amends.api.auth import ActingDep
from amends.api.deps import ClockDep, IdPath, PageDep, SessionDep, actor
from amends.api.paging import PageOf
from amends.playbook.service import active_policy
from amends.problems import service
from amends.problems.models import ProblemCase, ProblemStatus
from amends.problems.schemas import (
    ActionIn,
    ActionRead,
    ActionSet,
    DiscoverIn,
    LinkIn,
    ProblemDetail,
    ProblemIn,
    ProblemRead,
    ProblemUpdate,
    VerificationRead,
    WeekRead,
)

router = APIRouter(tags=["problems"])


def _detail(session: SessionDep, problem_id: int, now: Any) -> ProblemDetail:
    row = service.get_problem(session, problem_id)
    verification = (
        VerificationRead.model_validate(
            service.verification(
                session, problem_id, now=now, policy=active_policy(session)
            ).to_dict()
        )
        if row.fixed_at is not None
        else None
    )
    cases = session.scalars(
        select(ProblemCase.case_id)
        .where(ProblemCase.problem_id == problem_id)
        .order_by(ProblemCase.case_id)
    )
    return ProblemDetail(
        **ProblemRead.model_validate(row).model_dump(),
        cases=list(cases),
        actions=[ActionRead.model_validate(a) for a in service.actions(session, problem_id)],
        weekly=[
            WeekRead(week=w.week, complaints=w.complaints, total=w.total, before_fix=w.before_fix)
            for w in service.weekly_rate(session, problem_id, now=now)
        ],
        verification=verification,
    )


@router.get("/problems", summary="Problems, newest first")
def list_problems(
    session: SessionDep, page: PageDep, status: ProblemStatus | None = None
) -> PageOf[ProblemRead]:
    rows, total = service.list_problems(
        session, status=status, limit=page.limit, offset=page.offset
    )
    return PageOf(
        items=[ProblemRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/problems", status_code=201, summary="Open a problem")
def open_problem(
    body: ProblemIn, session: SessionDep, clock: ClockDep, acting: ActingDep
) -> ProblemDetail:
    now = clock()
    row = service.open_problem(
        session,
        title=body.title,
        now=now,
        actor=actor(acting(body.agent)),
        category=body.category,
        company_label=body.company_label,
        terms=body.terms,
        root_cause=body.root_cause,
        what_will_change=body.what_will_change,
        owner=body.owner,
    )
    if body.cases:
        service.link_cases(session, row.id, body.cases, actor=actor(acting(body.agent)), now=now)
    return _detail(session, row.id, now)


@router.get("/problems/{problem_id}", summary="A problem, its actions, rate and verification")
def get_problem(problem_id: IdPath, session: SessionDep, clock: ClockDep) -> ProblemDetail:
    return _detail(session, problem_id, clock())


@router.patch("/problems/{problem_id}", summary="Change what is known")
def update(
    problem_id: IdPath, body: ProblemUpdate, session: SessionDep, clock: ClockDep
) -> ProblemDetail:
    service.update(
        session,
        problem_id,
        title=body.title,
        root_cause=body.root_cause,
        what_will_change=body.what_will_change,
        owner=body.owner,
    )
    if body.confirm:
        service.confirm(session, problem_id)
    return _detail(session, problem_id, clock())


@router.post("/problems/{problem_id}/links", summary="Link cases or an incident")
def link(
    problem_id: IdPath, body: LinkIn, session: SessionDep, clock: ClockDep, acting: ActingDep
) -> ProblemDetail:
    now = clock()
    service.link_cases(session, problem_id, body.cases, actor=actor(acting(body.agent)), now=now)
    if body.incident_id is not None:
        service.link_incident(session, problem_id, body.incident_id)
    return _detail(session, problem_id, now)


@router.post("/problems/{problem_id}/actions", status_code=201, summary="Add an action")
def add_action(
    problem_id: IdPath, body: ActionIn, session: SessionDep, clock: ClockDep
) -> ActionRead:
    action = service.add_action(
        session, problem_id, title=body.title, owner=body.owner, now=clock(), due_at=body.due_at
    )
    return ActionRead.model_validate(action)


@router.post("/problem-actions/{action_id}", summary="Set an action's status")
def set_action(
    action_id: IdPath, body: ActionSet, session: SessionDep, clock: ClockDep
) -> ActionRead:
    action = service.set_action(session, action_id, body.status, now=clock(), note=body.note)
    return ActionRead.model_validate(action)


@router.post("/problems/{problem_id}/fixed", summary="The fix is in")
def fixed(problem_id: IdPath, session: SessionDep, clock: ClockDep) -> ProblemDetail:
    now = clock()
    service.mark_fixed(session, problem_id, now=now)
    return _detail(session, problem_id, now)


@router.get("/problems/{problem_id}/verification", summary="Did the fix work?")
def verification(problem_id: IdPath, session: SessionDep, clock: ClockDep) -> VerificationRead:
    found = service.verification(session, problem_id, now=clock(), policy=active_policy(session))
    return VerificationRead.model_validate(found.to_dict())


@router.post("/problems/discover", summary="Propose problems from uncategorised complaints")
def discover(
    body: DiscoverIn, session: SessionDep, clock: ClockDep, acting: ActingDep
) -> list[dict[str, Any]]:
    now = clock()
    return service.discover(
        session,
        now=now,
        since=now - timedelta(days=body.days),
        actor=actor(acting(body.agent)),
        max_topics=body.max_topics,
        min_size=body.min_size,
        propose=body.propose,
    )
