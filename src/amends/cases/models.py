"""Cases: one recovery for one customer, gathering many feedback items."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text
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
    __table_args__ = (
        Index("ix_cases_customer_status", "customer_id", "status"),
        # The queue: open cases by priority, then the nearest deadline.
        Index("ix_cases_queue", "status", "priority", "next_due_at", "opened_at"),
    )

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
    closed_at: Mapped[datetime | None]

    # SLA clocks, set from the playbook. A clock runs while its due time is set and it is not
    # met; pausing (waiting on the customer) clears next_due_at and moves the dues on resume.
    first_response_due: Mapped[datetime | None]
    first_responded_at: Mapped[datetime | None]
    next_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]  # the nearest running due time, for the queue
    paused_at: Mapped[datetime | None]
    sla_calendar: Mapped[str | None] = mapped_column(String(100))
    playbook_version: Mapped[int | None]
    breaches: Mapped[list[str]] = mapped_column(default=list)  # clocks that went past due
    escalation_level: Mapped[int] = mapped_column(default=0)
    reopened_count: Mapped[int] = mapped_column(default=0)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))

    customer: Mapped[Customer] = relationship(back_populates="cases")
    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="case", order_by="Feedback.received_at"
    )
    team: Mapped[Team | None] = relationship()
    assignee: Mapped[Agent | None] = relationship()


class CaseEvent(Base):
    """One thing that happened to a case: who did it, when and why. Never updated."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(254))  # "agent:<email>", "system", "customer"
    from_value: Mapped[str | None] = mapped_column(String(100))
    to_value: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
