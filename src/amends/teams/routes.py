"""/api/v1/teams and /api/v1/agents (read-only until the playbook manages them)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from amends.api.deps import SessionDep
from amends.teams.models import Agent, Team
from amends.teams.schemas import AgentRead, TeamRead

router = APIRouter(tags=["teams"])


@router.get("/teams", summary="Teams with their agents")
def list_teams(session: SessionDep) -> list[TeamRead]:
    rows = session.scalars(select(Team).options(selectinload(Team.agents)).order_by(Team.name))
    return [TeamRead.model_validate(t) for t in rows]


@router.get("/agents", summary="Agents")
def list_agents(session: SessionDep) -> list[AgentRead]:
    return [
        AgentRead.model_validate(a) for a in session.scalars(select(Agent).order_by(Agent.name))
    ]
