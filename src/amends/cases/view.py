"""The case page's data in one read: the case, one timeline across channels, the customer, the
analysis, offers, links and follow-ups. Reads only; a fixed number of queries per call."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from amends.cases.models import Case, CaseEvent
from amends.cases.rules import CaseStatus, Clock
from amends.cases.service import CUSTOMER, SYSTEM, deadlines, running_clocks
from amends.customers.models import Customer
from amends.db import chunked
from amends.errors import NotFound
from amends.feedback.models import Feedback
from amends.feedback.rules import Channel, Direction
from amends.followups.models import FollowUp
from amends.followups.service import verdict
from amends.incidents.models import Incident, IncidentCase
from amends.offers.models import Offer
from amends.offers.rules import (
    OfferStatus,
    RemedyKind,
    Suggestion,
    ceiling,
    money,
    value_tier,
    voucher_state,
)
from amends.offers.service import suggest_for_case
from amends.playbook.service import active_policy
from amends.problems.models import Problem, ProblemCase
from amends.teams.models import Agent

# Events the timeline leaves out: a reply is shown as the message itself, the opening as the
# first complaint, and a warning is only the lead-up to a breach.
HIDDEN_EVENTS = frozenset({"replied", "auto_acknowledged", "opened", "sla_warning"})
_EMOTIONS = ("anger", "frustration", "sadness", "fear", "joy")
_CLOCK_WORDS = {
    Clock.FIRST_RESPONSE.value: "first response",
    Clock.NEXT_RESPONSE.value: "next response",
    Clock.RESOLUTION.value: "resolution",
}


# ---- the shapes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineView:
    clock: str  # first_response, next_response, resolution
    due: datetime
    met_at: datetime | None
    running: bool  # still counting (paused ones included)
    breached: bool  # late as of the view's `now`, or recorded as breached


@dataclass(frozen=True)
class AgentRef:
    name: str
    email: str


@dataclass(frozen=True)
class CaseSummary:
    id: int
    subject: str
    status: CaseStatus
    priority: str | None
    severity: int | None
    category: str | None
    channel: Channel
    public: bool
    team: str | None
    assignee: AgentRef | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    paused_at: datetime | None
    escalation_level: int
    reopened_count: int
    merged_into_id: int | None
    deadlines: tuple[DeadlineView, ...]
    breached: bool  # any deadline late


@dataclass(frozen=True)
class SeveritySignal:
    factor: str  # money, safety, legal, repeated, ignored, churn, vulnerable
    evidence: str  # the customer's words that raised it, or "customer history"


@dataclass(frozen=True)
class FeedbackAnalysis:
    """What analysis found in one incoming message; `reasons` explain its priority in words."""

    feedback_id: int
    sentiment: float | None  # -1 .. 1
    emotions: tuple[tuple[str, float], ...]  # (anger|frustration|sadness|fear|joy, 0 .. 1)
    strongest_emotion: str | None  # of the negative ones, when at least 0.3
    intensity: float | None
    severity: int | None  # 1 minor .. 4 critical
    signals: tuple[SeveritySignal, ...]
    category: str | None  # the default taxonomy (an agent's correction wins)
    category_confidence: float | None
    category_source: str | None  # "model" or "agent"
    company_label: str | None  # the company's own taxonomy
    company_confidence: float | None
    remedy_asked: str | None  # refund, replacement, ...; None when nothing in particular
    remedy_evidence: str | None
    remedies: tuple[str, ...]
    priority: str | None
    needs_response: bool | None
    response_reason: str | None
    language: str | None
    reasons: tuple[str, ...]
    model_version: str | None


@dataclass(frozen=True)
class Message:
    """A feedback item on the timeline: the customer's, or our reply."""

    feedback_id: int
    channel: Channel
    direction: Direction
    author_name: str | None
    author_handle: str | None
    subject: str | None
    public: bool
    reach: int | None
    source_id: str
    platform: str | None
    url: str | None
    score: float | None
    score_scale: str | None
    automated: bool
    agent: str | None  # the replying agent's email
    checked: tuple[str, ...]  # checker rules that found something in our reply
    analysis: FeedbackAnalysis | None


@dataclass(frozen=True)
class EventFacts:
    id: int
    kind: str
    from_value: str | None
    to_value: str | None
    reason: str | None
    data: Mapping[str, Any]


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the case's story. `kind` is "message" (the customer's), "reply",
    "auto_reply", or the event's kind (status, assigned, escalated, sla_breached, merged,
    check_overridden, offer_made, offer_refused, followup_sent, survey_answered, ...)."""

    kind: str
    at: datetime
    actor: str  # "customer", "agent:<email>", "system", ...
    actor_name: str  # in words: a person's name, a handle, "system"
    text: str  # the message, or the event in words
    message: Message | None = None
    event: EventFacts | None = None


@dataclass(frozen=True)
class IdentityView:
    kind: str  # email, handle, phone, customer_ref, order_ref
    value: str  # as first seen
    platform: str | None  # for handles: x, facebook, ...


@dataclass(frozen=True)
class Loyalty:
    tier: str  # new, repeat, loyal, high_value
    customer_since: datetime | None
    tenure_days: int | None
    order_count: int | None
    lifetime_value: Decimal | None
    currency: str
    earlier_cases: int


@dataclass(frozen=True)
class OtherCase:
    id: int
    subject: str
    status: CaseStatus
    priority: str | None
    opened_at: datetime
    merged_into_id: int | None


@dataclass(frozen=True)
class VoucherView:
    code: str
    state: str  # open, redeemed, void, expired
    expires_at: datetime
    redeemed_at: datetime | None
    voided_at: datetime | None


@dataclass(frozen=True)
class OfferView:
    id: int
    case_id: int
    kind: RemedyKind
    amount: Decimal | None
    currency: str
    status: OfferStatus
    made_by: str
    approved_by: str | None
    created_at: datetime
    made_at: datetime | None
    decided_at: datetime | None
    note: str | None
    reason: str | None  # why it was refused or withdrawn
    voucher: VoucherView | None


@dataclass(frozen=True)
class Flag:
    kind: str  # abusive, offer_cap
    text: str


@dataclass(frozen=True)
class CustomerProfile:
    id: int
    ref: str
    name: str | None
    identities: tuple[IdentityView, ...]
    loyalty: Loyalty
    other_cases: tuple[OtherCase, ...]  # newest first
    offers: tuple[OfferView, ...]  # every offer made to them, this case's too, newest first
    flags: tuple[Flag, ...]
    abusive: bool

    @property
    def emails(self) -> tuple[str, ...]:
        return tuple(i.value for i in self.identities if i.kind == "email")

    @property
    def handles(self) -> tuple[str, ...]:
        return tuple(i.value for i in self.identities if i.kind == "handle")

    @property
    def phones(self) -> tuple[str, ...]:
        return tuple(i.value for i in self.identities if i.kind == "phone")


@dataclass(frozen=True)
class IncidentLink:
    id: int
    title: str
    tier: str
    status: str
    opened_at: datetime
    how: str  # spike, similar, hand


@dataclass(frozen=True)
class ProblemLink:
    id: int
    title: str
    status: str
    via_incident: int | None  # linked through that incident, not to the case itself


@dataclass(frozen=True)
class FollowUpView:
    id: int
    status: str  # scheduled, sent, answered, expired, cancelled
    scale: str
    due_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None
    score: int | None
    verdict: str | None  # good, neutral, bad
    comment: str | None


@dataclass(frozen=True)
class CaseView:
    case: CaseSummary
    timeline: tuple[TimelineEntry, ...]  # oldest first
    customer: CustomerProfile
    analysis: FeedbackAnalysis | None  # of the case's most urgent complaint
    offers: tuple[OfferView, ...]  # on this case, newest first
    suggestion: Suggestion | None  # what the policy would offer now; None: the apology
    incidents: tuple[IncidentLink, ...]
    problems: tuple[ProblemLink, ...]
    followups: tuple[FollowUpView, ...]
    public_and_private: bool  # a public complaint: compose a public and a private reply
    now: datetime

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: times in ISO 8601, amounts as decimal strings."""
        plain = _plain(self)
        assert isinstance(plain, dict)
        return plain


# ---- the read -----------------------------------------------------------------------------


def case_view(session: Session, case_id: int, *, now: datetime) -> CaseView:
    """Everything the case page shows. Reads only: nothing is added, changed or flushed by it."""
    case = session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .options(
            joinedload(Case.team),
            joinedload(Case.assignee),
            joinedload(Case.customer).selectinload(Customer.identities),
        )
    )
    if case is None:
        raise NotFound("case", case_id)
    customer = case.customer
    feedback = list(
        session.scalars(
            select(Feedback)
            .where(Feedback.case_id == case.id)
            .order_by(Feedback.received_at, Feedback.id)
        )
    )
    events = list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )
    others = session.execute(
        select(
            Case.id,
            Case.subject,
            Case.status,
            Case.priority,
            Case.opened_at,
            Case.merged_into_id,
        )
        .where(Case.customer_id == customer.id, Case.id != case.id)
        .order_by(Case.opened_at.desc(), Case.id.desc())
    ).all()
    offers = list(
        session.scalars(
            select(Offer)
            .where(Offer.customer_id == customer.id)
            .options(selectinload(Offer.voucher))
            .order_by(Offer.created_at.desc(), Offer.id.desc())
        )
    )
    incidents = session.execute(
        select(Incident, IncidentCase.how)
        .join(IncidentCase, IncidentCase.incident_id == Incident.id)
        .where(IncidentCase.case_id == case.id)
        .order_by(Incident.opened_at, Incident.id)
    ).all()
    problems = _problems(session, case.id, [i for i, _ in incidents])
    followups = list(
        session.scalars(select(FollowUp).where(FollowUp.case_id == case.id).order_by(FollowUp.id))
    )
    policy = active_policy(session)
    currency = policy.compensation.currency
    suggestion = suggest_for_case(session, case.id, policy=policy, role="agent", now=now)
    names = _agent_names(session, _agent_emails(case, feedback, events))

    analyses = {f.id: _analysis(f) for f in feedback if f.direction is Direction.IN}
    offer_views = tuple(_offer(o, now=now) for o in offers)
    other_cases = tuple(OtherCase(*row) for row in others)
    return CaseView(
        case=_summary(case, now=now),
        timeline=_timeline(case, feedback, events, analyses, names, currency=currency),
        customer=_profile(
            case,
            customer,
            other_cases,
            offer_views,
            now=now,
            policy_currency=currency,
            high_value_over=policy.compensation.high_value_over,
        ),
        analysis=_most_urgent(feedback, analyses),
        offers=tuple(o for o in offer_views if o.case_id == case.id),
        suggestion=suggestion,
        incidents=tuple(
            IncidentLink(i.id, i.title, i.tier.value, i.status.value, i.opened_at, how)
            for i, how in incidents
        ),
        problems=problems,
        followups=tuple(_followup(f) for f in followups),
        public_and_private=case.public,
        now=now,
    )


# ---- parts --------------------------------------------------------------------------------


def _summary(case: Case, *, now: datetime) -> CaseSummary:
    running = running_clocks(case)
    shown = tuple(
        DeadlineView(
            d.clock.value,
            d.due,
            d.met_at,
            running=d.clock in running,
            breached=d.breached(now),
        )
        for d in deadlines(case)
    )
    agent = case.assignee
    return CaseSummary(
        id=case.id,
        subject=case.subject,
        status=case.status,
        priority=case.priority,
        severity=case.severity,
        category=case.category,
        channel=case.channel,
        public=case.public,
        team=case.team.name if case.team is not None else None,
        assignee=AgentRef(agent.name, agent.email) if agent is not None else None,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
        resolved_at=case.resolved_at,
        closed_at=case.closed_at,
        paused_at=case.paused_at,
        escalation_level=case.escalation_level,
        reopened_count=case.reopened_count,
        merged_into_id=case.merged_into_id,
        deadlines=shown,
        breached=any(d.breached for d in shown),
    )


def _problems(
    session: Session, case_id: int, incidents: Sequence[Incident]
) -> tuple[ProblemLink, ...]:
    """The case's own problems, then those of its incidents."""
    via = {i.problem_id: i.id for i in incidents if i.problem_id is not None}
    direct = select(ProblemCase.problem_id).where(ProblemCase.case_id == case_id)
    query = select(Problem.id, Problem.title, Problem.status, Problem.id.in_(direct))
    query = query.where(
        or_(Problem.id.in_(direct), Problem.id.in_(sorted(via))) if via else Problem.id.in_(direct)
    )
    links = [
        ProblemLink(pid, title, status.value, None if own else via.get(pid))
        for pid, title, status, own in session.execute(query.order_by(Problem.id))
    ]
    return tuple(sorted(links, key=lambda p: (p.via_incident is not None, p.id)))


def _agent_emails(
    case: Case, feedback: Iterable[Feedback], events: Iterable[CaseEvent]
) -> set[str]:
    emails = {str(f.meta["agent"]) for f in feedback if f.meta.get("agent")}
    emails |= {e.actor.removeprefix("agent:") for e in events if e.actor.startswith("agent:")}
    if case.assignee is not None:
        emails.discard(case.assignee.email)
    return emails


def _agent_names(session: Session, emails: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in chunked(sorted(emails)):
        rows = session.execute(select(Agent.email, Agent.name).where(Agent.email.in_(part)))
        found.update((email, name) for email, name in rows)
    return found


def _analysis(row: Feedback) -> FeedbackAnalysis | None:
    """The stored analysis of an incoming message: the summary columns (which carry an
    agent's corrections) and the details of the full result."""
    if row.analysis is None and row.priority is None and row.sentiment is None:
        return None
    full: dict[str, Any] = row.analysis or {}
    emotions = full.get("emotions") or {}
    scores = tuple((e, float(emotions[e])) for e in _EMOTIONS if e in emotions)
    negative = [(s, e) for e, s in scores if e != "joy"]
    strongest = max(negative)[1] if negative and max(negative)[0] >= 0.3 else None
    severity = full.get("severity") or {}
    remedy = full.get("remedy") or {}
    asked = remedy.get("asked")
    return FeedbackAnalysis(
        feedback_id=row.id,
        sentiment=row.sentiment,
        emotions=scores,
        strongest_emotion=strongest,
        intensity=emotions.get("intensity"),
        severity=row.severity,
        signals=tuple(
            SeveritySignal(str(f.get("factor")), str(f.get("evidence")))
            for f in severity.get("factors", [])
        ),
        category=row.category,
        category_confidence=row.category_confidence,
        category_source=row.category_source,
        company_label=row.company_label,
        company_confidence=row.company_confidence,
        remedy_asked=asked if asked and asked != "none" else None,
        remedy_evidence=remedy.get("evidence"),
        remedies=tuple(str(r) for r in remedy.get("all", [])),
        priority=row.priority,
        needs_response=row.needs_response,
        response_reason=full.get("response_reason"),
        language=row.language,
        reasons=tuple(str(r) for r in full.get("reasons", [])),
        model_version=full.get("model_version"),
    )


def _most_urgent(
    feedback: Sequence[Feedback], analyses: Mapping[int, FeedbackAnalysis | None]
) -> FeedbackAnalysis | None:
    """The analysis of the complaint that gave the case its priority: the most urgent, the most
    severe of those, then the earliest."""
    scored = [f for f in feedback if not f.automated and analyses.get(f.id) is not None]
    if not scored:
        return None
    lead = min(scored, key=lambda f: (f.priority or "P9", -(f.severity or 0), f.received_at, f.id))
    return analyses[lead.id]


def _message(row: Feedback, analysis: FeedbackAnalysis | None) -> Message:
    meta = row.meta or {}
    checked = meta.get("checked") or []
    return Message(
        feedback_id=row.id,
        channel=row.channel,
        direction=row.direction,
        author_name=row.author_name,
        author_handle=row.author_handle,
        subject=row.subject,
        public=row.public,
        reach=row.reach,
        source_id=row.source_id,
        platform=str(meta["platform"]) if meta.get("platform") else None,
        url=str(meta["url"]) if meta.get("url") else None,
        score=row.score,
        score_scale=row.score_scale.value if row.score_scale is not None else None,
        automated=row.automated,
        agent=str(meta["agent"]) if meta.get("agent") else None,
        checked=tuple(str(c) for c in checked),
        analysis=analysis,
    )


def _timeline(
    case: Case,
    feedback: Sequence[Feedback],
    events: Sequence[CaseEvent],
    analyses: Mapping[int, FeedbackAnalysis | None],
    names: Mapping[str, str],
    *,
    currency: str,
) -> tuple[TimelineEntry, ...]:
    customer = case.customer
    people = dict(names)
    if case.assignee is not None:
        people[case.assignee.email] = case.assignee.name
    entries: list[tuple[tuple[datetime, int, int], TimelineEntry]] = []
    for row in feedback:
        message = _message(row, analyses.get(row.id))
        if row.direction is Direction.IN:
            kind, actor = "message", CUSTOMER
            who = row.author_name or row.author_handle or customer.name or "customer"
        else:
            kind = "auto_reply" if row.automated else "reply"
            if message.agent:
                actor = f"agent:{message.agent}"
                who = row.author_name or people.get(message.agent) or message.agent
            elif row.automated:
                actor, who = "auto", "automatic reply"
            else:
                actor = f"agent:{row.author_handle}" if row.author_handle else "desk"
                who = row.author_name or row.author_handle or "desk"
        entry = TimelineEntry(kind, row.received_at, actor, who, row.text, message=message)
        entries.append(((row.received_at, 0, row.id), entry))
    for event in events:
        if event.kind in HIDDEN_EVENTS:
            continue
        facts = EventFacts(
            event.id, event.kind, event.from_value, event.to_value, event.reason, event.data or {}
        )
        entry = TimelineEntry(
            event.kind,
            event.at,
            event.actor,
            _actor_name(event.actor, people, customer.name),
            describe(facts, currency=currency),
            event=facts,
        )
        entries.append(((event.at, 1, event.id), entry))
    entries.sort(key=lambda pair: pair[0])
    return tuple(entry for _, entry in entries)


def _actor_name(actor: str, people: Mapping[str, str], customer_name: str | None) -> str:
    if actor.startswith("agent:"):
        email = actor.removeprefix("agent:")
        return people.get(email, email)
    if actor == CUSTOMER:
        return customer_name or "customer"
    if actor == SYSTEM:
        return "system"
    return actor


def _amount(data: Mapping[str, Any], currency: str) -> str:
    amount = data.get("amount")
    if amount is None:
        return ""
    return " " + money(Decimal(str(amount)), str(data.get("currency") or currency))


def describe(event: EventFacts, *, currency: str) -> str:
    """A case event in words, as the timeline shows it."""
    kind, data = event.kind, event.data
    was, now_ = event.from_value, event.to_value
    because = f" ({event.reason})" if event.reason else ""
    if kind == "status":
        return f"status {was or '?'} → {now_ or '?'}{because}"
    if kind == "assigned":
        return f"assigned to {now_ or 'nobody'}" + (f" (was {was})" if was else "") + because
    if kind == "priority":
        return f"priority raised {was or 'none'} → {now_}{because}"
    if kind == "escalated":
        actions = ", ".join(str(a) for a in data.get("actions", []))
        clock = _CLOCK_WORDS.get(str(data.get("clock")), "a clock")
        return f"escalated to {now_}: {clock} overdue" + (f"; {actions}" if actions else "")
    if kind == "sla_breached":
        return f"{_CLOCK_WORDS.get(now_ or '', now_ or 'a')} deadline missed"
    if kind == "merged":
        if "into" in data:
            return f"merged into case {data['into']}{because}"
        return f"absorbed case {data.get('absorbed')}{because}"
    if kind == "split":
        if "into" in data:
            return f"split off into case {data['into']}{because}"
        return f"split from case {data.get('from')}{because}"
    if kind == "check_overridden":
        rules = ", ".join(str(r) for r in data.get("rules", []))
        return f"reply sent despite the checker ({rules}): {event.reason or 'no reason given'}"
    if kind.startswith("offer_") or kind == "voucher_redeemed":
        what = f"{data.get('kind', 'offer')}{_amount(data, currency)}"
        offer = f"offer {data.get('offer_id')}: {what}"
        if kind == "offer_pending":
            return f"{offer} waits for a lead's approval{because}"
        if kind == "offer_made":
            voucher = f" (code {data['voucher']})" if data.get("voucher") else ""
            return f"{offer} made{voucher}" + (f" — {event.reason}" if event.reason else "")
        if kind == "voucher_redeemed":
            return f"{offer}: voucher {data.get('voucher')} redeemed"
        return f"{offer} {kind.removeprefix('offer_')}{because}"
    if kind == "followup_sent":
        return "follow-up survey mailed" if now_ == "mail" else "follow-up survey link ready"
    if kind == "survey_answered":
        scale = str(data.get("scale", "")).upper()
        return f"survey answered: {scale} {data.get('score')} ({data.get('verdict')})"
    if kind == "customer_flagged":
        return f"customer flagged abusive{because}"
    if kind == "customer_unflagged":
        return "customer no longer flagged abusive"
    change = f"{was} → {now_}" if was and now_ else (now_ or was or "")
    return f"{kind.replace('_', ' ')}" + (f": {change}" if change else "") + because


def _offer(offer: Offer, *, now: datetime) -> OfferView:
    v = offer.voucher
    voucher = (
        VoucherView(
            v.code,
            voucher_state(
                expires_at=v.expires_at, redeemed_at=v.redeemed_at, voided_at=v.voided_at, now=now
            ),
            v.expires_at,
            v.redeemed_at,
            v.voided_at,
        )
        if v is not None
        else None
    )
    return OfferView(
        id=offer.id,
        case_id=offer.case_id,
        kind=offer.kind,
        amount=offer.amount,
        currency=offer.currency,
        status=offer.status,
        made_by=offer.made_by,
        approved_by=offer.approved_by,
        created_at=offer.created_at,
        made_at=offer.made_at,
        decided_at=offer.decided_at,
        note=offer.note,
        reason=offer.reason,
        voucher=voucher,
    )


def _identity(kind: str, key: str, display: str) -> IdentityView:
    platform = key.split(":", 2)[1] if kind == "handle" and key.count(":") >= 2 else None
    return IdentityView(kind, display, platform)


def _profile(
    case: Case,
    customer: Customer,
    other_cases: Sequence[OtherCase],
    offers: Sequence[OfferView],
    *,
    now: datetime,
    policy_currency: str,
    high_value_over: Decimal | None,
) -> CustomerProfile:
    earlier = sum(
        1 for c in other_cases if c.opened_at < case.opened_at and c.merged_into_id is None
    )
    loyalty = Loyalty(
        tier=value_tier(
            lifetime_value=customer.lifetime_value,
            customer_since=customer.customer_since,
            order_count=customer.order_count,
            earlier_cases=earlier,
            now=now,
            high_value_over=high_value_over,
        ).value,
        customer_since=customer.customer_since,
        tenure_days=(now - customer.customer_since).days if customer.customer_since else None,
        order_count=customer.order_count,
        lifetime_value=customer.lifetime_value,
        currency=policy_currency,
        earlier_cases=earlier,
    )
    flags: list[Flag] = []
    if customer.abusive:
        flags.append(Flag("abusive", f"flagged abusive: {customer.abusive_reason or 'no reason'}"))
    history = [(o.kind.value, o.amount, o.status.value) for o in sorted(offers, key=lambda o: o.id)]
    limit, why = ceiling(history, abusive=customer.abusive)
    if limit is not None and why is not None:
        flags.append(Flag("offer_cap", why.format(money(limit, policy_currency))))
    return CustomerProfile(
        id=customer.id,
        ref=customer.ref,
        name=customer.name,
        identities=tuple(_identity(i.kind.value, i.key, i.display) for i in customer.identities),
        loyalty=loyalty,
        other_cases=tuple(other_cases),
        offers=tuple(offers),
        flags=tuple(flags),
        abusive=customer.abusive,
    )


def _followup(row: FollowUp) -> FollowUpView:
    return FollowUpView(
        id=row.id,
        status=row.status.value,
        scale=row.scale.value,
        due_at=row.due_at,
        sent_at=row.sent_at,
        expires_at=row.expires_at,
        answered_at=row.answered_at,
        score=row.score,
        verdict=verdict(row.scale, row.score) if row.score is not None else None,
        comment=row.comment,
    )


def _plain(value: Any) -> Any:
    """JSON types for a view: dataclasses as objects, times in ISO 8601, amounts as strings."""
    if isinstance(value, Suggestion):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
