"""The case page: one case, its timeline across channels, the customer, the composer with the
live reply checker, offers, links and follow-ups; and the forms that act on the case.

Every action re-checks that the signed-in person works the case's team, runs inside a savepoint
(a refusal leaves nothing half-done) and answers with a redirect back to the page; a refusal
re-renders the page with its reason. Who may do what is the API's rule: anyone who works the
case answers its offers and merges it (into a case they work too); linking it to a problem or
an incident is a lead's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from amends.api.app import status_for
from amends.api.deps import IdPath, SessionDep
from amends.cases import service as cases
from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES, CaseStatus, can_transition
from amends.cases.view import CaseView, DeadlineView, TimelineEntry, case_view
from amends.db import as_id
from amends.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    ReplyBlocked,
)
from amends.feedback.rules import Channel
from amends.incidents import service as incidents
from amends.incidents.models import Incident, IncidentCase
from amends.incidents.rules import IncidentStatus
from amends.offers import service as offers
from amends.offers.models import Offer
from amends.offers.rules import OfferStatus, RemedyKind, Suggestion
from amends.playbook.rules import Policy
from amends.playbook.service import active_policy
from amends.problems import service as problems
from amends.problems.models import Problem, ProblemCase, ProblemStatus
from amends.replies import service as replies
from amends.replies.checker import channel_key
from amends.teams.models import Agent, Team
from amends.users.rules import Role
from amends.users.service import Principal, check_case_visible, visible_case_filter
from amends.web.auth import CheckedUser, CurrentUser
from amends.web.render import render

router = APIRouter(include_in_schema=False)

MAX_OVERRIDE = 2000
MAX_NOTE = 500
MAX_CHOICES = 200  # problems, incidents or cases a select or a hint lists
# Problems a case is linked to by hand: those being worked. A proposed one is confirmed first;
# a closed one is done with.
LINKABLE_PROBLEMS = (ProblemStatus.OPEN, ProblemStatus.FIXED, ProblemStatus.RECURRING)

CLOCK_WORDS = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
}
STATUS_WORDS = {
    CaseStatus.NEW: "new",
    CaseStatus.ACKNOWLEDGED: "acknowledged",
    CaseStatus.IN_PROGRESS: "in progress",
    CaseStatus.WAITING_ON_CUSTOMER: "waiting on the customer",
    CaseStatus.RESOLVED: "resolved",
    CaseStatus.CLOSED: "closed",
}
CHANNEL_WORDS = {
    Channel.EMAIL: "Email",
    Channel.X: "X",
    Channel.SOCIAL: "Social",
    Channel.REVIEW: "Review",
    Channel.SURVEY: "Survey",
    Channel.CHAT: "Chat",
    Channel.CALL: "Call",
    Channel.WEB: "Web",
    Channel.OTHER: "Other",
}
# How a private reply reaches a customer who complained on each channel.
PRIVATE_ROUTE = {
    Channel.X: "a direct message",
    Channel.SOCIAL: "a direct message",
    Channel.REVIEW: "an email from our support team",
    Channel.EMAIL: "email",
    Channel.CHAT: "the chat",
    Channel.CALL: "email or a call back",
}
SEVERITY_WORDS = {"block": "Blocks sending", "warn": "Warning", "info": "Note"}
SEVERITY_LEVEL = {1: "minor", 2: "moderate", 3: "serious", 4: "critical"}
# The buttons a case offers, in this order: (target, label). Acknowledging is by replying.
STATUS_ACTIONS: tuple[tuple[CaseStatus, str], ...] = (
    (CaseStatus.IN_PROGRESS, "Mark in progress"),
    (CaseStatus.WAITING_ON_CUSTOMER, "Wait on the customer"),
    (CaseStatus.RESOLVED, "Resolve"),
    (CaseStatus.CLOSED, "Close"),
)
# What a page says after an action succeeded; the query string only picks one of these.
NOTICES = {
    "sent": "Reply sent.",
    "first_on_time": "Reply sent — first response on time.",
    "first_late": "Reply sent — the first response was late.",
    "private_first": (
        "Private reply sent. The complaint was public: a public reply answers it where it was "
        "made, and that acknowledges the case."
    ),
    "overridden": "Reply sent over the checker; your reason is kept in the case history.",
    "status": "Status changed.",
    "assigned": "Assignment changed.",
    "offer_made": "Offer made.",
    "offer_pending": "Offer saved: it is over what you may give alone and waits for a lead's "
    "approval.",
    "offer_approved": "Offer approved: it is made to the customer.",
    "offer_accepted": "Recorded: the customer accepted the offer.",
    "offer_refused": "Recorded: the customer refused the offer; its voucher is void.",
    "offer_withdrawn": "Offer withdrawn; its voucher is void.",
    "problem_linked": "Case linked to the problem.",
    "incident_linked": "Case added to the incident.",
    "merged": "The other case was merged into this one; its messages are in this timeline.",
}


# ---- what the template is given --------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineShown:
    label: str
    due: datetime
    state: str  # running, paused, met, stopped
    breached: bool
    text: str  # "due in 1h 12m", "overdue by 5m", "met at ...", "paused"


@dataclass(frozen=True)
class FindingShown:
    rule: str
    severity: str
    severity_words: str
    message: str
    suggestion: str
    excerpt: str | None  # the flagged words; None where the finding is about the whole reply


@dataclass
class Composer:
    which: str  # "public" or "private"
    title: str
    where: str  # where the reply goes, in words
    text: str
    public: bool
    channel: str | None  # the checker's channel key
    limit: int | None  # the channel's length limit
    findings: list[FindingShown] = field(default_factory=list)
    blocked: bool = False
    override: str = ""
    waiting: bool = False
    sent_at: datetime | None = None  # a person's reply of this kind is on the case already
    note: str | None = None  # what the agent must do before sending this draft

    @property
    def blocking(self) -> int:
        return sum(1 for f in self.findings if f.severity == "block")


@dataclass(frozen=True)
class Edit:
    """A composer as the agent left it when sending was refused."""

    which: str
    text: str
    override: str
    waiting: bool
    blocked: list[dict[str, Any]] | None  # the checker's findings, when they stopped it


@dataclass(frozen=True)
class AgentChoice:
    email: str
    name: str


@dataclass(frozen=True)
class TeamChoice:
    name: str
    agents: tuple[AgentChoice, ...]  # empty for a team whose agents this person does not see


@dataclass(frozen=True)
class Choice:
    """A problem, an incident or a case, as a select or a hint names it."""

    id: int
    title: str
    detail: str  # a problem's status, an incident's tier, a case's status in words


def span_words(seconds: float) -> str:
    """A duration as the countdowns write it: "2d 3h", "1h 12m", "5m", "40s"."""
    total = int(abs(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def _deadline(d: DeadlineView, *, now: datetime, paused: bool) -> DeadlineShown:
    label = CLOCK_WORDS.get(d.clock, d.clock.replace("_", " "))
    if d.met_at is not None:
        late = f", {span_words((d.met_at - d.due).total_seconds())} late" if d.breached else ""
        return DeadlineShown(
            label, d.due, "met", d.breached, f"met {d.met_at:%Y-%m-%d %H:%M} UTC{late}"
        )
    if not d.running:
        return DeadlineShown(label, d.due, "stopped", d.breached, "stopped")
    if paused:
        return DeadlineShown(label, d.due, "paused", d.breached, "paused while we wait")
    left = (d.due - now).total_seconds()
    text = f"due in {span_words(left)}" if left > 0 else f"overdue by {span_words(left)}"
    return DeadlineShown(label, d.due, "running", d.breached or left <= 0, text)


def _findings(text: str, found: list[dict[str, Any]]) -> list[FindingShown]:
    order = {"block": 0, "warn": 1, "info": 2}
    shown = []
    for f in sorted(found, key=lambda f: (order.get(str(f["severity"]), 3), int(f["start"]))):
        start, end = int(f["start"]), int(f["end"])
        excerpt = text[start:end] if end > start else None
        if excerpt is not None and len(excerpt) > 80:
            excerpt = excerpt[:77] + "…"
        severity = str(f["severity"])
        shown.append(
            FindingShown(
                rule=str(f["rule"]),
                severity=severity,
                severity_words=SEVERITY_WORDS.get(severity, severity),
                message=str(f["message"]),
                suggestion=str(f["suggestion"]),
                excerpt=excerpt,
            )
        )
    return shown


def _platform(view: CaseView) -> str | None:
    return next(
        (e.message.platform for e in view.timeline if e.message and e.message.platform), None
    )


def _handle(view: CaseView) -> str | None:
    for e in reversed(view.timeline):
        if e.kind == "message" and e.message and e.message.author_handle:
            handle = e.message.author_handle
            if "@" in handle and not handle.startswith("@"):
                continue  # an email address, not a handle
            return handle if handle.startswith("@") else f"@{handle}"
    return None


def _reach(view: CaseView) -> int | None:
    reaches = [
        e.message.reach
        for e in view.timeline
        if e.kind == "message" and e.message and e.message.public and e.message.reach
    ]
    return max(reaches, default=None)


def _sent_at(view: CaseView, *, public: bool) -> datetime | None:
    """When a person last replied in public (or in private) on this case."""
    sent = [
        e.at
        for e in view.timeline
        if e.kind == "reply" and e.message is not None and e.message.public is public
    ]
    return max(sent, default=None)


def _composers(
    session: Session, view: CaseView, policy: Policy, *, now: datetime
) -> list[Composer]:
    """The composers a case needs, pre-filled with the drafts of replies not yet sent."""
    case = view.case
    try:
        drafted = replies.draft(session, case.id, policy=policy, now=now)
    except DomainError:
        drafted = None  # nothing to answer (no message from the customer): start blank
    limits = policy.checker.channel_limits
    found = drafted.findings if drafted is not None else {}
    shown: list[Composer] = []
    if view.public_and_private:
        key = channel_key(case.channel.value, _platform(view))
        handle = _handle(view)
        reach = _reach(view)
        where = f"Posted in public on {CHANNEL_WORDS.get(case.channel, case.channel.value)}"
        where += f", as a reply to {handle}" if handle else ""
        where += f", where up to {reach:,} followers may see it" if reach else ""
        sent = _sent_at(view, public=True)
        text = (drafted.public or "") if drafted is not None and sent is None else ""
        shown.append(
            Composer(
                which="public",
                title="Public reply",
                where=where + ". Keep private details out of it.",
                text=text,
                public=True,
                channel=key,
                limit=limits.get(key),
                findings=_findings(text, found.get("public", [])) if text else [],
                sent_at=sent,
            )
        )
        private_key = None
    else:
        private_key = case.channel.value
    route = PRIVATE_ROUTE.get(case.channel, "a private message")
    sent = _sent_at(view, public=False)
    text = drafted.private if drafted is not None and sent is None else ""
    note = None
    promised = drafted.offer if drafted is not None and text else None
    if promised and promised.get("perk") and not promised.get("needs_approval"):
        made = any(o.status is not OfferStatus.PENDING_APPROVAL for o in view.offers)
        if not made:
            what = promised["perk"].replace("_", " ")
            if promised.get("amount"):
                what += f" worth {promised['currency']} {promised['amount']}"
            note = (
                f"This draft promises a {what}: make that offer (under Offer) before you send, "
                "so that the customer gets its code, or take the sentence out."
            )
    shown.append(
        Composer(
            which="private",
            title="Private reply" if view.public_and_private else "Reply",
            where=f"Sent privately, by {route}.",
            text=text,
            public=False,
            channel=private_key,
            limit=limits.get(private_key) if private_key else None,
            findings=_findings(text, found.get("private", [])) if text else [],
            sent_at=sent,
            note=note,
        )
    )
    return shown


def _assign_choices(session: Session, user: Principal) -> list[TeamChoice]:
    """Every team (a case may be handed to any team's queue), with the active agents of the
    teams this person works."""
    teams = session.scalars(
        select(Team).options(selectinload(Team.agents)).order_by(Team.name)
    ).all()
    return [
        TeamChoice(
            team.name,
            tuple(AgentChoice(a.email, a.name) for a in team.agents if a.active)
            if user.team_ids is None or team.id in user.team_ids
            else (),
        )
        for team in teams
    ]


def _problem_choices(session: Session, case_id: int) -> list[Choice]:
    """Problems being worked that the case is not linked to yet, newest first."""
    linked = select(ProblemCase.problem_id).where(ProblemCase.case_id == case_id)
    rows = session.execute(
        select(Problem.id, Problem.title, Problem.status)
        .where(Problem.status.in_(LINKABLE_PROBLEMS), Problem.id.not_in(linked))
        .order_by(Problem.id.desc())
        .limit(MAX_CHOICES)
    )
    return [Choice(pid, title, status.value) for pid, title, status in rows]


def _incident_choices(session: Session, case_id: int) -> list[Choice]:
    """Open incidents the case is not in, newest first."""
    linked = select(IncidentCase.incident_id).where(IncidentCase.case_id == case_id)
    rows = session.execute(
        select(Incident.id, Incident.title, Incident.tier)
        .where(Incident.status == IncidentStatus.OPEN, Incident.id.not_in(linked))
        .order_by(Incident.id.desc())
        .limit(MAX_CHOICES)
    )
    return [Choice(iid, title, tier.value) for iid, title, tier in rows]


def _merge_targets(session: Session, user: Principal, view: CaseView) -> list[Choice]:
    """The customer's other open cases this person works: where this case may be merged."""
    rows = session.execute(
        select(Case.id, Case.subject, Case.status)
        .where(
            Case.customer_id == view.customer.id,
            Case.id != view.case.id,
            Case.merged_into_id.is_(None),
            Case.status.in_(OPEN_STATUSES),
            visible_case_filter(user),
        )
        .order_by(Case.id.desc())
        .limit(MAX_CHOICES)
    )
    return [Choice(cid, subject, STATUS_WORDS[status]) for cid, subject, status in rows]


def _status_actions(status: CaseStatus) -> list[tuple[str, str]]:
    return [(t.value, label) for t, label in STATUS_ACTIONS if can_transition(status, t)]


def _remedy(kind: RemedyKind) -> str:
    return kind.value.replace("_", " ")


def _suggested(s: Suggestion | None) -> tuple[str, list[tuple[str, str, str]]]:
    """The suggestion in words, and one button per offer it suggests: (kind, amount, label)."""
    if s is None:
        return "", []
    worth = f" worth {_money(s.amount, s.currency)}" if s.amount is not None else ""
    parts: list[str] = []
    buttons: list[tuple[str, str, str]] = []
    amount = f"{s.amount:f}" if s.amount is not None else ""
    if s.fix is not None:
        parts.append(f"the {_remedy(s.fix)}")
        buttons.append((s.fix.value, "", f"Offer the {_remedy(s.fix)}"))
    if s.options:
        parts.append("a choice of " + " or ".join(_remedy(o) for o in s.options) + worth)
        buttons += [(o.value, amount, f"Offer {_remedy(o)}{worth}") for o in s.options]
    if s.perk is not None:
        parts.append(f"{_remedy(s.perk)}{worth} as a sign of apology")
        if s.perk not in s.options:
            buttons.append((s.perk.value, amount, f"Offer {_remedy(s.perk)}{worth}"))
    words = "; and ".join(parts)
    return words[:1].upper() + words[1:] + ".", buttons


def _money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def _tenure(days: int | None) -> str | None:
    if days is None:
        return None
    if days >= 730:
        return f"{days // 365} years"
    if days >= 60:
        return f"{days // 30} months"
    return f"{days} days" if days != 1 else "1 day"


def _safe_url(url: str | None) -> str | None:
    """Only web links are shown as links: never javascript: or data: from an import."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _sentiment_words(score: float | None) -> str | None:
    if score is None:
        return None
    if score <= -0.5:
        return "very negative"
    if score <= -0.1:
        return "negative"
    if score < 0.1:
        return "neutral"
    return "positive" if score < 0.5 else "very positive"


def _page(
    request: Request,
    session: Session,
    user: Principal,
    case_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    edit: Edit | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now: datetime = request.app.state.clock()
    view = case_view(session, case_id, now=now)
    policy = active_policy(session)
    case = view.case
    is_open = case.status in OPEN_STATUSES and case.merged_into_id is None
    composers = _composers(session, view, policy, now=now) if is_open else []
    for c in composers:
        if edit is not None and c.which == edit.which:
            c.text, c.override, c.waiting = edit.text, edit.override, edit.waiting
            c.findings = _findings(edit.text.strip(), edit.blocked) if edit.blocked else []
            c.blocked = edit.blocked is not None
    deadlines = [_deadline(d, now=now, paused=case.paused_at is not None) for d in case.deadlines]
    config = {
        "caseId": case.id,
        "checkUrl": "/api/v1/check",
        "now": now.isoformat(),
        "composers": {
            c.which: {"public": c.public, "channel": c.channel, "limit": c.limit} for c in composers
        },
    }
    suggested_words, suggested_buttons = _suggested(view.suggestion)
    merged = case.merged_into_id is not None
    may_link = user.at_least(Role.LEAD) and not merged
    in_incident = next((i for i in view.incidents if i.status == IncidentStatus.OPEN), None)
    return render(
        request,
        "case.html",
        {
            "view": view,
            "case": case,
            "now": now,
            "notice": notice,
            "error": error,
            "is_open": is_open,
            "composers": composers,
            "composer_data": config,
            "deadlines": deadlines,
            "reach": _reach(view),
            "handle": _handle(view),
            "status_words": STATUS_WORDS,
            "channel_words": CHANNEL_WORDS,
            "severity_level": SEVERITY_LEVEL,
            "status_actions": _status_actions(case.status) if case.merged_into_id is None else [],
            "can_reopen": case.status not in OPEN_STATUSES and case.merged_into_id is None,
            "teams": _assign_choices(session, user),
            "remedy_kinds": [k.value for k in RemedyKind],
            "may_approve": user.at_least(Role.LEAD),
            "suggested_words": suggested_words,
            "suggested_buttons": suggested_buttons,
            "currency": policy.compensation.currency,
            "is_agent": user.agent_id is not None,
            "tenure": _tenure(view.customer.loyalty.tenure_days),
            "safe_url": _safe_url,
            "sentiment_words": _sentiment_words,
            "entry_classes": _entry_classes,
            "may_link": may_link,
            "problem_choices": _problem_choices(session, case.id) if may_link else [],
            "open_incident": in_incident,
            "incident_choices": (
                _incident_choices(session, case.id) if may_link and in_incident is None else []
            ),
            "merge_targets": [] if merged else _merge_targets(session, user, view),
        },
        status_code=status_code,
    )


def _entry_classes(entry: TimelineEntry) -> str:
    if entry.message is None:
        return "entry event"
    classes = ["entry", "msg", "in" if entry.kind == "message" else "out"]
    if entry.kind == "auto_reply":
        classes.append("auto")
    return " ".join(classes)


def _visible_case(session: Session, user: Principal, case_id: int) -> Case:
    case = cases.get_case(session, case_id)
    check_case_visible(user, case)
    return case


def _refused(
    request: Request,
    session: Session,
    user: Principal,
    case_id: int,
    exc: DomainError,
    *,
    edit: Edit | None = None,
) -> HTMLResponse:
    """The page again, saying why the action was refused."""
    return _page(
        request,
        session,
        user,
        case_id,
        error=_sentence(exc.detail),
        edit=edit,
        status_code=status_for(exc),
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")).strip()


def _act(
    request: Request,
    session: Session,
    user: Principal,
    case_id: int,
    done: str,
    step: Callable[[], object],
) -> Response:
    """Run one action in a savepoint, so that a refusal leaves nothing half-done: back to the
    case with the `done` notice, or the page again with the refusal's reason."""
    try:
        with session.begin_nested():
            step()
    except DomainError as exc:
        return _refused(request, session, user, case_id, exc)
    return _back(case_id, done)


def _back(case_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}?done={done}", status_code=303)


def _form_id(text: str, what: str) -> int:
    """The number chosen or typed in a form ('#' allowed); InvalidInput for anything else."""
    value = text.strip().removeprefix("#")
    if not value:
        raise InvalidInput(f"choose {what}")
    found = as_id(value)
    if found is None:
        raise InvalidInput(f"{value[:20]!r} is not the number of {what}")
    return found


def _not_merged(case: Case) -> None:
    """A merged case lives on in the case it went into: links go there."""
    if case.merged_into_id is not None:
        raise InvalidTransition(f"case {case.id} was merged into case {case.merged_into_id}")


def _lead_only(user: Principal, what: str) -> None:
    """Problems and incidents are changed by leads, here as in the API."""
    if not user.at_least(Role.LEAD):
        raise Forbidden(f"only a lead or an admin may {what}")


def _as_agent(user: Principal, what: str) -> str:
    """The email a reply or an offer is made under: only a person who is an agent makes one."""
    if user.agent_id is None:
        raise InvalidInput(
            f"{what} are made by agents, and {user.email} is not an agent of any team yet: "
            "an admin adds you to a team"
        )
    return user.email


# ---- the page ---------------------------------------------------------------------------------


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: IdPath,
    session: SessionDep,
    user: CurrentUser,
    done: str | None = None,
) -> HTMLResponse:
    _visible_case(session, user, case_id)
    return _page(request, session, user, case_id, notice=NOTICES.get(done or ""))


# ---- replying ---------------------------------------------------------------------------------


@router.post("/cases/{case_id}/reply", response_class=HTMLResponse)
def send_reply(
    request: Request,
    case_id: IdPath,
    session: SessionDep,
    user: CheckedUser,
    text: Annotated[str, Form(max_length=replies.MAX_REPLY_CHARS)] = "",
    public: Annotated[str, Form(max_length=10)] = "private",
    override: Annotated[str, Form(max_length=MAX_OVERRIDE)] = "",
    waiting: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Check the reply and record it as sent, as the signed-in agent. A blocking finding sends
    the page back with the findings and a field for the reason to send it anyway."""
    case = _visible_case(session, user, case_id)
    which = "public" if case.public and public == "public" else "private"
    now = request.app.state.clock()
    first_before = case.first_responded_at
    reason = override.strip() or None
    try:
        with session.begin_nested():
            agent = _as_agent(user, "replies")
            _, result = replies.send(
                session,
                case_id,
                text,
                agent_email=agent,
                now=now,
                policy=active_policy(session),
                public=(which == "public") if case.public else None,
                override=reason,
                waiting=bool(waiting),
            )
    except DomainError as exc:
        blocked = exc.findings if isinstance(exc, ReplyBlocked) else None
        edit = Edit(which, text, override, bool(waiting), blocked)
        return _refused(request, session, user, case_id, exc, edit=edit)
    session.refresh(case)
    if result.blocking:
        return _back(case_id, "overridden")
    if first_before is None and case.first_responded_at is not None:
        first = next(d for d in cases.deadlines(case) if d.clock.value == "first_response")
        return _back(case_id, "first_late" if first.breached(now) else "first_on_time")
    if first_before is None and case.public and which == "private":
        return _back(case_id, "private_first")
    return _back(case_id, "sent")


# ---- the case's status and owner -----------------------------------------------------------


@router.post("/cases/{case_id}/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    case_id: IdPath,
    session: SessionDep,
    user: CheckedUser,
    status: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=MAX_OVERRIDE)] = "",
) -> Response:
    case = _visible_case(session, user, case_id)
    now = request.app.state.clock()
    try:
        with session.begin_nested():
            policy = active_policy(session)
            why = reason.strip() or None
            if status == "reopen":
                cases.reopen(session, case.id, actor=user.actor, now=now, policy=policy, reason=why)
            else:
                try:
                    target = CaseStatus(status)
                except ValueError:
                    raise InvalidInput(f"unknown status {status[:40]!r}") from None
                if target is CaseStatus.ACKNOWLEDGED:
                    raise InvalidInput("a case is acknowledged by replying to the customer")
                cases.transition(
                    session, case.id, target, actor=user.actor, now=now, policy=policy, reason=why
                )
    except DomainError as exc:
        return _refused(request, session, user, case_id, exc)
    return _back(case_id, "status")


@router.post("/cases/{case_id}/assign", response_class=HTMLResponse)
def assign(
    request: Request,
    case_id: IdPath,
    session: SessionDep,
    user: CheckedUser,
    to: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """To an agent of a team this person works (`agent:<email>`), or to a team's queue
    (`team:<name>`)."""
    case = _visible_case(session, user, case_id)
    now = request.app.state.clock()
    kind, _, value = to.partition(":")
    try:
        with session.begin_nested():
            if kind == "agent" and value:
                agent = session.scalar(select(Agent).where(Agent.email == value.strip().lower()))
                if agent is not None and not user.sees(agent.team_id, None):
                    raise Forbidden(f"{agent.email} works in a team you are not in")
                cases.assign(
                    session,
                    case.id,
                    agent_email=value,
                    team_name=None,
                    actor=user.actor,
                    now=now,
                )
            elif kind == "team" and value:
                cases.assign(
                    session, case.id, agent_email=None, team_name=value, actor=user.actor, now=now
                )
            else:
                raise InvalidInput("choose an agent or a team")
    except DomainError as exc:
        return _refused(request, session, user, case_id, exc)
    session.refresh(case)
    if not user.sees(case.team_id, case.assignee_id):
        # Handed to another team: this person no longer works it.
        return RedirectResponse("/queue", status_code=303)
    return _back(case_id, "assigned")


# ---- offers -----------------------------------------------------------------------------------


@router.post("/cases/{case_id}/offers", response_class=HTMLResponse)
def make_offer(
    request: Request,
    case_id: IdPath,
    session: SessionDep,
    user: CheckedUser,
    kind: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    """Above the agent's cap (or the budget) the offer waits for a lead's approval."""
    case = _visible_case(session, user, case_id)
    now = request.app.state.clock()
    try:
        with session.begin_nested():
            by = _as_agent(user, "offers")
            try:
                remedy = RemedyKind(kind)
            except ValueError:
                raise InvalidInput("choose what to offer") from None
            value: Decimal | None = offers.parse_amount(amount.strip() or None)
            offer = offers.make_offer(
                session,
                case.id,
                kind=remedy,
                amount=value,
                by=by,
                now=now,
                policy=active_policy(session),
                note=note or None,
            )
    except DomainError as exc:
        return _refused(request, session, user, case_id, exc)
    pending = offer.status is OfferStatus.PENDING_APPROVAL
    return _back(case_id, "offer_pending" if pending else "offer_made")


@router.post("/offers/{offer_id}/approve", response_class=HTMLResponse)
def approve_offer(
    request: Request, offer_id: IdPath, session: SessionDep, user: CheckedUser
) -> Response:
    """A lead approves an offer that waits: it is made, with its voucher."""
    offer = offers.get_offer(session, offer_id)
    case = _visible_case(session, user, offer.case_id)
    if not user.at_least(Role.LEAD):
        raise Forbidden("only a lead approves offers")
    now = request.app.state.clock()
    return _act(
        request,
        session,
        user,
        case.id,
        "offer_approved",
        lambda: offers.approve(
            session, offer_id, by=user.email, now=now, policy=active_policy(session)
        ),
    )


def _case_offer(session: Session, user: Principal, case_id: int, offer_id: int) -> Offer:
    """The offer, when it is one of this case's and the person works the case."""
    case = _visible_case(session, user, case_id)
    offer = offers.get_offer(session, offer_id)
    if offer.case_id != case.id:
        raise NotFound("offer", offer_id)
    return offer


@router.post("/cases/{case_id}/offers/{offer_id}/accept", response_class=HTMLResponse)
def offer_accepted(
    request: Request, case_id: IdPath, offer_id: IdPath, session: SessionDep, user: CheckedUser
) -> Response:
    """The customer took the offer; the person who heard it records it."""
    _case_offer(session, user, case_id, offer_id)
    now = request.app.state.clock()
    return _act(
        request,
        session,
        user,
        case_id,
        "offer_accepted",
        lambda: offers.accept(session, offer_id, now=now, by=user.email),
    )


@router.post("/cases/{case_id}/offers/{offer_id}/refuse", response_class=HTMLResponse)
def offer_refused(
    request: Request,
    case_id: IdPath,
    offer_id: IdPath,
    session: SessionDep,
    user: CheckedUser,
    reason: Annotated[str, Form(max_length=MAX_OVERRIDE)] = "",
) -> Response:
    """The customer said no, for the reason they gave if any: the voucher is void, and no
    later suggestion for them is worth more."""
    _case_offer(session, user, case_id, offer_id)
    now = request.app.state.clock()
    return _act(
        request,
        session,
        user,
        case_id,
        "offer_refused",
        lambda: offers.refuse(
            session, offer_id, now=now, reason=reason.strip() or None, by=user.email
        ),
    )


@router.post("/cases/{case_id}/offers/{offer_id}/withdraw", response_class=HTMLResponse)
def offer_withdrawn(
    request: Request,
    case_id: IdPath,
    offer_id: IdPath,
    session: SessionDep,
    user: CheckedUser,
    reason: Annotated[str, Form(max_length=MAX_OVERRIDE)] = "",
) -> Response:
    """Take back an offer that waits for approval or for the customer. The desk asks why: the
    customer may have been told of it, and the reason is kept on the offer."""
    _case_offer(session, user, case_id, offer_id)
    now = request.app.state.clock()

    def withdraw() -> None:
        if not reason.strip():
            raise InvalidInput("say why the offer is withdrawn")
        offers.withdraw(session, offer_id, now=now, reason=reason.strip(), by=user.email)

    return _act(request, session, user, case_id, "offer_withdrawn", withdraw)


# ---- problems, incidents and merging ----------------------------------------------------------


@router.post("/cases/{case_id}/problems", response_class=HTMLResponse)
def link_problem(
    request: Request,
    case_id: IdPath,
    session: SessionDep,
    user: CheckedUser,
    problem: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A lead links the case to a problem being worked (open, fixed or recurring)."""
    case = _visible_case(session, user, case_id)
    _lead_only(user, "link a case to a problem")
    _not_merged(case)
    now = request.app.state.clock()
    try:
        with session.begin_nested():
            found = problems.get_problem(session, _form_id(problem, "a problem"))
            if found.status not in LINKABLE_PROBLEMS:
                raise InvalidTransition(
                    f"problem {found.id} is {found.status.value}: link cases to one that is "
                    "open, fixed or recurring"
                )
            added = problems.link_cases(session, found.id, [case.id], actor=user.actor, now=now)
            if not added:
                raise Conflict(f"case {case.id} is linked to problem {found.id} already")
    except DomainError as exc:
        return _refused(request, session, user, case_id, exc)
    return _back(case_id, "problem_linked")


@router.post("/cases/{case_id}/incidents", response_class=HTMLResponse)
def add_to_incident(
    request: Request,
    case_id: IdPath,
    session: SessionDep,
    user: CheckedUser,
    incident: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A lead adds the case to an open incident by hand; its customers, reach and tier follow.
    A case already in another open incident is refused: it is removed there first."""
    case = _visible_case(session, user, case_id)
    _lead_only(user, "add a case to an incident")
    _not_merged(case)
    now = request.app.state.clock()
    try:
        with session.begin_nested():
            found = incidents.get_incident(session, _form_id(incident, "an incident"))
            if found.status is not IncidentStatus.OPEN:
                raise InvalidTransition(
                    f"incident {found.id} is {found.status.value}: add the case to an open one"
                )
            added = incidents.add_cases(
                session,
                found.id,
                [case.id],
                how="hand",
                actor=user.actor,
                now=now,
                policy=active_policy(session),
            )
            if not added:
                raise Conflict(f"case {case.id} is in incident {found.id} already")
    except DomainError as exc:
        return _refused(request, session, user, case_id, exc)
    return _back(case_id, "incident_linked")


@router.post("/cases/{case_id}/merge", response_class=HTMLResponse)
def merge_into(
    request: Request,
    case_id: IdPath,
    session: SessionDep,
    user: CheckedUser,
    into: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=MAX_OVERRIDE)] = "",
) -> Response:
    """Fold this case into another open case of the same customer, which this person must
    work too (as the API checks both); the answer is the page of the case that is kept."""
    case = _visible_case(session, user, case_id)
    now = request.app.state.clock()
    try:
        with session.begin_nested():
            keep = _visible_case(session, user, _form_id(into, "the case to merge into"))
            cases.merge(
                session,
                keep.id,
                case.id,
                actor=user.actor,
                now=now,
                policy=active_policy(session),
                reason=reason.strip() or None,
            )
    except DomainError as exc:
        return _refused(request, session, user, case_id, exc)
    return _back(keep.id, "merged")
