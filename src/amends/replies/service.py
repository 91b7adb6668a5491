"""Checking, drafting and sending replies on a case. Services flush; callers commit."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.cases.service import get_case, record
from amends.cases.service import reply as record_reply
from amends.errors import InvalidInput, NotFound, ReplyBlocked
from amends.feedback.models import Feedback
from amends.feedback.rules import Channel, Direction
from amends.playbook.rules import Policy
from amends.replies.checker import CheckResult, ReplyContext, channel_key, check_reply
from amends.replies.composer import ATTEMPTS, DraftFacts, Perk, compose
from amends.replies.models import ReplyFinding
from amends.replies.rules import Severity
from amends.teams.models import Agent

MAX_REPLY_CHARS = 100_000
COMPLAINT_CHARS = 4_000  # the checker and composer read this much of the customer's words
RECENT_REPLIES = 300  # replies to other customers compared for near-copies
LOYAL_AFTER = timedelta(days=730)
_EMOTIONS = ("anger", "frustration", "sadness", "fear")
_SIGNATURE = re.compile(
    r"(?:^|\n|[.!]\s)\s*(?i:thanks|thank you|regards|kind regards|best|cheers|sincerely|"
    r"many thanks)[,.!]?\s*\n?\s*"
    r"([A-Z\u00c0-\u024f][a-z\u00c0-\u024f'\-]+(?: [A-Z\u00c0-\u024f][a-z\u00c0-\u024f'\-]+)?)"
    r"\s*$"
)
_PRIVATE_ROUTE = {
    Channel.X: "a direct message",
    Channel.SOCIAL: "a direct message",
    Channel.REVIEW: "an email to our support team",
}


def _incoming(session: Session, case: Case) -> list[Feedback]:
    return list(
        session.scalars(
            select(Feedback)
            .where(Feedback.case_id == case.id, Feedback.direction == Direction.IN)
            .order_by(Feedback.received_at, Feedback.id)
        )
    )


def _complaint_text(incoming: list[Feedback]) -> str:
    """The customer's words, newest message last, at most COMPLAINT_CHARS of them."""
    texts = [f.text for f in incoming[-3:]]
    return "\n".join(texts)[-COMPLAINT_CHARS:]


def _latest_words(incoming: list[Feedback]) -> str:
    """What the reply answers: the newest message that says something, else all of it."""
    for item in reversed(incoming):
        if item.needs_response is not False and item.text.strip():
            return item.text[-COMPLAINT_CHARS:]
    return _complaint_text(incoming)


def _plausible(name: str | None) -> str | None:
    """A name to greet someone by: not a redaction ("XXXX"), an address or a number; one
    written all in capitals is greeted in ordinary case."""
    if not name or "@" in name or any(c.isdigit() for c in name) or "<" in name:
        return None
    name = " ".join(name.split())
    if not name or re.fullmatch(r"[Xx*#\s.]+", name):
        return None
    return name.title() if name.isupper() or name.islower() else name


def customer_name(case: Case, incoming: list[Feedback]) -> str | None:
    """The name as the customer writes it: the CRM's, else the one they sign or send with."""
    if _plausible(case.customer.name):
        return _plausible(case.customer.name)
    for item in reversed(incoming):
        signed = _SIGNATURE.search(item.text[-300:])
        if signed and _plausible(signed.group(1)):
            return _plausible(signed.group(1))
        if _plausible(item.author_name):
            return _plausible(item.author_name)
    return None


def _handle(incoming: list[Feedback]) -> str | None:
    for item in reversed(incoming):
        if item.author_handle and not item.author_handle.count("@") > 1:
            handle = item.author_handle
            if "@" in handle and not handle.startswith("@"):
                continue  # an email address, not a handle
            return handle if handle.startswith("@") else f"@{handle}"
    return None


def _channel_key(case: Case, incoming: list[Feedback], *, public: bool) -> str | None:
    """The key of the channel limits: a private reply to a public post goes by message."""
    if not public:
        return None if case.public else case.channel.value
    platform = next((str(f.meta.get("platform")) for f in incoming if f.meta.get("platform")), None)
    return channel_key(case.channel.value, platform)


def _sent_to_others(session: Session, case: Case) -> list[str]:
    return list(
        session.scalars(
            select(Feedback.text)
            .where(
                Feedback.direction == Direction.OUT,
                Feedback.automated.is_(False),
                Feedback.customer_id != case.customer_id,
            )
            .order_by(Feedback.id.desc())
            .limit(RECENT_REPLIES)
        )
    )


def _answers_complaint(session: Session, case: Case, incoming: list[Feedback]) -> bool:
    """The first answer on a case answers a complaint; later ones only when the customer's
    newest message is itself unhappy."""
    answered = session.scalar(
        select(func.count(Feedback.id)).where(
            Feedback.case_id == case.id,
            Feedback.direction == Direction.OUT,
            Feedback.automated.is_(False),
        )
    )
    if not answered:
        return True
    latest = incoming[-1] if incoming else None
    return latest is not None and latest.sentiment is not None and latest.sentiment < -0.2


def context_for_case(
    session: Session, case: Case, *, public: bool, incoming: list[Feedback] | None = None
) -> ReplyContext:
    """What the checker knows about a reply on this case."""
    incoming = _incoming(session, case) if incoming is None else incoming
    return ReplyContext(
        public=public,
        channel=_channel_key(case, incoming, public=public),
        customer_name=customer_name(case, incoming),
        customer_handle=_handle(incoming),
        complaint=_complaint_text(incoming) or None,
        is_complaint=_answers_complaint(session, case, incoming),
        sent_to_others=_sent_to_others(session, case),
    )


def check(
    session: Session,
    text: str,
    *,
    policy: Policy,
    case_id: int | None = None,
    public: bool | None = None,
    channel: str | None = None,
    customer_name: str | None = None,
    complaint: str | None = None,
) -> CheckResult:
    """Check a reply. With a case, its customer, complaint and channel are the context; what the
    caller gives overrides them."""
    if len(text) > MAX_REPLY_CHARS:
        raise InvalidInput(f"a reply of {len(text)} characters is over {MAX_REPLY_CHARS}")
    if case_id is not None:
        case = get_case(session, case_id)
        shown = case.public if public is None else (case.public and public)
        ctx = context_for_case(session, case, public=shown)
        ctx = replace(
            ctx,
            channel=channel or ctx.channel,
            customer_name=customer_name or ctx.customer_name,
            complaint=complaint or ctx.complaint,
        )
    else:
        ctx = ReplyContext(
            public=bool(public),
            channel=channel,
            customer_name=customer_name,
            complaint=complaint,
        )
    return check_reply(text, ctx, policy.checker)


# ---- drafting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftResult:
    case_id: int
    public: str | None
    private: str
    offer: dict[str, Any] | None
    findings: dict[str, list[dict[str, Any]]]  # "public" / "private" -> the checker's findings
    blocking: bool
    attempts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "public": self.public,
            "private": self.private,
            "offer": self.offer,
            "findings": [
                f | {"reply": which} for which, found in self.findings.items() for f in found
            ],
            "blocking": self.blocking,
        }


def known_change(session: Session, case: Case) -> str | None:
    """What will change, when a root cause is known: from the case's problem, else from an
    incident it belongs to."""
    from amends.incidents.models import Incident, IncidentCase
    from amends.problems.models import Problem, ProblemCase

    change = session.scalar(
        select(Problem.what_will_change)
        .join(ProblemCase, ProblemCase.problem_id == Problem.id)
        .where(ProblemCase.case_id == case.id, Problem.what_will_change.is_not(None))
        .order_by(ProblemCase.id.desc())
        .limit(1)
    )
    if change:
        return change
    return session.scalar(
        select(Incident.what_will_change)
        .join(IncidentCase, IncidentCase.incident_id == Incident.id)
        .where(IncidentCase.case_id == case.id, Incident.what_will_change.is_not(None))
        .order_by(IncidentCase.id.desc())
        .limit(1)
    )


def _facts(
    session: Session,
    case: Case,
    incoming: list[Feedback],
    *,
    policy: Policy,
    now: datetime,
    change: str | None = None,
    perks: bool = True,
    as_team: bool = False,
) -> tuple[DraftFacts, dict[str, Any] | None]:
    from amends.offers.service import suggest_for_case

    latest = next((f for f in reversed(incoming) if f.analysis), None)
    analysis = latest.analysis if latest is not None and latest.analysis else {}
    evidence = tuple(
        str(f.get("evidence"))
        for f in analysis.get("severity", {}).get("factors", [])
        if f.get("evidence") and f.get("evidence") != "customer history"
    )
    emotions = analysis.get("emotions", {})
    strongest = max(_EMOTIONS, key=lambda e: float(emotions.get(e, 0.0)))
    emotion = strongest if float(emotions.get(strongest, 0.0)) >= 0.3 else None
    customer = case.customer
    since = customer.customer_since
    loyal = since is not None and now - since >= LOYAL_AFTER
    earlier = session.scalar(
        select(func.count(Case.id)).where(
            Case.customer_id == case.customer_id,
            Case.id != case.id,
            Case.opened_at < case.opened_at,
        )
    )
    suggestion = suggest_for_case(session, case.id, policy=policy, now=now)
    perk = None
    # A perk that waits for a lead's approval is not promised in the letter.
    if perks and suggestion is not None and suggestion.perk and not suggestion.needs_approval:
        perk = Perk(suggestion.perk, suggestion.amount, suggestion.currency)
    agent: Agent | None = case.assignee
    public_key = _channel_key(case, incoming, public=True) if case.public else None
    facts = DraftFacts(
        case_id=case.id,
        complaint=_latest_words(incoming),
        public=case.public,
        channel=public_key or case.channel.value,
        customer_name=customer_name(case, incoming),
        customer_handle=_handle(incoming) if case.public else None,
        category=case.category,
        evidence=evidence,
        emotion=emotion,
        severity=case.severity or 2,
        fix=suggestion.fix if suggestion is not None else None,
        options=suggestion.options if suggestion is not None else (),
        perk=perk,
        change=change or known_change(session, case),
        customer_since=since.year if loyal and since is not None else None,
        earlier_complaints=earlier or 0,
        agent_name=agent.name if agent is not None and not as_team else None,
        team_name=case.team.name if case.team is not None else None,
        private_route=_PRIVATE_ROUTE.get(case.channel, "a direct message"),
        public_limit=policy.checker.channel_limits.get(public_key) if public_key else None,
    )
    return facts, suggestion.to_dict() if suggestion is not None else None


def draft(
    session: Session,
    case_id: int,
    *,
    policy: Policy,
    now: datetime,
    change: str | None = None,
    perks: bool = True,
    as_team: bool = False,
) -> DraftResult:
    """Draft the replies a case needs, each passing the checker with no blocking finding. The
    wording changes with each attempt until the checker passes both; the last resort leaves
    out the customer's own words."""
    case = get_case(session, case_id)
    incoming = _incoming(session, case)
    if not incoming:
        raise NotFound("complaint on case", case_id)
    facts, offer = _facts(
        session, case, incoming, policy=policy, now=now, change=change, perks=perks, as_team=as_team
    )
    # One context read from the database; the private reply differs only in where it is
    # shown, and a drafted apology always answers the complaint.
    public_ctx = context_for_case(session, case, public=True, incoming=incoming)
    private_ctx = replace(
        public_ctx,
        public=False,
        channel=_channel_key(case, incoming, public=False),
        is_complaint=True,
    )
    tries = [(attempt, False) for attempt in range(ATTEMPTS)] + [(0, True), (1, True)]
    result: DraftResult | None = None
    for n, (attempt, plain) in enumerate(tries, 1):
        drafted = compose(facts, attempt, plain=plain)
        private = check_reply(drafted.private, private_ctx, policy.checker)
        findings = {"private": [f.to_dict() for f in private.findings]}
        blocking = private.blocking
        if drafted.public is not None:
            public = check_reply(drafted.public, public_ctx, policy.checker)
            findings["public"] = [f.to_dict() for f in public.findings]
            blocking = blocking or public.blocking
        result = DraftResult(
            case.id, drafted.public, drafted.private, offer, findings, blocking, attempts=n
        )
        if not blocking:
            break
    assert result is not None
    return result


# ---- sending ----------------------------------------------------------------------------------


def send(
    session: Session,
    case_id: int,
    text: str,
    *,
    agent_email: str | None,
    now: datetime,
    policy: Policy,
    public: bool | None = None,
    override: str | None = None,
    automated: bool = False,
    waiting: bool = False,
) -> tuple[Feedback, CheckResult]:
    """Check a reply and record it as sent. A blocking finding stops it unless `override`
    gives a person's reason, which is kept with the case's history."""
    case = get_case(session, case_id)
    text = text.strip()
    if not text:
        raise InvalidInput("a reply needs text")
    if len(text) > MAX_REPLY_CHARS:
        raise InvalidInput(f"a reply of {len(text)} characters is over {MAX_REPLY_CHARS}")
    shown = case.public if public is None else (case.public and public)
    result = (
        CheckResult()
        if automated
        else check_reply(text, context_for_case(session, case, public=shown), policy.checker)
    )
    reason = override.strip() if override else None
    if result.blocking and not reason:
        blocking = sorted(
            {
                f.rule.value.replace("_", " ")
                for f in result.findings
                if f.severity is Severity.BLOCK
            }
        )
        raise ReplyBlocked(
            f"the reply was not sent: {', '.join(blocking)}; fix it, or override with a reason",
            [f.to_dict() for f in result.findings],
        )
    meta: dict[str, Any] = {"checked": [f.rule.value for f in result.findings]}
    if result.blocking and reason:
        meta["override"] = reason
    row = record_reply(
        session,
        case_id,
        text,
        agent_email=agent_email,
        now=now,
        policy=policy,
        automated=automated,
        waiting=waiting,
        public=public,
        meta=meta,
    )
    agent_id = (
        session.scalar(select(Agent.id).where(Agent.email == agent_email.lower()))
        if (agent_email)
        else None
    )
    overridden = result.blocking and reason is not None
    session.add_all(
        ReplyFinding(
            feedback_id=row.id,
            case_id=case.id,
            agent_id=agent_id,
            at=now,
            rule=f.rule.value,
            severity=f.severity.value,
            overridden=overridden and f.severity is Severity.BLOCK,
        )
        for f in result.findings
    )
    if overridden:
        record(
            session,
            case,
            "check_overridden",
            actor=f"agent:{agent_email}" if agent_email else "system",
            now=now,
            reason=reason,
            data={
                "reply": row.id,
                "rules": sorted(
                    {f.rule.value for f in result.findings if f.severity is Severity.BLOCK}
                ),
            },
        )
    session.flush()
    return row, result
