"""The SLA report at the edges: one JSON shape for the API and `amends report sla --json`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CaseCountsRead(_Read):
    opened: int
    resolved: int = Field(description="resolved or closed, and not reopened since")
    open: int


class DurationRead(_Read):
    count: int = Field(description="cases with this time")
    median_seconds: float | None
    median: str = Field(description='readable, e.g. "2h 5m"')
    p90_seconds: float | None
    p90: str


class ClockRead(_Read):
    met: int
    breached: int
    running: int
    attainment_pct: float | None = Field(description="met / (met + breached), in percent")


class SlaGroupRead(_Read):
    key: str = Field(description='team name ("unassigned"), priority ("none") or channel')
    cases: int
    first_response: ClockRead
    resolution: ClockRead
    next_response_breached: int = Field(description="cases that had a next-response breach")


class ReopenRead(_Read):
    resolved: int = Field(description="cases resolved at least once")
    reopened: int
    rate_pct: float | None


class CsatRead(_Read):
    answered: int
    mean: float | None = Field(description="1 .. 5")
    satisfied_pct: float | None = Field(description="share of answers 4 or 5 (CSAT %)")


class NpsRead(_Read):
    answered: int
    promoters: int
    passives: int
    detractors: int
    score: float | None = Field(description="% promoters (9-10) minus % detractors (0-6)")


class SurveysRead(_Read):
    sent: int
    answered: int
    response_rate_pct: float | None
    csat: CsatRead
    nps: NpsRead


class SlaReportRead(_Read):
    since: datetime
    until: datetime = Field(description="exclusive")
    now: datetime
    time_basis: str = Field(description="durations are wall-clock time, not business hours")
    percentile_method: str
    cases: CaseCountsRead
    first_response_time: DurationRead
    resolution_time: DurationRead
    sla: SlaGroupRead
    by_team: list[SlaGroupRead]
    by_priority: list[SlaGroupRead]
    by_channel: list[SlaGroupRead]
    reopen: ReopenRead
    surveys: SurveysRead
