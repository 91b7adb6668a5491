"""Pydantic shapes of incidents and problems at the edges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from amends.db import MAX_ID
from amends.incidents.rules import IncidentStatus, Tier

Text = Field(None, min_length=1, max_length=5000)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str | None = Field(None, max_length=254, description="who does it (email)")


class IncidentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    status: IncidentStatus
    tier: Tier
    key: str | None
    customers: int
    reach: int
    opened_at: datetime
    resolved_at: datetime | None
    opened_by: str
    problem_id: int | None
    what_happened: str | None
    who_is_affected: str | None
    what_we_are_doing: str | None
    what_will_change: str | None


class IncidentDetail(IncidentRead):
    cases: list[int]
    timeline: list[dict[str, Any]]


class IncidentIn(_In):
    title: str = Field(min_length=1, max_length=200)
    cases: list[int] = Field(default_factory=list, max_length=100_000)


class CasesIn(_In):
    cases: list[int] = Field(min_length=1, max_length=100_000)


class IncidentUpdate(_In):
    text: str | None = Text
    title: str | None = Field(None, min_length=1, max_length=200)
    what_happened: str | None = Text
    who_is_affected: str | None = Text
    what_we_are_doing: str | None = Text
    what_will_change: str | None = Text
    problem_id: int | None = Field(None, ge=1, le=MAX_ID)


class ResolveIn(_In):
    text: str | None = Text


class Statement(BaseModel):
    text: str
    blocking: bool
    findings: list[dict[str, Any]]
