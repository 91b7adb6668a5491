"""What the checker found in each reply that left the desk: the record coaching reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from amends.db import Base


class ReplyFinding(Base):
    """One finding of the checker on one sent reply. Never updated."""

    __tablename__ = "reply_findings"
    __table_args__ = (Index("ix_reply_findings_agent_at", "agent_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id"), index=True)  # the reply
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    at: Mapped[datetime]
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    overridden: Mapped[bool] = mapped_column(default=False)  # sent despite a blocking finding
