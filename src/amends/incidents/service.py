"""Incidents: opening, grouping cases, the tier, the timeline, statements and resolution.
Services flush; callers commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES, CaseStatus
from amends.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from amends.feedback.models import Feedback
from amends.feedback.rules import Direction
from amends.incidents.models import Incident, IncidentCase, IncidentEvent
from amends.incidents.rules import IncidentStatus, Tier, tier_for
from amends.incidents.statements import IncidentFacts, statements
from amends.playbook.rules import Policy
from amends.replies.checker import ReplyContext, check_reply

MAX_CASES = 100_000  # cases added in one call


def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("incident", incident_id)
    return incident


def list_incidents(
    session: Session, *, status: IncidentStatus | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Incident], int]:
    query = select(Incident)
    if status is not None:
        query = query.where(Incident.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Incident.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def timeline(session: Session, incident_id: int) -> list[IncidentEvent]:
    get_incident(session, incident_id)
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.id)
        )
    )


def case_ids(session: Session, incident_id: int) -> list[int]:
    return list(
        session.scalars(
            select(IncidentCase.case_id)
            .where(IncidentCase.incident_id == incident_id)
            .order_by(IncidentCase.case_id)
        )
    )


def note(
    session: Session,
    incident: Incident,
    kind: str,
    *,
    actor: str,
    now: datetime,
    text: str | None = None,
    data: dict[str, Any] | None = None,
) -> IncidentEvent:
    """Add to the incident's timeline."""
    event = IncidentEvent(
        incident_id=incident.id, at=now, kind=kind, actor=actor[:254], text=text, data=data or {}
    )
    session.add(event)
    return event


def open_incident(
    session: Session,
    *,
    title: str,
    now: datetime,
    actor: str,
    policy: Policy,
    key: str | None = None,
    cases: Sequence[int] = (),
    reason: str | None = None,
) -> Incident:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("an incident needs a title")
    incident = Incident(
        title=title[:200],
        key=key,
        opened_at=now,
        opened_by=actor[:254],
        status=IncidentStatus.OPEN,
        tier=Tier.INDIVIDUAL,
    )
    session.add(incident)
    session.flush()
    note(session, incident, "opened", actor=actor, now=now, text=reason, data={"key": key})
    if cases:
        add_cases(
            session,
            incident.id,
            cases,
            how="spike" if key else "hand",
            actor=actor,
            now=now,
            policy=policy,
        )
    return incident


def add_cases(
    session: Session,
    incident_id: int,
    cases: Iterable[int],
    *,
    how: str,
    actor: str,
    now: datetime,
    policy: Policy,
    similarity: dict[int, float] | None = None,
) -> list[int]:
    """Link cases to the incident; the customers, reach and tier follow. Returns those added."""
    incident = get_incident(session, incident_id)
    wanted = sorted(set(cases))
    if len(wanted) > MAX_CASES:
        raise InvalidInput(f"at most {MAX_CASES} cases at once")
    found = set(session.scalars(select(Case.id).where(Case.id.in_(wanted)))) if wanted else set()
    missing = [c for c in wanted if c not in found]
    if missing:
        raise NotFound("case", missing[0])
    linked = set(case_ids(session, incident_id))
    rows = session.execute(
        select(IncidentCase.case_id, IncidentCase.incident_id)
        .join(Incident, Incident.id == IncidentCase.incident_id)
        .where(
            Incident.status == IncidentStatus.OPEN,
            Incident.id != incident_id,
            IncidentCase.case_id.in_(wanted),
        )
    )
    elsewhere: dict[int, int] = {int(r[0]): int(r[1]) for r in rows}
    if elsewhere and how == "hand":
        case_id, other = next(iter(sorted(elsewhere.items())))
        raise Conflict(f"case {case_id} is in open incident {other}; remove it there first")
    added = [c for c in wanted if c not in linked and c not in elsewhere]
    for case_id in added:
        session.add(
            IncidentCase(
                incident_id=incident_id,
                case_id=case_id,
                added_at=now,
                added_by=actor[:254],
                how=how,
                similarity=(similarity or {}).get(case_id),
            )
        )
    if added:
        session.flush()
        note(
            session,
            incident,
            "cases_added",
            actor=actor,
            now=now,
            data={"cases": added[:1000], "count": len(added), "how": how},
        )
        recount(session, incident, now=now, actor=actor, policy=policy)
    return added


def remove_case(
    session: Session, incident_id: int, case_id: int, *, actor: str, now: datetime, policy: Policy
) -> None:
    incident = get_incident(session, incident_id)
    link = session.scalar(
        select(IncidentCase).where(
            IncidentCase.incident_id == incident_id, IncidentCase.case_id == case_id
        )
    )
    if link is None:
        raise NotFound("case on incident", case_id)
    session.delete(link)
    session.flush()
    note(session, incident, "case_removed", actor=actor, now=now, data={"case": case_id})
    recount(session, incident, now=now, actor=actor, policy=policy)


def recount(
    session: Session, incident: Incident, *, now: datetime, actor: str, policy: Policy
) -> None:
    """Customers affected and public reach (each customer's widest public complaint), then the
    tier; a change of tier goes on the timeline."""
    linked = select(IncidentCase.case_id).where(IncidentCase.incident_id == incident.id)
    incident.customers = (
        session.scalar(
            select(func.count(func.distinct(Case.customer_id))).where(Case.id.in_(linked))
        )
        or 0
    )
    widest = (
        select(Feedback.customer_id, func.max(Feedback.reach).label("reach"))
        .where(
            Feedback.case_id.in_(linked),
            Feedback.direction == Direction.IN,
            Feedback.public.is_(True),
        )
        .group_by(Feedback.customer_id)
        .subquery()
    )
    incident.reach = int(session.scalar(select(func.coalesce(func.sum(widest.c.reach), 0))) or 0)
    tier = tier_for(incident.customers, incident.reach, policy.incidents.tiers)
    if tier != incident.tier:
        note(
            session,
            incident,
            "tier",
            actor=actor,
            now=now,
            text=f"{incident.customers} customers, reach {incident.reach}",
            data={"from": incident.tier.value, "to": tier.value},
        )
        incident.tier = tier
    session.flush()


def update(
    session: Session,
    incident_id: int,
    *,
    actor: str,
    now: datetime,
    text: str | None = None,
    title: str | None = None,
    what_happened: str | None = None,
    who_is_affected: str | None = None,
    what_we_are_doing: str | None = None,
    what_will_change: str | None = None,
    problem_id: int | None = None,
) -> Incident:
    """An update on the timeline, and the facts the statements are drafted from."""
    incident = get_incident(session, incident_id)
    changed: dict[str, Any] = {}
    fields = {
        "title": title,
        "what_happened": what_happened,
        "who_is_affected": who_is_affected,
        "what_we_are_doing": what_we_are_doing,
        "what_will_change": what_will_change,
    }
    for name, value in fields.items():
        if value is not None:
            value = value.strip()
            setattr(incident, name, (value[:200] if name == "title" else value) or None)
            changed[name] = value
    if problem_id is not None:
        from amends.problems.service import get_problem

        get_problem(session, problem_id)
        incident.problem_id = problem_id
        changed["problem"] = problem_id
    if not changed and not (text and text.strip()):
        raise InvalidInput("an update needs text or a field to change")
    note(session, incident, "update", actor=actor, now=now, text=text, data=changed)
    session.flush()
    return incident


def first_complaint(session: Session, incident: Incident) -> datetime:
    """When the trouble started, as far as the desk knows: its first complaint in the day
    before it opened (its cases may hold older, unrelated messages)."""
    linked = select(IncidentCase.case_id).where(IncidentCase.incident_id == incident.id)
    first = session.scalar(
        select(func.min(Feedback.received_at)).where(
            Feedback.case_id.in_(linked),
            Feedback.direction == Direction.IN,
            Feedback.received_at >= incident.opened_at - timedelta(days=1),
        )
    )
    return min(first, incident.opened_at) if first is not None else incident.opened_at


def facts(incident: Incident, *, policy: Policy, since: datetime | None = None) -> IncidentFacts:
    category = incident.key.split(":", 1)[1] if incident.key and ":" in incident.key else None
    return IncidentFacts(
        title=incident.title,
        customers=incident.customers,
        opened_at=since or incident.opened_at,
        contact=policy.incidents.contact,
        category=category if incident.key and incident.key.startswith("category:") else None,
        what_happened=incident.what_happened,
        who_is_affected=incident.who_is_affected,
        what_we_are_doing=incident.what_we_are_doing,
        what_will_change=incident.what_will_change,
        resolved=incident.status is IncidentStatus.RESOLVED,
    )


def drafted_statements(
    session: Session, incident_id: int, *, policy: Policy, tier: Tier | None = None
) -> dict[str, dict[str, Any]]:
    """The statements the tier calls for, each with the reply checker's findings."""
    incident = get_incident(session, incident_id)
    since = first_complaint(session, incident)
    drafts = statements(facts(incident, policy=policy, since=since), tier or incident.tier)
    out: dict[str, dict[str, Any]] = {}
    for which, text in drafts.items():
        ctx = ReplyContext(public=True, channel="x" if which is Tier.SOCIAL_POST else None)
        found = check_reply(text, ctx, policy.checker)
        out[which.value] = {"text": text, **found.to_dict()}
    return out


def resolve(
    session: Session,
    incident_id: int,
    *,
    actor: str,
    now: datetime,
    policy: Policy,
    text: str | None = None,
) -> dict[str, Any]:
    """Close the incident; every linked case still open gets a personal private reply (drafted
    with what will change) and is resolved, which schedules its follow-up. A case whose letter
    the checker would block is left open for a person, and listed."""
    from amends.cases.service import transition
    from amends.replies.service import draft, send

    incident = get_incident(session, incident_id)
    if incident.status is IncidentStatus.RESOLVED:
        raise InvalidTransition(f"incident {incident.id} is resolved already")
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = now
    replied = resolved = closed = 0
    left_open: list[int] = []
    change = incident.what_will_change
    for case_id in case_ids(session, incident.id):
        case = session.get(Case, case_id)
        if case is None or case.status not in OPEN_STATUSES or case.merged_into_id is not None:
            closed += 1
            continue
        # The letter speaks for the team; any compensation is an offer of its own, made and
        # recorded on the case, never promised in passing here.
        drafted = draft(
            session, case_id, policy=policy, now=now, change=change, perks=False, as_team=True
        )
        if drafted.blocking:
            left_open.append(case_id)  # a person writes this one
            continue
        send(
            session,
            case_id,
            drafted.private,
            agent_email=None,
            now=now,
            policy=policy,
            public=False,
        )
        replied += 1
        if case.status is not CaseStatus.RESOLVED:
            transition(
                session,
                case_id,
                CaseStatus.RESOLVED,
                actor=actor,
                now=now,
                policy=policy,
                reason=f"incident {incident.id} resolved",
            )
            resolved += 1
    counts: dict[str, Any] = {
        "replied": replied,
        "resolved": resolved,
        "already_closed": closed,
        "left_open": left_open,
    }
    note(session, incident, "resolved", actor=actor, now=now, text=text, data=counts)
    session.flush()
    return counts
