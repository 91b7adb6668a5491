"""Scheduling follow-ups, signing survey links, and taking answers. Services flush; callers
commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.customers.models import Identity
from amends.customers.rules import IdentityKind
from amends.errors import Conflict, InvalidInput, NotFound
from amends.followups.models import FollowUp, FollowUpStatus, SurveyScale
from amends.keys import signing_key
from amends.playbook.rules import Policy
from amends.timers import service as timers

MAX_TOKEN_CHARS = 500  # ours are under 100; anything longer is not one of them
SCALES: dict[SurveyScale, tuple[int, int]] = {SurveyScale.CSAT: (1, 5), SurveyScale.NPS: (0, 10)}


def verdict(scale: SurveyScale, score: int) -> str:
    """ "good", "neutral" or "bad": CSAT 4-5 / 3 / 1-2; NPS promoters 9-10 / passives 7-8 /
    detractors 0-6."""
    if scale is SurveyScale.CSAT:
        return "good" if score >= 4 else "neutral" if score == 3 else "bad"
    return "good" if score >= 9 else "neutral" if score >= 7 else "bad"


def schedule_followup(session: Session, case: Case, *, policy: Policy, now: datetime) -> FollowUp:
    """After a resolution: a check-in due after the playbook's delay. Any earlier one that
    has not gone out yet is replaced."""
    session.execute(
        update(FollowUp)
        .where(FollowUp.case_id == case.id, FollowUp.status == FollowUpStatus.SCHEDULED)
        .values(status=FollowUpStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    row = FollowUp(
        case_id=case.id,
        status=FollowUpStatus.SCHEDULED,
        scale=SurveyScale(policy.survey),
        nonce=secrets.token_urlsafe(16),
        due_at=now + policy.followup_delay,
        created_at=now,
    )
    session.add(row)
    session.flush()
    timers.schedule(
        session, "followup.send", row.due_at, now=now, case_id=case.id, data={"followup": row.id}
    )
    return row


def _serializer(
    session: Session, *, now: datetime, secret: str | None, create: bool = True
) -> URLSafeSerializer:
    key = signing_key(session, "survey-links", now=now, override=secret, create=create)
    if key is None:
        raise NotFound("survey", "this link")
    return URLSafeSerializer(key, salt="amends.survey")


def sign(session: Session, row: FollowUp, *, now: datetime, secret: str | None) -> str:
    token = _serializer(session, now=now, secret=secret).dumps([row.id, row.nonce])
    assert isinstance(token, str)
    return token


@dataclass(frozen=True)
class Survey:
    followup: FollowUp
    case: Case
    low: int
    high: int


def open_survey(session: Session, token: str, *, now: datetime, secret: str | None) -> Survey:
    """The follow-up a link stands for. A link that was tampered with, or is for another
    follow-up, is not found; one past its expiry is refused."""
    if len(token) > MAX_TOKEN_CHARS:
        raise NotFound("survey", "this link")
    try:
        serializer = _serializer(session, now=now, secret=secret, create=False)
        followup_id, nonce = serializer.loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("survey", "this link") from None
    row = session.get(FollowUp, followup_id) if isinstance(followup_id, int) else None
    if row is None or not secrets.compare_digest(str(nonce), row.nonce):
        raise NotFound("survey", "this link")
    if row.status in (FollowUpStatus.CANCELLED, FollowUpStatus.SCHEDULED):
        raise NotFound("survey", "this link")
    if row.status is not FollowUpStatus.ANSWERED and (
        row.status is FollowUpStatus.EXPIRED or (row.expires_at and now >= row.expires_at)
    ):
        raise Conflict("this survey has expired")
    low, high = SCALES[row.scale]
    case = session.get(Case, row.case_id)
    assert case is not None
    return Survey(row, case, low, high)


def answer(
    session: Session,
    token: str,
    score: int,
    *,
    comment: str | None,
    now: datetime,
    secret: str | None,
    policy: Policy,
) -> tuple[FollowUp, str]:
    """Record the customer's answer (once: a second press changes nothing) and act on it: a
    bad one reopens the case and tells its owner, a good one closes it with thanks, a middling
    one closes it. Returns the follow-up and its verdict. For a case merged since, the answer
    acts on the case it was merged into."""
    from amends.cases import flows as case_flows
    from amends.cases import service as cases
    from amends.cases.rules import CaseStatus

    survey = open_survey(session, token, now=now, secret=secret)
    row, case = survey.followup, survey.case
    # A case merged since lives on in the case it was folded into: the answer acts there.
    for _ in range(100):
        if case.merged_into_id is None:
            break
        case = cases.get_case(session, case.merged_into_id)
    if not survey.low <= score <= survey.high:
        raise InvalidInput(f"score must be {survey.low} to {survey.high}")
    # Lock the row and read it again: of two presses at once (a double click), the second
    # waits for the first and then finds it answered (PostgreSQL; SQLite writers queue anyway).
    session.refresh(row, with_for_update=True)
    if row.status is FollowUpStatus.ANSWERED:
        assert row.score is not None
        return row, verdict(row.scale, row.score)
    if row.status is not FollowUpStatus.SENT:  # it lapsed while this answer was on its way
        raise Conflict("this survey has expired")
    row.status = FollowUpStatus.ANSWERED
    row.answered_at = now
    row.score = score
    row.comment = (comment or "").strip()[:5000] or None
    timers.cancel(session, [row.case_id], kinds=["followup.expire"])
    said = verdict(row.scale, score)
    data = {"followup": row.id, "scale": row.scale.value, "score": score, "verdict": said}
    cases.record(session, case, "survey_answered", actor=cases.CUSTOMER, now=now, data=data)
    if said == "bad":
        if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            cases.transition(
                session,
                case.id,
                CaseStatus.IN_PROGRESS,
                actor=cases.CUSTOMER,
                now=now,
                policy=policy,
                reason=f"unhappy with the fix: {row.scale.value.upper()} {score}",
            )
        case_flows.notify(
            session,
            case,
            ["assignee", "team_lead"],
            kind="bad_survey",
            message=f"case #{case.id} reopened: the customer answered "
            f"{row.scale.value.upper()} {score}",
            at=now,
            policy=policy,
        )
    elif case.status is CaseStatus.RESOLVED:
        cases.transition(
            session,
            case.id,
            CaseStatus.CLOSED,
            actor=cases.CUSTOMER,
            now=now,
            policy=policy,
            reason=f"follow-up answered {row.scale.value.upper()} {score}",
        )
        if said == "good" and row.to_addr:
            from amends.outbound.service import enqueue_mail

            enqueue_mail(
                session,
                to=row.to_addr,
                subject="Thank you",
                body=_THANKS.format(name=_first_name(case)),
                now=now,
                kind="followup.thanks",
                case_id=case.id,
            )
    session.flush()
    return row, said


def customer_email(session: Session, customer_id: int) -> str | None:
    return session.scalar(
        select(Identity.display)
        .where(Identity.customer_id == customer_id, Identity.kind == IdentityKind.EMAIL)
        .order_by(Identity.id)
        .limit(1)
    )


def _first_name(case: Case) -> str:
    name = (case.customer.name or "").strip()
    return name.split()[0] if name else "there"


def list_followups(
    session: Session, *, status: FollowUpStatus | None, limit: int, offset: int = 0
) -> list[FollowUp]:
    query = select(FollowUp)
    if status is not None:
        query = query.where(FollowUp.status == status)
    return list(session.scalars(query.order_by(FollowUp.id.desc()).limit(limit).offset(offset)))


_THANKS = """Hi {name},

Thank you for answering, and for giving us the chance to put things right.
We are glad it is sorted. If anything else goes wrong, reply to this mail and it reaches us.
"""

CHECK_IN = """Hi {name},

We put right the problem you told us about, and want to be sure it stays that way.
Was it resolved to your satisfaction? One click tells us:

{link}

If it was not, we will pick it up again straight away.
"""
