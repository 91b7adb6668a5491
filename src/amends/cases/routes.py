"""/api/v1/cases and /api/v1/queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement

from amends.api.auth import ActingDep, PrincipalDep
from amends.api.deps import ClockDep, IdPath, IdQuery, PageDep, SessionDep, actor
from amends.api.paging import PageOf
from amends.cases import service
from amends.cases.models import Case
from amends.cases.rules import CaseStatus
from amends.cases.schemas import (
    Assignment,
    CaseEventRead,
    CaseRead,
    DeadlineRead,
    MergeIn,
    QueueRow,
    ReplyIn,
    SplitIn,
    StatusChange,
)
from amends.playbook.service import active_policy
from amends.users.service import (
    Principal,
    check_assignable,
    check_case_visible,
    visible_case_filter,
)

router = APIRouter(tags=["cases"])


def _visible(principal: Principal | None) -> ColumnElement[bool] | None:
    """An agent's lists hold their teams' cases only."""
    if principal is None or principal.team_ids is None:
        return None
    return visible_case_filter(principal)


def _row(case: Case, now: datetime) -> QueueRow:
    deadlines = [
        DeadlineRead(
            clock=d.clock,
            due=d.due,
            met_at=d.met_at,
            breached=d.breached(now),
        )
        for d in service.deadlines(case)
    ]
    return QueueRow.model_validate(
        {
            **CaseRead.model_validate(case).model_dump(),
            "deadlines": deadlines,
            "breached": any(d.breached for d in deadlines),
            "team": case.team.name if case.team else None,
            "assignee": case.assignee.email if case.assignee else None,
        }
    )


@router.get("/queue", summary="Open cases by urgency: priority, then the nearest deadline")
def queue(
    session: SessionDep,
    page: PageDep,
    clock: ClockDep,
    team: Annotated[str | None, Query(max_length=100)] = None,
    agent: Annotated[str | None, Query(max_length=254, description="agent's email")] = None,
    include_waiting: bool = False,
    principal: PrincipalDep = None,
) -> PageOf[QueueRow]:
    rows, total = service.queue(
        session,
        limit=page.limit,
        offset=page.offset,
        team=team,
        agent=agent,
        include_waiting=include_waiting,
        visible=_visible(principal),
    )
    now = clock()
    return PageOf[QueueRow](
        items=[_row(c, now) for c in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/cases", summary="List cases, most recently active first")
def list_cases(
    session: SessionDep,
    page: PageDep,
    status: CaseStatus | None = None,
    customer_id: IdQuery = None,
    principal: PrincipalDep = None,
) -> PageOf[CaseRead]:
    rows, total = service.list_cases(
        session,
        limit=page.limit,
        offset=page.offset,
        status=status,
        customer_id=customer_id,
        visible=_visible(principal),
    )
    return PageOf[CaseRead](
        items=[CaseRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/cases/{case_id}", summary="One case, with its deadlines")
def get_case(case_id: IdPath, session: SessionDep, clock: ClockDep) -> QueueRow:
    return _row(service.get_case(session, case_id), clock())


@router.get("/cases/{case_id}/events", summary="A case's history: who, when and why")
def case_events(case_id: IdPath, session: SessionDep) -> list[CaseEventRead]:
    return [CaseEventRead.model_validate(e) for e in service.history(session, case_id)]


@router.post("/cases/{case_id}/status", summary="Move a case along its lifecycle")
def change_status(
    case_id: IdPath,
    body: StatusChange,
    session: SessionDep,
    clock: ClockDep,
    acting: ActingDep,
) -> QueueRow:
    now = clock()
    case = service.transition(
        session,
        case_id,
        body.status,
        actor=actor(acting(body.agent)),
        now=now,
        policy=active_policy(session),
        reason=body.reason,
    )
    return _row(case, now)


@router.post("/cases/{case_id}/assign", summary="Give a case to an agent or a team")
def assign(
    case_id: IdPath,
    body: Assignment,
    session: SessionDep,
    clock: ClockDep,
    acting: ActingDep,
    principal: PrincipalDep,
) -> QueueRow:
    now = clock()
    if principal is not None:
        check_assignable(session, principal, agent_email=body.assignee)
    case = service.assign(
        session,
        case_id,
        agent_email=body.assignee,
        team_name=body.team,
        actor=actor(acting(body.agent)),
        now=now,
        reason=body.reason,
    )
    return _row(case, now)


@router.post("/cases/{case_id}/replies", status_code=201, summary="Record a reply sent")
def reply(
    case_id: IdPath, body: ReplyIn, session: SessionDep, clock: ClockDep, acting: ActingDep
) -> QueueRow:
    """Check a reply and record it as sent. A blocking finding of the reply checker answers 422
    with the findings, unless `override` gives a person's reason."""
    from amends.replies.service import send

    now = clock()
    send(
        session,
        case_id,
        body.text,
        agent_email=acting(body.agent),
        now=now,
        policy=active_policy(session),
        automated=body.automated,
        waiting=body.waiting,
        public=body.public,
        override=body.override,
    )
    return _row(service.get_case(session, case_id), now)


@router.post("/cases/{case_id}/merge", summary="Fold another case of the customer into this")
def merge(
    case_id: IdPath,
    body: MergeIn,
    session: SessionDep,
    clock: ClockDep,
    acting: ActingDep,
    principal: PrincipalDep,
) -> QueueRow:
    now = clock()
    if principal is not None:
        # The case folded in must be the caller's to work too.
        check_case_visible(principal, service.get_case(session, body.absorb))
    case = service.merge(
        session,
        case_id,
        body.absorb,
        actor=actor(acting(body.agent)),
        now=now,
        policy=active_policy(session),
        reason=body.reason,
    )
    return _row(case, now)


@router.post("/cases/{case_id}/split", status_code=201, summary="Move feedback to a new case")
def split(
    case_id: IdPath, body: SplitIn, session: SessionDep, clock: ClockDep, acting: ActingDep
) -> QueueRow:
    now = clock()
    case = service.split(
        session,
        case_id,
        body.feedback_ids,
        actor=actor(acting(body.agent)),
        now=now,
        policy=active_policy(session),
        reason=body.reason,
    )
    return _row(case, now)
