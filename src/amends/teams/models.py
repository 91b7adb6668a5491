"""Agents and the teams they work in. The playbook gives them owners and hours later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from amends.db import Base


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    calendar: Mapped[str | None] = mapped_column(String(100))  # a playbook calendar's name
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", use_alter=True))
    created_at: Mapped[datetime]

    agents: Mapped[list[Agent]] = relationship(
        back_populates="team", order_by="Agent.id", foreign_keys="Agent.team_id"
    )
    lead: Mapped[Agent | None] = relationship(foreign_keys=[lead_id], post_update=True)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    capacity: Mapped[int] = mapped_column(default=10)  # open cases at once
    calendar: Mapped[str | None] = mapped_column(String(100))  # working hours
    last_assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    team: Mapped[Team | None] = relationship(back_populates="agents", foreign_keys=[team_id])


class Notification(Base):
    """A message to an agent: a warning before a breach, an escalation, a bad survey answer."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_agent", "agent_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
