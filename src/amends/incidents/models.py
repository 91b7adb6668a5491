"""Incidents (a spike of similar complaints), their cases, timeline, and the detector's alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amends.db import Base
from amends.incidents.rules import IncidentStatus, Tier


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[IncidentStatus] = mapped_column(default=IncidentStatus.OPEN, index=True)
    tier: Mapped[Tier] = mapped_column(default=Tier.INDIVIDUAL)
    key: Mapped[str | None] = mapped_column(String(300), index=True)  # "category:billing"
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    opened_by: Mapped[str] = mapped_column(String(254))  # "detector" or "agent:<email>"
    customers: Mapped[int] = mapped_column(default=0)  # customers affected
    reach: Mapped[int] = mapped_column(default=0)  # followers of the public complaints
    # What the public statements say; the desk drafts from these.
    what_happened: Mapped[str | None] = mapped_column(Text)
    who_is_affected: Mapped[str | None] = mapped_column(Text)
    what_we_are_doing: Mapped[str | None] = mapped_column(Text)
    what_will_change: Mapped[str | None] = mapped_column(Text)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"), index=True)


class IncidentCase(Base):
    __tablename__ = "incident_cases"
    __table_args__ = (UniqueConstraint("incident_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(254))
    how: Mapped[str] = mapped_column(String(20))  # "spike", "similar", "hand"
    similarity: Mapped[float | None]


class IncidentEvent(Base):
    """The incident's timeline: every update, in order. Never updated."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(254))
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SpikeAlert(Base):
    """A spike the detector raised: kept so the same alarm is not raised twice."""

    __tablename__ = "spike_alerts"
    __table_args__ = (Index("ix_spike_alerts_key_at", "key", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    observed: Mapped[int]
    expected: Mapped[float]
    p_value: Mapped[float]
    reason: Mapped[str] = mapped_column(String(500))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))


class DetectorRun(Base):
    """When detection last ran, so the worker runs it once per interval."""

    __tablename__ = "detector_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_run_at: Mapped[datetime]
