"""/api/v1/reports: read-only figures over the desk's cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from amends.api.deps import ClockDep, SessionDep
from amends.offers.schemas import OfferReportRead
from amends.reports import service
from amends.reports.schemas import SlaReportRead

router = APIRouter(tags=["reports"])

_BOUND = "ISO-8601 date or date and time; a naive one is UTC"


@router.get("/reports/sla", summary="SLA attainment, response times, reopens and surveys")
def sla_report(
    session: SessionDep,
    clock: ClockDep,
    since: Annotated[
        datetime | None, Query(description=f"{_BOUND}; default until - 30 days")
    ] = None,
    until: Annotated[
        datetime | None, Query(description=f"{_BOUND}; exclusive; default now")
    ] = None,
) -> SlaReportRead:
    """Over the cases opened in [since, until), merged cases left out; times are wall-clock."""
    report = service.sla_report(session, since=since, until=until, now=clock())
    return SlaReportRead.model_validate(report)


@router.get(
    "/reports/offers",
    summary="Compensation: spend against the budget, acceptance, vouchers, comebacks",
)
def offers_report(
    session: SessionDep,
    clock: ClockDep,
    since: Annotated[
        datetime | None, Query(description=f"{_BOUND}; default until - 30 days")
    ] = None,
    until: Annotated[
        datetime | None, Query(description=f"{_BOUND}; exclusive; default now")
    ] = None,
) -> OfferReportRead:
    """Over the offers created in [since, until); `definitions` says what each figure counts."""
    from amends.offers.service import offers_report as build
    from amends.playbook.service import active_policy

    report = build(session, since=since, until=until, now=clock(), policy=active_policy(session))
    return OfferReportRead.model_validate(report)


@router.get("/reports/trends", summary="Weekly volume and sentiment, causes, incidents")
def trends_report(
    session: SessionDep,
    clock: ClockDep,
    weeks: Annotated[int, Query(ge=1, le=260, description="weeks back from now")] = 12,
) -> dict[str, object]:
    """Weekly volume and sentiment by category and channel, the top causes with their
    complaints before and after their fixes, and incidents on a timeline."""
    from amends.playbook.service import active_policy
    from amends.reports.trends import trends

    return trends(session, now=clock(), policy=active_policy(session), weeks=weeks)
