"""What follow-up timers do: send the check-in, and let an unanswered one lapse."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from amends.cases import service as cases
from amends.cases.flows import TickContext
from amends.cases.rules import CaseStatus
from amends.followups import service
from amends.followups.models import FollowUp, FollowUpStatus
from amends.timers import service as timers
from amends.timers.models import Timer


def _followup(session: Session, timer: Timer) -> FollowUp | None:
    followup_id = timer.data.get("followup")
    return session.get(FollowUp, followup_id) if isinstance(followup_id, int) else None


def survey_link(session: Session, row: FollowUp, ctx: TickContext, *, now: datetime) -> str:
    token = service.sign(session, row, now=now, secret=ctx.secret)
    return f"{ctx.public_url.rstrip('/')}/survey/{token}"


def on_send(session: Session, timer: Timer, ctx: TickContext, *, at: datetime) -> None:
    """Send the check-in: by mail where the customer has an address; otherwise the follow-up
    is marked sent with its link, for an agent to pass on in the customer's channel."""
    row = _followup(session, timer)
    if row is None or row.status is not FollowUpStatus.SCHEDULED:
        return
    case = cases.get_case(session, row.case_id)
    if case.status is not CaseStatus.RESOLVED:
        row.status = FollowUpStatus.CANCELLED  # reopened or closed meanwhile
        return
    row.status = FollowUpStatus.SENT
    row.sent_at = at
    row.expires_at = at + ctx.policy.survey_expires
    row.to_addr = service.customer_email(session, case.customer_id)
    link = survey_link(session, row, ctx, now=at)
    if row.to_addr:
        from amends.outbound.service import enqueue_mail

        name = (case.customer.name or "").split()
        enqueue_mail(
            session,
            to=row.to_addr,
            subject=f"Is it sorted? (case {case.id})",
            body=service.CHECK_IN.format(name=name[0] if name else "there", link=link),
            now=at,
            kind="followup",
            case_id=case.id,
        )
    timers.schedule(
        session,
        "followup.expire",
        row.expires_at,
        now=at,
        case_id=case.id,
        data={"followup": row.id},
    )
    cases.record(
        session,
        case,
        "followup_sent",
        actor=cases.SYSTEM,
        now=at,
        to_value="mail" if row.to_addr else "link",
        data={"followup": row.id, "scale": row.scale.value},
    )
    if cases.webhooks_listening(session):
        from amends.outbound.service import emit_event

        emit_event(
            session,
            "followup.sent",
            cases.case_payload(case) | {"followup_id": row.id, "by_mail": bool(row.to_addr)},
            now=at,
        )


def on_expire(session: Session, timer: Timer, ctx: TickContext, *, at: datetime) -> None:
    """No answer in time: the link stops working and, if the playbook says so, the resolved
    case is closed."""
    row = _followup(session, timer)
    if row is None or row.status is not FollowUpStatus.SENT:
        return
    row.status = FollowUpStatus.EXPIRED
    case = cases.get_case(session, row.case_id)
    if ctx.policy.close_without_answer and case.status is CaseStatus.RESOLVED:
        cases.transition(
            session,
            case.id,
            CaseStatus.CLOSED,
            actor=cases.SYSTEM,
            now=at,
            policy=ctx.policy,
            reason="no answer to the follow-up",
        )
