"""Pydantic shapes of cases at the edges."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from amends.cases.rules import CaseStatus
from amends.feedback.rules import Channel


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
