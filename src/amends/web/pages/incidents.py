"""The incidents pages: the list (open first), and one incident with its tier and why, its
cases, the public statements its tier calls for, and its timeline. Leads open incidents, post
updates and resolve them; everyone signed in reads."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, selectinload

from amends.api.deps import ClockDep, SessionDep
from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES
from amends.db import as_id
from amends.errors import DomainError, InvalidInput, NotFound
from amends.incidents import service
from amends.incidents.models import Incident, IncidentCase, IncidentEvent
from amends.incidents.rules import TIER_ORDER, IncidentStatus, Threshold, Tier
from amends.playbook.service import active_policy
from amends.problems.service import get_problem
from amends.users.rules import Role
from amends.users.service import Principal, visible_case_filter
from amends.web.auth import CheckedUser, CurrentUser, LeadUser
from amends.web.render import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
CASES_SHOWN = 200  # linked cases listed on a page; the rest are counted
MAX_CASE_NUMBERS = 1000  # case numbers typed into one form

TIER_NAMES: dict[Tier, str] = {
    Tier.INDIVIDUAL: "Individual replies",
    Tier.SOCIAL_POST: "Social post",
    Tier.BLOG_POST: "Blog post",
    Tier.PRESS_RELEASE: "Press release",
}
TIER_BADGES: dict[Tier, str] = {
    Tier.INDIVIDUAL: "",
    Tier.SOCIAL_POST: "warn",
    Tier.BLOG_POST: "warn",
    Tier.PRESS_RELEASE: "bad",
}
STATUS_FILTERS = ("all", "open", "resolved")
FACTS = (
    ("what_happened", "What happened"),
    ("who_is_affected", "Who is affected"),
    ("what_we_are_doing", "What we are doing"),
    ("what_will_change", "What will change"),
)
_DONE = {
    "opened": "The incident is open.",
    "update": "Update posted.",
    "resolved": "The incident is resolved.",
}
_HOW = {"spike": "from the spike", "similar": "as similar complaints", "hand": "by hand"}


# ---- shared with the problems pages ---------------------------------------------------------


def page_id(text: str, what: str) -> int:
    """An id from the address; NotFound (a 404 page) for anything that is not one."""
    found = as_id(text)
    if found is None:
        raise NotFound(what, text[:40])
    return found


def page_number(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 100_000 else 1


def case_numbers(text: str) -> list[int]:
    """Case numbers typed into a form: separated by commas or spaces, '#' allowed."""
    numbers = []
    for token in re.split(r"[\s,;]+", text.strip()):
        if not token:
            continue
        number = as_id(token.removeprefix("#"))
        if number is None:
            raise InvalidInput(f"{token[:20]!r} is not a case number")
        numbers.append(number)
    if len(numbers) > MAX_CASE_NUMBERS:
        raise InvalidInput(f"at most {MAX_CASE_NUMBERS} case numbers at once")
    return numbers


@dataclass(frozen=True)
class CaseList:
    """The linked cases one person may open, and how many others there are."""

    rows: list[Case]
    visible: int
    total: int

    @property
    def hidden(self) -> int:
        return self.total - self.visible

    @property
    def more(self) -> int:
        return self.visible - len(self.rows)


def case_list(session: Session, user: Principal, linked: Select[Any], total: int) -> CaseList:
    """`linked` selects case ids; cases of another team are counted, never listed."""
    mine: ColumnElement[bool] = Case.id.in_(linked) & visible_case_filter(user)
    visible = session.scalar(select(func.count(Case.id)).where(mine)) or 0
    rows = session.scalars(
        select(Case)
        .where(mine)
        .options(selectinload(Case.customer), selectinload(Case.team))
        .order_by(Case.id)
        .limit(CASES_SHOWN)
    )
    return CaseList(rows=list(rows), visible=visible, total=total)


# ---- the list --------------------------------------------------------------------------------


def _list_context(session: Session, *, status: str, page: int) -> dict[str, Any]:
    query = select(Incident)
    if status in ("open", "resolved"):
        query = query.where(Incident.status == IncidentStatus(status))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    open_first = sql_case((Incident.status == IncidentStatus.OPEN, 0), else_=1)
    rows = list(
        session.scalars(
            query.order_by(open_first, Incident.id.desc())
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    counts: dict[int, int] = {}
    if rows:
        found = session.execute(
            select(IncidentCase.incident_id, func.count())
            .where(IncidentCase.incident_id.in_([r.id for r in rows]))
            .group_by(IncidentCase.incident_id)
        )
        counts = {int(i): int(n) for i, n in found.all()}
    open_count = session.scalar(
        select(func.count(Incident.id)).where(Incident.status == IncidentStatus.OPEN)
    )
    return {
        "incidents": rows,
        "case_counts": counts,
        "total": total,
        "open_count": open_count or 0,
        "status": status,
        "filters": STATUS_FILTERS,
        "page": page,
        "pages": max(1, -(-total // PER_PAGE)),
    }


def _list_page(
    request: Request,
    session: Session,
    user: Principal,
    *,
    status: str = "all",
    page: int = 1,
    error: str | None = None,
    form: dict[str, str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    context = _list_context(session, status=status, page=page)
    policy = active_policy(session)
    return render(
        request,
        "incidents.html",
        {
            **context,
            "tier_names": TIER_NAMES,
            "tier_badges": TIER_BADGES,
            "can_change": user.at_least(Role.LEAD),
            "smallest_tier": _threshold_words(policy.incidents.tiers.get(Tier.SOCIAL_POST)),
            "error": error,
            "form": form or {},
        },
        status_code=code,
    )


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request, session: SessionDep, user: CurrentUser, status: str = "", page: str = "1"
) -> HTMLResponse:
    chosen = status if status in STATUS_FILTERS else "all"
    return _list_page(request, session, user, status=chosen, page=page_number(page))


@router.post("/incidents", response_class=HTMLResponse)
def open_incident(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
    title: Annotated[str, Form(max_length=200)] = "",
    cases: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    try:
        with session.begin_nested():
            row = service.open_incident(
                session,
                title=title,
                now=clock(),
                actor=user.actor,
                policy=active_policy(session),
                cases=case_numbers(cases),
            )
    except DomainError as exc:
        return _list_page(
            request,
            session,
            user,
            error=sentence(exc.detail),
            form={"title": title, "cases": cases},
            code=status_of(exc),
        )
    return RedirectResponse(f"/incidents/{row.id}?done=opened", status_code=303)


# ---- one incident ---------------------------------------------------------------------------


def _threshold_words(threshold: Threshold | None) -> str | None:
    if threshold is None:
        return None
    parts = []
    if threshold.customers is not None:
        parts.append(f"{threshold.customers:,} customers")
    if threshold.reach is not None:
        parts.append(f"a public reach of {threshold.reach:,}")
    return " or ".join(parts) or None


def tier_reasons(incident: Incident, tiers: dict[Tier, Threshold]) -> list[str]:
    """Why the incident has its tier, and what the next one needs, in words."""
    reasons = []
    size = (
        f"{incident.customers:,} customer{'s' if incident.customers != 1 else ''} affected, "
        f"a public reach of {incident.reach:,}"
    )
    threshold = tiers.get(incident.tier)
    if incident.tier is Tier.INDIVIDUAL or threshold is None:
        reasons.append(f"{size}: each customer gets a personal reply; no public statement.")
    else:
        reasons.append(
            f"{size}: that reaches the {TIER_NAMES[incident.tier].lower()} tier, which starts "
            f"at {_threshold_words(threshold)}."
        )
    for bigger in TIER_ORDER[TIER_ORDER.index(incident.tier) + 1 :]:
        words = _threshold_words(tiers.get(bigger))
        if words:
            reasons.append(f"The {TIER_NAMES[bigger].lower()} tier starts at {words}.")
            break
    return reasons


def _tier_words(value: object) -> str:
    names = {tier.value: name.lower() for tier, name in TIER_NAMES.items()}
    return names.get(str(value), str(value).replace("_", " "))


def _who(actor: str) -> str:
    if actor == "detector":
        return "spike detector"
    return actor.removeprefix("agent:")


def _ids(values: Sequence[Any], shown: int = 20) -> str:
    words = ", ".join(f"#{v}" for v in values[:shown])
    return words + (f" and {len(values) - shown} more" if len(values) > shown else "")


def _fact_names(data: dict[str, Any]) -> str:
    names = {"title": "title", "problem": "root cause", **{k: v.lower() for k, v in FACTS}}
    return ", ".join(names.get(k, k.replace("_", " ")) for k in data)


def event_words(event: IncidentEvent) -> str:
    """What one timeline entry says happened."""
    data = event.data or {}
    if event.kind == "opened":
        key = data.get("key")
        return f"Opened for a spike in {key.replace(':', ' ')}" if key else "Opened by hand"
    if event.kind == "cases_added":
        count = int(data.get("count", len(data.get("cases", []))))
        how = _HOW.get(str(data.get("how")), "")
        return f"{count} case{'s' if count != 1 else ''} added {how}: {_ids(data.get('cases', []))}"
    if event.kind == "case_removed":
        return f"Case #{data.get('case')} removed"
    if event.kind == "tier":
        return f"Tier changed from {_tier_words(data.get('from'))} to {_tier_words(data.get('to'))}"
    if event.kind == "update":
        return f"Update; set {_fact_names(data)}" if data else "Update"
    if event.kind == "resolved":
        replied = int(data.get("replied", 0))
        words = f"Resolved; {replied} customer{'s' if replied != 1 else ''} written to"
        if data.get("left_open"):
            words += f", {len(data['left_open'])} left open for a person"
        return words
    return event.kind.replace("_", " ").capitalize()


def _resolution(events: list[IncidentEvent]) -> dict[str, Any] | None:
    for event in reversed(events):
        if event.kind == "resolved":
            return {"at": event.at, "text": event.text, **(event.data or {})}
    return None


def _statements(session: Session, incident: Incident, tier: Tier) -> list[dict[str, Any]]:
    drafts = service.drafted_statements(
        session, incident.id, policy=active_policy(session), tier=tier
    )
    return [{"tier": key, "name": TIER_NAMES[Tier(key)], **value} for key, value in drafts.items()]


def _detail_page(
    request: Request,
    session: Session,
    user: Principal,
    incident_id: int,
    *,
    preview: str = "",
    done: str = "",
    error: str | None = None,
    form: dict[str, str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    incident = service.get_incident(session, incident_id)
    policy = active_policy(session)
    events = service.timeline(session, incident_id)
    total = (
        session.scalar(
            select(func.count(IncidentCase.id)).where(IncidentCase.incident_id == incident_id)
        )
        or 0
    )
    linked = select(IncidentCase.case_id).where(IncidentCase.incident_id == incident_id)
    cases = case_list(session, user, linked, total)
    tier = Tier(preview) if preview in {t.value for t in TIER_ORDER} else incident.tier
    resolution = _resolution(events)
    everyone_left = [int(c) for c in (resolution or {}).get("left_open", [])]
    left_open = everyone_left[:CASES_SHOWN]
    visible_left = (
        set(
            session.scalars(
                select(Case.id).where(Case.id.in_(left_open), visible_case_filter(user))
            )
        )
        if left_open
        else set()
    )
    open_cases = 0
    if incident.status is IncidentStatus.OPEN:
        open_cases = (
            session.scalar(
                select(func.count(Case.id)).where(
                    Case.id.in_(linked),
                    Case.status.in_(OPEN_STATUSES),
                    Case.merged_into_id.is_(None),
                )
            )
            or 0
        )
    problem = None
    if incident.problem_id is not None:
        problem = get_problem(session, incident.problem_id)
    facts = {name: getattr(incident, name) or "" for name, _ in FACTS}
    return render(
        request,
        "incidents_detail.html",
        {
            "incident": incident,
            "tier_name": TIER_NAMES[incident.tier],
            "tier_badge": TIER_BADGES[incident.tier],
            "tier_reasons": tier_reasons(incident, dict(policy.incidents.tiers)),
            "tier_names": TIER_NAMES,
            "preview": tier,
            "previewing": tier is not incident.tier,
            "statements": _statements(session, incident, tier),
            "cases": cases,
            "open_cases": open_cases,
            "timeline": [
                {"event": e, "who": _who(e.actor), "what": event_words(e)} for e in events
            ],
            "resolution": resolution,
            "left_open": [(c, c in visible_left) for c in left_open],
            "left_more": len(everyone_left) - len(left_open),
            "problem": problem,
            "facts": FACTS,
            "stated": [(label, facts[name]) for name, label in FACTS if facts[name]],
            "form": {**facts, **(form or {})},
            "can_change": user.at_least(Role.LEAD),
            "done": _DONE.get(done),
            "error": error,
        },
        status_code=code,
    )


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    request: Request,
    incident_id: str,
    session: SessionDep,
    user: CurrentUser,
    tier: str = "",
    done: str = "",
) -> HTMLResponse:
    return _detail_page(
        request, session, user, page_id(incident_id, "incident"), preview=tier, done=done
    )


@router.post("/incidents/{incident_id}/updates", response_class=HTMLResponse)
def post_update(
    request: Request,
    incident_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
    text: Annotated[str, Form(max_length=5000)] = "",
    what_happened: Annotated[str, Form(max_length=5000)] = "",
    who_is_affected: Annotated[str, Form(max_length=5000)] = "",
    what_we_are_doing: Annotated[str, Form(max_length=5000)] = "",
    what_will_change: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    iid = page_id(incident_id, "incident")
    incident = service.get_incident(session, iid)
    sent = {
        "what_happened": what_happened,
        "who_is_affected": who_is_affected,
        "what_we_are_doing": what_we_are_doing,
        "what_will_change": what_will_change,
    }
    # Only what changed goes on the timeline; an emptied field clears the fact.
    changed = {
        name: value
        for name, value in sent.items()
        if (value.strip() or None) != (getattr(incident, name) or None)
    }
    try:
        with session.begin_nested():
            service.update(
                session,
                iid,
                actor=user.actor,
                now=clock(),
                text=text.strip() or None,
                what_happened=changed.get("what_happened"),
                who_is_affected=changed.get("who_is_affected"),
                what_we_are_doing=changed.get("what_we_are_doing"),
                what_will_change=changed.get("what_will_change"),
            )
    except DomainError as exc:
        return _detail_page(
            request,
            session,
            user,
            iid,
            error=sentence(exc.detail),
            form={"text": text, **sent},
            code=status_of(exc),
        )
    return RedirectResponse(f"/incidents/{iid}?done=update", status_code=303)


@router.post("/incidents/{incident_id}/resolve", response_class=HTMLResponse)
def resolve_incident(
    request: Request,
    incident_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
    text: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    iid = page_id(incident_id, "incident")
    service.get_incident(session, iid)
    try:
        with session.begin_nested():
            service.resolve(
                session,
                iid,
                actor=user.actor,
                now=clock(),
                policy=active_policy(session),
                text=text.strip() or None,
            )
    except DomainError as exc:
        return _detail_page(
            request,
            session,
            user,
            iid,
            error=sentence(exc.detail),
            form={"resolve_text": text},
            code=status_of(exc),
        )
    return RedirectResponse(f"/incidents/{iid}?done=resolved", status_code=303)


def sentence(text: str) -> str:
    """A service's message as a sentence for an alert."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def status_of(exc: DomainError) -> int:
    """The HTTP status a page answers a refused form with, as the API would."""
    from amends.api.app import status_for

    return status_for(exc)
