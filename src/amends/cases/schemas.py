"""Pydantic shapes of cases at the edges."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from amends.cases.rules import CaseStatus, Clock
from amends.db import MAX_ID
from amends.feedback.rules import Channel

Email = str


class DeadlineRead(BaseModel):
    clock: Clock
    due: datetime
    met_at: datetime | None
    breached: bool


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    status: CaseStatus
    subject: str
    channel: Channel
    public: bool
    priority: str | None
    severity: int | None
    category: str | None
    team_id: int | None
    assignee_id: int | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    first_response_due: datetime | None
    first_responded_at: datetime | None
    next_response_due: datetime | None
    resolution_due: datetime | None
    next_due_at: datetime | None
    paused_at: datetime | None
    breaches: list[str]
    escalation_level: int
    reopened_count: int
    merged_into_id: int | None


class QueueRow(CaseRead):
    deadlines: list[DeadlineRead]
    breached: bool
    team: str | None
    assignee: str | None


class CaseEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: str
    actor: str
    from_value: str | None
    to_value: str | None
    reason: str | None
    data: dict[str, object]


class _Acting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: Email | None = Field(None, max_length=254, description="the agent acting (email)")
    reason: str | None = Field(None, max_length=2000, description="why (kept in the history)")


class StatusChange(_Acting):
    status: CaseStatus


class Assignment(_Acting):
    assignee: Email | None = Field(None, max_length=254, description="agent's email")
    team: str | None = Field(None, max_length=100, description="team name")


class ReplyIn(_Acting):
    text: str = Field(min_length=1, max_length=100_000)
    automated: bool = Field(False, description="an automatic acknowledgement: keeps no promise")
    waiting: bool = Field(False, description="then wait on the customer (pauses the clocks)")
    public: bool | None = Field(
        None, description="on a public case, false for a private reply (a direct message)"
    )
    override: str | None = Field(
        None,
        min_length=1,
        max_length=2000,
        description="send despite blocking findings of the reply checker; kept as the reason",
    )


class MergeIn(_Acting):
    absorb: int = Field(ge=1, le=MAX_ID, description="the case folded into this one")


class SplitIn(_Acting):
    feedback_ids: list[int] = Field(min_length=1, max_length=10_000)
