"""/api/v1/check and /api/v1/cases/{id}/draft."""

from __future__ import annotations

from fastapi import APIRouter

from amends.api.auth import PrincipalDep
from amends.api.deps import ClockDep, IdPath, SessionDep
from amends.cases.service import get_case
from amends.playbook.service import active_policy
from amends.replies import service
from amends.replies.schemas import CheckIn, CheckRead, DraftRead
from amends.users.service import check_case_visible

router = APIRouter(tags=["replies"])


@router.post("/check", summary="Check a reply before it is sent")
def check(body: CheckIn, session: SessionDep, principal: PrincipalDep) -> CheckRead:
    """The reply checker's findings, each with its rule, severity, span, message and fix.
    `blocking` is true when a finding stops sending."""
    if body.case_id is not None and principal is not None and principal.team_ids is not None:
        # The case's context (the customer's name, what they wrote) is the case's team's.
        check_case_visible(principal, get_case(session, body.case_id))
    result = service.check(
        session,
        body.text,
        policy=active_policy(session),
        case_id=body.case_id,
        public=body.public,
        channel=body.channel,
        customer_name=body.customer_name,
        complaint=body.complaint,
    )
    return CheckRead.model_validate(result.to_dict())


@router.get("/cases/{case_id}/draft", summary="Draft the replies a case needs")
def draft(case_id: IdPath, session: SessionDep, clock: ClockDep) -> DraftRead:
    """A public reply for a public complaint and a personal private apology, each passing the
    checker, with the suggested offer."""
    result = service.draft(session, case_id, policy=active_policy(session), now=clock())
    return DraftRead.model_validate(result.to_dict())
