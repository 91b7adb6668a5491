"""Feedback (every item in or out, on any channel) and the quarantine of what could not be read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from amends.db import Base
from amends.feedback.rules import Channel, Direction, ScoreScale

if TYPE_CHECKING:
    from amends.cases.models import Case
    from amends.customers.models import Customer


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        Index("ix_feedback_received_at_id", "received_at", "id"),
        Index("ix_feedback_thread", "thread_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[Direction]
    channel: Mapped[Channel]
    # "channel:source id" — unique, so that importing an item twice stores it once.
    source_key: Mapped[str] = mapped_column(String(600), unique=True)
    source_id: Mapped[str] = mapped_column(String(580))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_handle: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    public: Mapped[bool]
    reach: Mapped[int | None]
    received_at: Mapped[datetime]
    # Groups the turns of one conversation (email thread root, tweet conversation id).
    thread_key: Mapped[str | None] = mapped_column(String(600))
    in_reply_to: Mapped[str | None] = mapped_column(String(600))
    score: Mapped[float | None]
    score_scale: Mapped[ScoreScale | None]
    # Auto-replies, bulk mail and such: stored, never opened as a complaint.
    automated: Mapped[bool] = mapped_column(default=False)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ingested_at: Mapped[datetime]
    # What analysis found (amends.analysis); None for our own replies.
    sentiment: Mapped[float | None]
    severity: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(String(40), index=True)
    category_confidence: Mapped[float | None]
    category_source: Mapped[str | None] = mapped_column(String(10))  # "model" or "agent"
    company_label: Mapped[str | None] = mapped_column(String(200))
    company_confidence: Mapped[float | None]
    priority: Mapped[str | None] = mapped_column(String(2))
    needs_response: Mapped[bool | None]
    language: Mapped[str | None] = mapped_column(String(8))
    analysis: Mapped[dict[str, Any] | None]

    customer: Mapped[Customer | None] = relationship()
    case: Mapped[Case | None] = relationship(back_populates="feedback")


class QuarantineStatus(StrEnum):
    PENDING = "pending"
    RELEASED = "released"  # retried and ingested
    DISCARDED = "discarded"


class QuarantinedItem(Base):
    """An item that could not be parsed, kept with its reason and raw bytes until someone acts."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(1000))  # file path, "api", "imap:NAME"
    location: Mapped[str] = mapped_column(String(200))  # "line 12", "message 3", "row 7"
    format: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    raw_truncated: Mapped[bool] = mapped_column(default=False)
    # What the parser needs to read `raw` again (CSV column names, the header row, ...).
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default=QuarantineStatus.PENDING, index=True)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)


class IdempotentRequest(Base):
    """A POST answered once under an Idempotency-Key; a retry gets the same answer."""

    __tablename__ = "idempotent_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]]
    status_code: Mapped[int]
    created_at: Mapped[datetime]
