"""Pydantic shapes of feedback at the edges (API, JSON files, exports)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)

from amends.feedback.rules import SCORE_RANGES, Channel, Direction, ScoreScale


class FeedbackIn(BaseModel):
    """One incoming (or outgoing) item, as integrators send it. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    # No length cap here: ingest cuts long texts at the configured limit and flags them.
    text: str = Field(min_length=1)
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

    @field_validator("meta")
    @classmethod
    def _small_meta(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _depth(value) > MAX_META_DEPTH:
            raise ValueError(f"meta is nested deeper than {MAX_META_DEPTH} levels")
        return value

    @model_validator(mode="after")
    def _score_in_range(self) -> FeedbackIn:
        if self.score is None:
            return self
        if self.score_scale is None:
            raise ValueError("score needs a score_scale (stars, nps or csat)")
        low, high = SCORE_RANGES[self.score_scale]
        if not (math.isfinite(self.score) and low <= self.score <= high):
            raise ValueError(
                f"a score on the {self.score_scale} scale must be between {low} and {high}"
            )
        return self


MAX_META_DEPTH = 8


def _depth(value: Any) -> int:
    """Nesting depth, computed without recursion so that hostile input cannot exhaust it."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level > MAX_META_DEPTH:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


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
    sentiment: float | None
    severity: int | None
    category: str | None
    category_confidence: float | None
    category_source: str | None
    company_label: str | None
    company_confidence: float | None
    priority: str | None
    needs_response: bool | None
    language: str | None
    analysis: dict[str, Any] | None


class IngestResult(BaseModel):
    read: int
    new: int
    duplicates: int
    quarantined: int
    automated: int
    cases_opened: int
    already_quarantined: int
    id_clashes: int
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
