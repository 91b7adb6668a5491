"""Follow-ups: after a case is resolved, the desk checks back with a one-question survey."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from amends.db import Base


class FollowUpStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"  # the check-in went out (or, with no address, is ready to send by hand)
    ANSWERED = "answered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the case was reopened or closed before it went out


class SurveyScale(StrEnum):
    CSAT = "csat"  # 1 .. 5
    NPS = "nps"  # 0 .. 10


class FollowUp(Base):
    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[FollowUpStatus] = mapped_column(default=FollowUpStatus.SCHEDULED)
    scale: Mapped[SurveyScale]
    nonce: Mapped[str] = mapped_column(String(64), unique=True)  # part of the signed link
    to_addr: Mapped[str | None] = mapped_column(String(320))
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    score: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
