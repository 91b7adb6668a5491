"""Reading cases. Opening and joining happen in feedback ingest; the lifecycle grows later."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.cases.rules import CaseStatus
from amends.errors import NotFound


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", case_id)
    return case


def list_cases(
    session: Session,
    *,
    limit: int,
    offset: int = 0,
    status: CaseStatus | None = None,
    customer_id: int | None = None,
) -> tuple[list[Case], int]:
    query = select(Case)
    if status is not None:
        query = query.where(Case.status == status)
    if customer_id is not None:
        query = query.where(Case.customer_id == customer_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Case.updated_at.desc(), Case.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total
