"""Adding teams and agents. Services flush; callers commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amends.errors import Conflict, InvalidInput, NotFound
from amends.teams.models import Agent, Team


def add_team(session: Session, name: str, *, now: datetime) -> Team:
    name = name.strip()
    if not name:
        raise InvalidInput("a team needs a name")
    if session.scalar(select(Team).where(func.lower(Team.name) == name.lower())):
        raise Conflict(f"team {name!r} already exists")
    team = Team(name=name, created_at=now)
    session.add(team)
    session.flush()
    return team


def add_agent(session: Session, name: str, email: str, *, team: str | None, now: datetime) -> Agent:
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"not an email address: {email!r}")
    if session.scalar(select(Agent).where(Agent.email == email)):
        raise Conflict(f"an agent with {email} already exists")
    team_row = None
    if team is not None:
        team_row = session.scalar(select(Team).where(func.lower(Team.name) == team.lower()))
        if team_row is None:
            raise NotFound("team", team)
    agent = Agent(name=name.strip(), email=email, team=team_row, created_at=now)
    session.add(agent)
    session.flush()
    return agent
