"""/api/v1/teams and /api/v1/agents (read-only until the playbook manages them), and
/api/v1/notifications: the signed-in person's own, as their agent."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from amends.api.auth import PrincipalDep
from amends.api.deps import ClockDep, IdQuery, PageDep, SessionDep
from amends.teams import notifications
from amends.teams.models import Agent, Team
from amends.teams.schemas import (
    AgentRead,
    MarkedRead,
    MarkRead,
    NotificationPage,
    NotificationRead,
    TeamRead,
)

router = APIRouter(tags=["teams"])
notifications_router = APIRouter(tags=["notifications"])


@router.get("/teams", summary="Teams with their agents")
def list_teams(session: SessionDep) -> list[TeamRead]:
    rows = session.scalars(select(Team).options(selectinload(Team.agents)).order_by(Team.name))
    return [TeamRead.model_validate(t) for t in rows]


@router.get("/agents", summary="Agents")
def list_agents(session: SessionDep) -> list[AgentRead]:
    return [
        AgentRead.model_validate(a) for a in session.scalars(select(Agent).order_by(Agent.name))
    ]


@notifications_router.get("/notifications", summary="Your notifications, newest first")
def list_notifications(
    session: SessionDep,
    page: PageDep,
    principal: PrincipalDep,
    unread: bool = False,
    before: IdQuery = None,
) -> NotificationPage:
    """The signed-in person's notifications (as the agent with their email; anyone else has
    none): SLA warnings, escalations, recurring problems. `unread=true` keeps the unread;
    `before` is the `next_before` of the page before, for the next, older page."""
    found = notifications.list_notifications(
        session,
        principal.agent_id if principal else None,
        unread_only=unread,
        before=before,
        limit=page.limit,
        offset=page.offset,
    )
    return NotificationPage(
        items=[NotificationRead.model_validate(n) for n in found.items],
        total=found.total,
        limit=page.limit,
        offset=page.offset,
        unread=found.unread,
        next_before=found.next_before,
    )


@notifications_router.post("/notifications/read", summary="Mark your notifications read")
def mark_read(
    body: MarkRead, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> MarkedRead:
    """Mark some of your notifications read (`{"ids": [...]}`), or all (`{"all": true}`).
    Ids that are not yours, or are read already, are ignored: `marked` says how many changed."""
    agent_id = principal.agent_id if principal else None
    marked = notifications.mark_read(session, agent_id, None if body.all else body.ids, now=clock())
    return MarkedRead(marked=marked, unread=notifications.count_unread(session, agent_id))
