"""Offers: suggesting, making, approving and answering them; vouchers and their redemption;
the abusive flag. Services flush; callers commit. Every change to an offer is a case event."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from amends.cases import service as cases
from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES
from amends.customers.models import Customer
from amends.db import chunked
from amends.errors import Conflict, Forbidden, Gone, InvalidInput, InvalidTransition, NotFound
from amends.feedback.models import Feedback
from amends.feedback.rules import Direction
from amends.offers.models import Offer, Voucher
from amends.offers.report import (
    CAME_BACK_AFTER,
    CAME_BACK_WITHIN,
    OfferFact,
    OfferReport,
    offer_report,
)
from amends.offers.rules import (
    FIXES,
    ROLES,
    SPENT,
    VOUCHER_KINDS,
    CustomerValue,
    OfferStatus,
    PastOffer,
    RemedyKind,
    Suggestion,
    can_transition,
    ceiling,
    is_spend,
    mask_code,
    money,
    normalise_code,
    suggest,
    value_tier,
    voucher_code,
    voucher_state,
)
from amends.playbook.rules import Policy
from amends.teams.models import Agent, Team

MAX_AMOUNT = Decimal(1_000_000)
MAX_REF = 200
# Feedback analyses say "none" when the customer asked for nothing in particular.
_NO_ASK = ("", "none")


# ---- reading --------------------------------------------------------------------------------


def get_offer(session: Session, offer_id: int) -> Offer:
    offer = session.get(Offer, offer_id, options=[selectinload(Offer.voucher)])
    if offer is None:
        raise NotFound("offer", offer_id)
    return offer


def list_offers(
    session: Session,
    *,
    limit: int,
    offset: int = 0,
    case_id: int | None = None,
    customer_id: int | None = None,
    status: OfferStatus | None = None,
) -> tuple[list[Offer], int]:
    """Offers, newest first, with the total matching count."""
    query = select(Offer)
    if case_id is not None:
        query = query.where(Offer.case_id == case_id)
    if customer_id is not None:
        query = query.where(Offer.customer_id == customer_id)
    if status is not None:
        query = query.where(Offer.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(selectinload(Offer.voucher))
        .order_by(Offer.created_at.desc(), Offer.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def get_voucher(session: Session, code: str) -> Voucher:
    """A voucher by its code as typed: any case, with or without dashes and spaces."""
    key = normalise_code(code)
    voucher = (
        session.scalar(
            select(Voucher).where(Voucher.code == key).options(selectinload(Voucher.offer))
        )
        if key
        else None
    )
    if voucher is None:
        raise NotFound("voucher", code.strip()[:40])
    return voucher


def history_of(session: Session, customer_id: int) -> list[PastOffer]:
    """The customer's earlier offers as (kind, amount, status)."""
    rows = session.execute(
        select(Offer.kind, Offer.amount, Offer.status)
        .where(Offer.customer_id == customer_id)
        .order_by(Offer.id)
    )
    return [(kind.value, amount, status.value) for kind, amount, status in rows]


def _month_start(now: datetime) -> datetime:
    moment = now.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next_month(start: datetime) -> datetime:
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def month_spend(session: Session, *, now: datetime) -> Decimal:
    """What signs of apology made this calendar month (UTC) cost: offers made, accepted or
    redeemed; fixes (refunds, replacements) are not compensation and do not count."""
    start = _month_start(now)
    total = session.scalar(
        select(func.coalesce(func.sum(Offer.amount), 0)).where(
            Offer.status.in_(list(SPENT)),
            Offer.kind.not_in(list(FIXES)),
            Offer.made_at >= start,
            Offer.made_at < _next_month(start),
        )
    )
    return Decimal(total or 0)


def role_of(session: Session, agent: Agent) -> str:
    """The agent's role for caps and approvals: "lead" if they lead a team, else "agent"."""
    leads = session.scalar(select(func.count()).select_from(Team).where(Team.lead_id == agent.id))
    return "lead" if leads else "agent"


def _agent(session: Session, email: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        raise NotFound("agent", email)
    if not agent.active:
        raise InvalidInput(f"agent {agent.email} is not active")
    return agent


def _live_case(session: Session, case_id: int) -> Case:
    case = cases.get_case(session, case_id)
    if case.merged_into_id is not None:
        raise InvalidTransition(
            f"case {case.id} was merged into case {case.merged_into_id}: offer there"
        )
    return case


# ---- suggesting -----------------------------------------------------------------------------


def _asked(session: Session, case: Case) -> str | None:
    """The remedy the customer asked for, in their latest complaint on the case that asked."""
    rows = session.scalars(
        select(Feedback.analysis)
        .where(Feedback.case_id == case.id, Feedback.direction == Direction.IN)
        .order_by(Feedback.received_at.desc(), Feedback.id.desc())
    )
    for analysis in rows:
        remedy = (analysis or {}).get("remedy") or {}
        asked = remedy.get("asked") if isinstance(remedy, dict) else None
        if isinstance(asked, str) and asked.strip().lower() not in _NO_ASK:
            return asked
    return None


def _severity(session: Session, case: Case) -> int | None:
    if case.severity is not None:
        return case.severity
    return session.scalar(select(func.max(Feedback.severity)).where(Feedback.case_id == case.id))


def customer_value(session: Session, case: Case, *, policy: Policy, now: datetime) -> CustomerValue:
    """The customer's value tier (new, repeat, loyal, high_value) as of this case."""
    customer = case.customer
    earlier = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.customer_id == customer.id,
            Case.id != case.id,
            Case.opened_at < case.opened_at,
            Case.merged_into_id.is_(None),
        )
    )
    return value_tier(
        lifetime_value=customer.lifetime_value,
        customer_since=customer.customer_since,
        order_count=customer.order_count,
        earlier_cases=earlier or 0,
        now=now,
        high_value_over=policy.compensation.high_value_over,
    )


def suggest_for_case(
    session: Session, case_id: int, *, policy: Policy, role: str = "agent", now: datetime
) -> Suggestion | None:
    """What the desk would offer on this case (see offers.rules.suggest), from the case's
    severity and category, the remedy asked for, the customer's value, their offers so far,
    the abusive flag and this month's spend. Reads only; None when the apology is enough."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use {' or '.join(ROLES)}")
    case = cases.get_case(session, case_id)
    customer = case.customer
    return suggest(
        _severity(session, case),
        case.category,
        asked=_asked(session, case),
        value=customer_value(session, case, policy=policy, now=now),
        history=history_of(session, customer.id),
        abusive=customer.abusive,
        spent_this_month=month_spend(session, now=now),
        policy=policy.compensation,
        role=role,
    )


# ---- making and deciding --------------------------------------------------------------------


def parse_amount(value: Decimal | float | str | None) -> Decimal | None:
    """An amount of money as given (text, number), checked: 0 to a million, two decimals."""
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"amount: not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise InvalidInput(f"amount: between 0 and {MAX_AMOUNT:,}")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("amount: at most two decimal places")
    return amount.quantize(Decimal("0.01"))


def _event_data(offer: Offer, **extra: Any) -> dict[str, Any]:
    return {
        "offer_id": offer.id,
        "kind": offer.kind.value,
        "amount": None if offer.amount is None else f"{offer.amount:f}",
        "currency": offer.currency,
        **extra,
    }


def _record(
    session: Session,
    offer: Offer,
    kind: str,
    *,
    actor: str,
    now: datetime,
    previous: OfferStatus | None,
    reason: str | None = None,
    **extra: Any,
) -> None:
    case = session.get(Case, offer.case_id)
    assert case is not None
    case.updated_at = max(case.updated_at, now)
    cases.record(
        session,
        case,
        kind,
        actor=actor,
        now=now,
        from_value=previous.value if previous else None,
        to_value=offer.status.value,
        reason=reason,
        data=_event_data(offer, **extra),
    )


def _issue_voucher(session: Session, offer: Offer, *, policy: Policy, now: datetime) -> None:
    if offer.kind not in VOUCHER_KINDS or offer.voucher is not None:
        return
    code = voucher_code(secrets.token_bytes(10))
    while session.scalar(select(Voucher.id).where(Voucher.code == code)) is not None:
        code = voucher_code(secrets.token_bytes(10))  # 80 bits: all but never happens
    offer.voucher = Voucher(
        code=code, created_at=now, expires_at=now + policy.compensation.voucher_expires
    )


def _put(session: Session, offer: Offer, *, policy: Policy, now: datetime) -> None:
    """The offer goes to the customer: made, with its voucher if its kind has one."""
    offer.status = OfferStatus.MADE
    offer.made_at = now
    _issue_voucher(session, offer, policy=policy, now=now)


def _approvers(session: Session, case: Case, maker: Agent, policy: Policy) -> list[Agent]:
    """Who approves: the lead of the case's team, else of the maker's team, else every lead."""
    team_ids = [case.team_id, maker.team_id]
    owner = policy.owner(case.category)
    if case.team_id is None and owner:
        team_ids.insert(1, session.scalar(select(Team.id).where(Team.name == owner)))
    for team_id in team_ids:
        team = session.get(Team, team_id) if team_id is not None else None
        if team is not None and team.lead_id is not None:
            lead = session.get(Agent, team.lead_id)
            if lead is not None and lead.active:
                return [lead]
    leads = session.scalars(
        select(Agent).join(Team, Team.lead_id == Agent.id).where(Agent.active).order_by(Agent.id)
    )
    return list(dict.fromkeys(leads))


def approval_reasons(
    *,
    kind: RemedyKind,
    amount: Decimal | None,
    role: str,
    policy: Policy,
    spent_this_month: Decimal,
    history: Sequence[PastOffer],
    abusive: bool,
) -> list[str]:
    """Why an offer needs a lead's approval; empty when the maker may make it alone. Fixes give
    back what was owed: no cap or budget applies to them."""
    comp = policy.compensation
    if amount is None or not is_spend(kind):
        return []
    reasons: list[str] = []
    cap = comp.caps.get(role)
    if cap is not None and amount > cap:
        reasons.append(f"over the {role} cap of {money(cap, comp.currency)}")
    if comp.monthly_budget is not None and spent_this_month + amount > comp.monthly_budget:
        reasons.append(
            f"over the monthly budget ({money(spent_this_month, comp.currency)} of "
            f"{money(comp.monthly_budget, comp.currency)} spent)"
        )
    limit, why = ceiling(history, abusive=abusive)
    if role != "lead" and limit is not None and why is not None and amount > limit:
        reasons.append(
            "more than the customer was offered before: " + why.format(money(limit, comp.currency))
        )
    return reasons


def make_offer(
    session: Session,
    case_id: int,
    *,
    kind: RemedyKind,
    amount: Decimal | None,
    by: str,
    now: datetime,
    policy: Policy,
    note: str | None = None,
) -> Offer:
    """Offer a remedy on a case. Above the maker's cap, over the month's budget, or more than a
    refused (or, for an abusive customer, any earlier) offer, it waits for a lead's approval and
    the lead is notified; else it is made, with a voucher for voucher, discount and gift."""
    case = _live_case(session, case_id)
    maker = _agent(session, by)
    role = role_of(session, maker)
    kind = RemedyKind(kind)
    value = parse_amount(amount)
    comp = policy.compensation
    if is_spend(kind) and not value:
        raise InvalidInput(f"a {kind.value} needs its value: give an amount above 0")
    top = max(comp.caps.values(), default=None)
    if is_spend(kind) and value is not None and top is not None and value > top:
        raise InvalidInput(
            f"{money(value, comp.currency)} is over every cap (the largest is "
            f"{money(top, comp.currency)}): no one can approve it"
        )
    # A second click, a retried call or a second agent must not give the customer the same
    # twice: an open offer of the same kind and value on the case is refused.
    same = session.scalar(
        select(Offer.id).where(
            Offer.case_id == case.id,
            Offer.kind == kind,
            Offer.amount == value if value is not None else Offer.amount.is_(None),
            Offer.status.in_([OfferStatus.MADE, OfferStatus.PENDING_APPROVAL]),
        )
    )
    if same is not None:
        raise Conflict(
            f"offer #{same} already gives this customer the same; withdraw it first, or offer "
            "something else"
        )
    customer = case.customer
    history = history_of(session, customer.id)
    suggestion = suggest_for_case(session, case.id, policy=policy, role=role, now=now)
    why = approval_reasons(
        kind=kind,
        amount=value,
        role=role,
        policy=policy,
        spent_this_month=month_spend(session, now=now),
        history=history,
        abusive=customer.abusive,
    )
    offer = Offer(
        case_id=case.id,
        customer_id=customer.id,
        kind=kind,
        amount=value,
        currency=comp.currency,
        status=OfferStatus.PENDING_APPROVAL,
        made_by=maker.email,
        note=note.strip() if note and note.strip() else None,
        created_at=now,
        suggestion=suggestion.to_dict() if suggestion else None,
    )
    session.add(offer)
    actor = f"agent:{maker.email}"
    if why:
        session.flush()
        reason = "; ".join(why) + ": a lead approves"
        _record(session, offer, "offer_pending", actor=actor, now=now, previous=None, reason=reason)
        from amends.cases.flows import notify

        leads = [a for a in _approvers(session, case, maker, policy) if a.id != maker.id]
        shown = money(value, comp.currency) if value is not None else ""
        notify(
            session,
            case,
            [lead.email for lead in leads],
            kind="offer.approval",
            message=(
                f"Offer {offer.id} on case {case.id} waits for your approval: {kind.value} "
                f"{shown} by {maker.email} ({'; '.join(why)})"
            ),
            at=now,
            policy=policy,
        )
    else:
        _put(session, offer, policy=policy, now=now)
        session.flush()
        _record(
            session,
            offer,
            "offer_made",
            actor=actor,
            now=now,
            previous=None,
            reason=offer.note,
            **_voucher_data(offer),
        )
    session.flush()
    return offer


def _voucher_data(offer: Offer) -> dict[str, Any]:
    voucher = offer.voucher
    if voucher is None:
        return {}
    return {"voucher": mask_code(voucher.code), "expires_at": voucher.expires_at.isoformat()}


def _move(offer: Offer, target: OfferStatus, verb: str) -> OfferStatus:
    previous = offer.status
    if not can_transition(previous, target):
        raise InvalidTransition(f"offer {offer.id} is {previous.value}: it cannot be {verb}")
    return previous


def approve(session: Session, offer_id: int, *, by: str, now: datetime, policy: Policy) -> Offer:
    """A lead approves an offer waiting for approval: it is made, and its voucher issued. Only a
    team lead whose cap covers the amount approves."""
    offer = get_offer(session, offer_id)
    previous = _move(offer, OfferStatus.MADE, "approved")
    if previous is not OfferStatus.PENDING_APPROVAL:
        raise InvalidTransition(f"offer {offer.id} is {previous.value}: nothing to approve")
    approver = _agent(session, by)
    comp = policy.compensation
    if role_of(session, approver) != "lead":
        raise Forbidden(f"{approver.email} leads no team: only a team lead approves offers")
    cap = comp.caps.get("lead")
    if offer.amount is not None and cap is not None and offer.amount > cap:
        raise Forbidden(
            f"{money(offer.amount, offer.currency)} is over the lead cap of "
            f"{money(cap, comp.currency)}"
        )
    offer.approved_by = approver.email
    offer.approved_at = now
    _put(session, offer, policy=policy, now=now)
    session.flush()
    actor = f"agent:{approver.email}"
    _record(
        session,
        offer,
        "offer_approved",
        actor=actor,
        now=now,
        previous=previous,
        **_voucher_data(offer),
    )
    if offer.made_by != approver.email:
        from amends.cases.flows import notify

        case = session.get(Case, offer.case_id)
        assert case is not None
        notify(
            session,
            case,
            [offer.made_by],
            kind="offer.approved",
            message=f"Offer {offer.id} on case {case.id} was approved by {approver.email}",
            at=now,
            policy=policy,
        )
    session.flush()
    return offer


def _void(session: Session, offer: Offer, *, now: datetime) -> None:
    """Cancel the offer's unused voucher; refuse if the customer has used it already."""
    voucher = offer.voucher
    if voucher is None:
        return
    done = session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.redeemed_at.is_(None))
        .values(voided_at=func.coalesce(Voucher.voided_at, now))
        .execution_options(synchronize_session=False)
    )
    session.refresh(voucher)
    if done.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(f"offer {offer.id}: its voucher was redeemed already")


def _actor(by: str | None, default: str) -> str:
    return f"agent:{by.strip().lower()}" if by and by.strip() else default


def _decide(
    session: Session,
    offer_id: int,
    target: OfferStatus,
    *,
    now: datetime,
    actor: str,
    reason: str | None = None,
    void: bool = False,
) -> Offer:
    """The offer's answer: its new status and reason, its voucher void if asked, an event."""
    offer = get_offer(session, offer_id)
    previous = _move(offer, target, target.value)
    if void:
        _void(session, offer, now=now)
    offer.status = target
    offer.decided_at = now
    answered = target is OfferStatus.ACCEPTED
    if not answered:
        offer.reason = reason.strip() if reason and reason.strip() else None
    _record(
        session,
        offer,
        f"offer_{target.value}",
        actor=actor,
        now=now,
        previous=previous,
        reason=None if answered else offer.reason,
    )
    session.flush()
    return offer


def accept(session: Session, offer_id: int, *, now: datetime, by: str | None = None) -> Offer:
    """The customer accepted the offer (`by`: the agent who records it)."""
    return _decide(
        session, offer_id, OfferStatus.ACCEPTED, now=now, actor=_actor(by, cases.CUSTOMER)
    )


def refuse(
    session: Session,
    offer_id: int,
    *,
    now: datetime,
    reason: str | None = None,
    by: str | None = None,
) -> Offer:
    """The customer refused: the offer's voucher is void, and no later suggestion for them is
    worth more."""
    return _decide(
        session,
        offer_id,
        OfferStatus.REFUSED,
        now=now,
        actor=_actor(by, cases.CUSTOMER),
        reason=reason,
        void=True,
    )


def withdraw(
    session: Session,
    offer_id: int,
    *,
    now: datetime,
    reason: str | None = None,
    by: str | None = None,
) -> Offer:
    """Take back an offer that waits for approval or that the customer has not answered; its
    voucher, unless already used, is void."""
    return _decide(
        session,
        offer_id,
        OfferStatus.WITHDRAWN,
        now=now,
        actor=_actor(by, cases.SYSTEM),
        reason=reason,
        void=True,
    )


def redeem_voucher(
    session: Session, code: str, *, now: datetime, ref: str | None = None
) -> Voucher:
    """Use a voucher, once: one conditional UPDATE decides, so two tills racing for the same
    code cannot both win. Unknown: NotFound; used: Conflict; expired or void: Gone."""
    voucher = get_voucher(session, code)
    ref = ref.strip()[:MAX_REF] if ref and ref.strip() else None
    done = session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher.id,
            Voucher.redeemed_at.is_(None),
            Voucher.voided_at.is_(None),
            Voucher.expires_at > now,
        )
        .values(redeemed_at=now, redeemed_ref=ref)
        .execution_options(synchronize_session=False)
    )
    session.refresh(voucher)
    if done.rowcount == 0:  # type: ignore[attr-defined]
        if voucher.redeemed_at is not None:
            raise Conflict(
                f"voucher {voucher.code} was redeemed already, on "
                f"{voucher.redeemed_at:%Y-%m-%d %H:%M} UTC"
            )
        if voucher.voided_at is not None:
            raise Gone(f"voucher {voucher.code} was withdrawn")
        raise Gone(f"voucher {voucher.code} expired on {voucher.expires_at:%Y-%m-%d %H:%M} UTC")
    offer = voucher.offer
    previous = offer.status
    if can_transition(previous, OfferStatus.REDEEMED):
        offer.status = OfferStatus.REDEEMED
        offer.decided_at = offer.decided_at or now
    _record(
        session,
        offer,
        "voucher_redeemed",
        actor=cases.CUSTOMER,
        now=now,
        previous=previous,
        voucher=mask_code(voucher.code),
        ref=ref,
    )
    session.flush()
    return voucher


# ---- customers ------------------------------------------------------------------------------


def flag_customer(
    session: Session,
    customer_id: int,
    *,
    abusive: bool,
    reason: str | None,
    now: datetime,
    by: str | None = None,
) -> Customer:
    """Flag (or clear) a customer as abusive. Flagging needs a reason; the change is recorded
    on each of their open cases."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    seen = {customer.id}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        kept = session.get(Customer, customer.merged_into_id)
        if kept is None:
            break
        seen.add(kept.id)
        customer = kept
    text = reason.strip() if reason and reason.strip() else None
    if abusive and text is None:
        raise InvalidInput("flagging a customer as abusive needs a reason")
    changed = customer.abusive != abusive
    customer.abusive = abusive
    customer.abusive_reason = text if abusive else None
    if changed:
        open_cases = session.scalars(
            select(Case).where(
                Case.customer_id == customer.id,
                Case.status.in_(list(OPEN_STATUSES)),
                Case.merged_into_id.is_(None),
            )
        )
        for case in open_cases:
            cases.record(
                session,
                case,
                "customer_flagged" if abusive else "customer_unflagged",
                actor=_actor(by, cases.SYSTEM),
                now=now,
                from_value="abusive" if not abusive else None,
                to_value="abusive" if abusive else "not abusive",
                reason=text,
                data={"customer_id": customer.id},
            )
    session.flush()
    return customer


# ---- the report -----------------------------------------------------------------------------


def offers_report(
    session: Session,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    policy: Policy,
) -> OfferReport:
    """Spend, acceptance, vouchers and whether customers came back, over the offers created in
    [since, until) (default: the 30 days up to `now`). Reads only."""
    from amends.reports.service import report_window

    start, end = report_window(since, until, now=now)
    rows = session.execute(
        select(
            Offer.kind,
            Offer.amount,
            Offer.status,
            Case.category,
            Offer.customer_id,
            Offer.made_at,
            Voucher.expires_at,
            Voucher.redeemed_at,
            Voucher.voided_at,
        )
        .join(Case, Case.id == Offer.case_id)
        .outerjoin(Voucher, Voucher.offer_id == Offer.id)
        .where(Offer.created_at >= start, Offer.created_at < end)
        .order_by(Offer.id)
    )
    facts = [OfferFact(*row) for row in rows]
    first: dict[int, datetime] = {}
    for f in facts:
        if f.made_at is not None:
            first[f.customer_id] = min(first.get(f.customer_id, f.made_at), f.made_at)
    inbound: dict[int, list[datetime]] = {}
    if first:
        low = min(first.values()) + CAME_BACK_AFTER
        high = max(first.values()) + CAME_BACK_WITHIN
        for part in chunked(sorted(first)):
            found = session.execute(
                select(Feedback.customer_id, Feedback.received_at).where(
                    Feedback.customer_id.in_(part),
                    Feedback.direction == Direction.IN,
                    Feedback.automated.is_(False),
                    Feedback.received_at > low,
                    Feedback.received_at <= high,
                )
            )
            for customer_id, at in found:
                if customer_id is not None:
                    inbound.setdefault(customer_id, []).append(at)
    return offer_report(
        facts,
        since=start,
        until=end,
        now=now,
        currency=policy.compensation.currency,
        monthly_budget=policy.compensation.monthly_budget,
        inbound=inbound,
    )


def voucher_summary(voucher: Voucher, *, now: datetime) -> dict[str, Any]:
    """A voucher with its offer's kind and value, and its state as of `now`."""
    offer = voucher.offer
    return {
        "code": voucher.code,
        "expires_at": voucher.expires_at,
        "redeemed_at": voucher.redeemed_at,
        "redeemed_ref": voucher.redeemed_ref,
        "voided_at": voucher.voided_at,
        "offer_id": offer.id,
        "kind": offer.kind,
        "amount": offer.amount,
        "currency": offer.currency,
        "status": voucher_state(
            expires_at=voucher.expires_at,
            redeemed_at=voucher.redeemed_at,
            voided_at=voucher.voided_at,
            now=now,
        ),
    }
