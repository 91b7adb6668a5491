"""Pydantic shapes of feedback at the edges (API, JSON files, exports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator

from amends.feedback.rules import Channel, Direction, ScoreScale


class FeedbackIn(BaseModel):
    """One incoming (or outgoing) item, as integrators send it. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1_000_000)
    channel: Channel = Channel.WEB
    direction: Direction = Direction.IN
    received_at: AwareDatetime | None = None
    source_id: str | None = Field(default=None, max_length=500)
    author_name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    handle: str | None = Field(default=None, max_length=100)
    platform: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)
    customer_ref: str | None = Field(default=None, max_length=200)
    order_ref: str | None = Field(default=None, max_length=200)
    public: bool | None = None
    reach: int | None = Field(default=None, ge=0)
    subject: str | None = Field(default=None, max_length=500)
    thread_id: str | None = Field(default=None, max_length=500)
    in_reply_to: str | None = Field(default=None, max_length=500)
    score: float | None = None
    score_scale: ScoreScale | None = None
    automated: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("text")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    direction: Direction
    channel: Channel
    customer_id: int | None
    case_id: int | None
    author_name: str | None
    author_handle: str | None
    subject: str | None
    text: str
    public: bool
    reach: int | None
    received_at: datetime
    source_id: str
    thread_key: str | None
    score: float | None
    score_scale: ScoreScale | None
    automated: bool


class IngestResult(BaseModel):
    read: int
    new: int
    duplicates: int
    quarantined: int
    automated: int
    cases_opened: int
    errors: list[str]
    feedback_ids: list[int]


class QuarantineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    origin: str
    location: str
    format: str
    reason: str
    status: str
    raw_truncated: bool
    created_at: datetime
