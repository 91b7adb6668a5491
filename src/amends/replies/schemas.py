"""Pydantic shapes of the checker and the composer at the edges."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from amends.db import MAX_ID
from amends.replies.rules import RuleId, Severity
from amends.replies.service import MAX_REPLY_CHARS


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_REPLY_CHARS, description="the reply")
    case_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="check it as a reply on this case"
    )
    public: bool | None = Field(None, description="shown in public")
    channel: str | None = Field(
        None, max_length=60, description='"x", "email", "review:google-play" ...'
    )
    customer_name: str | None = Field(None, max_length=200, description="as they spell it")
    complaint: str | None = Field(None, max_length=MAX_REPLY_CHARS)


class FindingRead(BaseModel):
    rule: RuleId
    severity: Severity
    start: int
    end: int
    message: str
    suggestion: str


class CheckRead(BaseModel):
    blocking: bool
    findings: list[FindingRead]


class DraftFindingRead(FindingRead):
    reply: str = Field(description='"public" or "private"')


class OfferSuggestionRead(BaseModel):
    fix: str | None
    options: list[str]
    perk: str | None
    amount: Decimal | None
    currency: str
    needs_approval: bool
    reasons: list[str]


class DraftRead(BaseModel):
    case_id: int
    public: str | None = Field(description="for a public complaint: the short public reply")
    private: str = Field(description="the personal apology")
    offer: OfferSuggestionRead | None
    findings: list[DraftFindingRead]
    blocking: bool
