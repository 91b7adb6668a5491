"""Pydantic shapes of teams and agents at the edges."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AgentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    team_id: int | None
    active: bool


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    agents: list[AgentRead]
