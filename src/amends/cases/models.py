"""Cases: one recovery for one customer, gathering many feedback items."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from amends.cases.rules import CaseStatus
from amends.db import Base
from amends.feedback.rules import Channel

if TYPE_CHECKING:
    from amends.customers.models import Customer
    from amends.feedback.models import Feedback
    from amends.teams.models import Agent, Team


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[CaseStatus] = mapped_column(default=CaseStatus.NEW)
    subject: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel]  # where the first complaint came in
    public: Mapped[bool]
    # The most urgent of its complaints' analyses: P1 .. P4, and that complaint's category.
    priority: Mapped[str | None] = mapped_column(String(2), index=True)
    severity: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(String(40))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="cases")
    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="case", order_by="Feedback.received_at"
    )
    team: Mapped[Team | None] = relationship()
    assignee: Mapped[Agent | None] = relationship()
