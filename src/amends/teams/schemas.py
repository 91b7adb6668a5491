"""Pydantic shapes of teams and agents at the edges."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from amends.api.paging import PageOf
from amends.db import MAX_ID


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


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int | None
    kind: str
    message: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(PageOf[NotificationRead]):
    """The paging envelope, with the unread count and the keyset cursor for the next page."""

    unread: int
    next_before: int | None


class MarkRead(BaseModel):
    """Mark some of your notifications read (`ids`), or all of them (`all: true`)."""

    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, max_length=500)
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> MarkRead:
        if self.all == (self.ids is not None):
            raise ValueError('send either "ids" (a list) or "all": true')
        return self


class MarkedRead(BaseModel):
    marked: int  # newly marked read; ids not yours or already read are ignored
    unread: int  # your unread notifications left
