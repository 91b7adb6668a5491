"""Pydantic shapes of problems and corrective actions at the edges."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from amends.db import MAX_ID
from amends.problems.models import ActionStatus, ProblemStatus


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str | None = Field(None, max_length=254, description="who does it (email)")


class ProblemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    status: ProblemStatus
    category: str | None
    company_label: str | None
    terms: list[str]
    root_cause: str | None
    what_will_change: str | None
    owner: str | None
    opened_at: datetime
    fixed_at: datetime | None
    recurring_at: datetime | None
    closed_at: datetime | None
    examples: list[int]


class ProblemIn(_In):
    title: str = Field(min_length=1, max_length=200)
    category: str | None = Field(None, max_length=40)
    company_label: str | None = Field(None, max_length=200)
    terms: list[str] = Field(default_factory=list, max_length=10)
    root_cause: str | None = Field(None, max_length=5000)
    what_will_change: str | None = Field(None, max_length=5000)
    owner: str | None = Field(None, max_length=254)
    cases: list[int] = Field(default_factory=list, max_length=100_000)


class ProblemUpdate(_In):
    title: str | None = Field(None, min_length=1, max_length=200)
    root_cause: str | None = Field(None, max_length=5000)
    what_will_change: str | None = Field(None, max_length=5000)
    owner: str | None = Field(None, max_length=254)
    confirm: bool = Field(False, description="a proposed problem is real")


class LinkIn(_In):
    cases: list[int] = Field(default_factory=list, max_length=100_000)
    incident_id: int | None = Field(None, ge=1, le=MAX_ID)


class ActionIn(_In):
    title: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=3, max_length=254)
    due_at: AwareDatetime | None = Field(None, description="with its time zone")


class ActionSet(_In):
    status: ActionStatus
    note: str | None = Field(None, max_length=5000)


class ActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    problem_id: int
    title: str
    owner: str
    due_at: datetime | None
    status: ActionStatus
    done_at: datetime | None


class WeekRead(BaseModel):
    week: datetime
    complaints: int
    total: int
    before_fix: int = Field(
        description="of its complaints, those before the fix (the week of the fix is split)"
    )


class VerificationRead(BaseModel):
    before: int
    before_total: int
    before_share: float | None
    after: int
    after_total: int
    after_share: float | None
    p_value: float | None
    verdict: str


class ProblemDetail(ProblemRead):
    cases: list[int]
    actions: list[ActionRead]
    weekly: list[WeekRead]
    verification: VerificationRead | None


class DiscoverIn(_In):
    days: int = Field(30, ge=1, le=3650)
    max_topics: int | None = Field(None, ge=2, le=500)
    min_size: int = Field(5, ge=2)
    propose: bool = True
