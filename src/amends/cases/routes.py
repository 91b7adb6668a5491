"""/api/v1/cases."""

from __future__ import annotations

from fastapi import APIRouter

from amends.api.deps import IdPath, IdQuery, PageDep, SessionDep
from amends.api.paging import PageOf
from amends.cases import service
from amends.cases.rules import CaseStatus
from amends.cases.schemas import CaseRead

router = APIRouter(tags=["cases"])


@router.get("/cases", summary="List cases, most recently active first")
def list_cases(
    session: SessionDep,
    page: PageDep,
    status: CaseStatus | None = None,
    customer_id: IdQuery = None,
) -> PageOf[CaseRead]:
    rows, total = service.list_cases(
        session, limit=page.limit, offset=page.offset, status=status, customer_id=customer_id
    )
    return PageOf[CaseRead](
        items=[CaseRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/cases/{case_id}", summary="One case")
def get_case(case_id: IdPath, session: SessionDep) -> CaseRead:
    return CaseRead.model_validate(service.get_case(session, case_id))
