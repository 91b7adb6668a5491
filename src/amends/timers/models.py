"""Timers: work due at a moment, kept in the database so that a restart loses none."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from amends.db import Base


class TimerStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due", "status", "due_at"),
        Index("ix_timers_case", "case_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "sla.warning", "followup.send", ...
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    clock: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime]
    status: Mapped[TimerStatus] = mapped_column(default=TimerStatus.PENDING)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
