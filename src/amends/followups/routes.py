"""/api/v1/followups."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from amends.api.deps import PageDep, SessionDep
from amends.followups import service
from amends.followups.models import FollowUpStatus, SurveyScale

router = APIRouter(tags=["follow-ups"])


class FollowUpRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    status: FollowUpStatus
    scale: SurveyScale
    due_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None
    score: int | None
    comment: str | None


@router.get("/followups", summary="Follow-ups, newest first, with their answers")
def list_followups(
    session: SessionDep, page: PageDep, status: FollowUpStatus | None = None
) -> list[FollowUpRead]:
    rows = service.list_followups(session, status=status, limit=page.limit, offset=page.offset)
    return [FollowUpRead.model_validate(r) for r in rows]
