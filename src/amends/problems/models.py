"""Problems (root causes), the cases they explain, and their corrective actions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amends.db import Base


class ProblemStatus(StrEnum):
    PROPOSED = "proposed"  # suggested by topic discovery; a person confirms it
    OPEN = "open"
    FIXED = "fixed"  # the fix is in; the complaint rate proves it or not
    RECURRING = "recurring"  # complaints came back after the fix
    CLOSED = "closed"  # verified, or dismissed


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Problem(Base):
    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[ProblemStatus] = mapped_column(default=ProblemStatus.OPEN, index=True)
    # What counts as one of its complaints, for the rate before and after the fix: a default
    # category, a company taxonomy label, or the words of a discovered topic.
    category: Mapped[str | None] = mapped_column(String(40))
    company_label: Mapped[str | None] = mapped_column(String(200))
    terms: Mapped[list[str]] = mapped_column(default=list)
    root_cause: Mapped[str | None] = mapped_column(Text)
    what_will_change: Mapped[str | None] = mapped_column(Text)  # what replies promise
    owner: Mapped[str | None] = mapped_column(String(254))
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(254))
    fixed_at: Mapped[datetime | None]
    recurring_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    examples: Mapped[list[int]] = mapped_column(JSON, default=list)  # feedback ids, proposed


class ProblemCase(Base):
    __tablename__ = "problem_cases"
    __table_args__ = (UniqueConstraint("problem_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(254))


class CorrectiveAction(Base):
    __tablename__ = "corrective_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(254))
    due_at: Mapped[datetime | None]
    status: Mapped[ActionStatus] = mapped_column(default=ActionStatus.OPEN)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
