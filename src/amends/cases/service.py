"""Cases: the lifecycle, the SLA clocks, assignment, merge and split. Services flush; callers
commit. Every change is recorded as a CaseEvent with who, when and why."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from amends.cases.models import Case, CaseEvent
from amends.cases.rules import (
    OPEN_STATUSES,
    CaseStatus,
    Clock,
    Deadline,
    can_transition,
    is_reopen,
    raised,
)
from amends.db import chunked
from amends.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from amends.feedback.models import Feedback
from amends.feedback.rules import Direction
from amends.playbook.rules import Policy
from amends.sla.rules import add_business_time, business_time_between, is_open
from amends.teams.models import Agent, Team
from amends.timers import service as timers

SYSTEM = "system"
CUSTOMER = "customer"
SLA_TIMERS = ("sla.warning", "sla.breach", "sla.escalate")
FOLLOWUP_TIMERS = ("followup.send", "followup.expire")

_EVENTS = {
    "opened": "case.opened",
    "status": "case.status_changed",
    "assigned": "case.assigned",
    "priority": "case.priority_raised",
    "merged": "case.merged",
    "split": "case.split",
    "replied": "case.replied",
    "sla_warning": "case.sla_warning",
    "sla_breached": "case.sla_breached",
    "escalated": "case.escalated",
    "survey_answered": "followup.answered",
}


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", case_id)
    return case


def list_cases(
    session: Session,
    *,
    limit: int,
    offset: int = 0,
    status: CaseStatus | None = None,
    customer_id: int | None = None,
    visible: ColumnElement[bool] | None = None,
) -> tuple[list[Case], int]:
    """Cases, most recently active first; `visible` limits them (to a person's teams)."""
    query = select(Case)
    if visible is not None:
        query = query.where(visible)
    if status is not None:
        query = query.where(Case.status == status)
    if customer_id is not None:
        query = query.where(Case.customer_id == customer_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Case.updated_at.desc(), Case.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def history(session: Session, case_id: int) -> list[CaseEvent]:
    get_case(session, case_id)
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    )


def case_payload(case: Case) -> dict[str, Any]:
    """What webhooks say of a case: ids and state, never the complaint's text."""
    return {
        "case_id": case.id,
        "customer_id": case.customer_id,
        "status": case.status.value,
        "priority": case.priority,
        "category": case.category,
        "channel": case.channel.value,
        "public": case.public,
        "team_id": case.team_id,
        "assignee_id": case.assignee_id,
    }


def record(
    session: Session,
    case: Case,
    kind: str,
    *,
    actor: str,
    now: datetime,
    from_value: str | None = None,
    to_value: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Write down what happened, and announce it to the webhooks that listen for it."""
    event = CaseEvent(
        case_id=case.id,
        at=now,
        kind=kind,
        actor=actor[:254],
        from_value=from_value,
        to_value=to_value,
        reason=reason,
        data=data or {},
    )
    session.add(event)
    name = _EVENTS.get(kind)
    if name is not None and webhooks_listening(session):
        from amends.outbound.service import emit_event

        payload = case_payload(case) | {
            "actor": actor,
            "from": from_value,
            "to": to_value,
            "reason": reason,
        }
        emit_event(session, name, payload | (data or {}), now=now)
    return event


def webhooks_listening(session: Session) -> bool:
    """Whether any webhook is active: cached on the session for one unit of work."""
    cached = session.info.get("amends.webhooks")
    if cached is None:
        from amends.outbound.models import Webhook

        cached = session.scalar(select(Webhook.id).where(Webhook.active).limit(1)) is not None
        session.info["amends.webhooks"] = cached
    return bool(cached)


# ---- clocks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockPlan:
    clock: Clock
    due: datetime
    warn_at: datetime


def plan_clock(
    policy: Policy,
    case: Case,
    clock: Clock,
    start: datetime,
    *,
    remaining: timedelta | None = None,
) -> ClockPlan:
    """When `clock`, started at `start`, falls due and when to warn. `remaining` (business
    time) replaces the full target when a paused clock resumes."""
    targets = policy.targets_for(case.priority, case.channel, case.public)
    cal = policy.calendar(targets.calendar)
    work = targets.of(clock) if remaining is None else remaining
    due = add_business_time(start, work, cal)
    warn = add_business_time(start, work * policy.warn_at, cal)
    return ClockPlan(clock, due, warn)


def _due_column(clock: Clock) -> str:
    return {
        Clock.FIRST_RESPONSE: "first_response_due",
        Clock.NEXT_RESPONSE: "next_response_due",
        Clock.RESOLUTION: "resolution_due",
    }[clock]


def running_clocks(case: Case) -> dict[Clock, datetime]:
    """The clocks still counting (paused ones included), with their due times."""
    running: dict[Clock, datetime] = {}
    if case.status not in OPEN_STATUSES:
        return running
    if case.first_response_due is not None and case.first_responded_at is None:
        running[Clock.FIRST_RESPONSE] = case.first_response_due
    if case.next_response_due is not None:
        running[Clock.NEXT_RESPONSE] = case.next_response_due
    if case.resolution_due is not None and case.resolved_at is None:
        running[Clock.RESOLUTION] = case.resolution_due
    return running


def deadlines(case: Case) -> list[Deadline]:
    """Every promise of the case, kept or running, for the queue and the case view."""
    promises = (
        (Clock.FIRST_RESPONSE, case.first_response_due, case.first_responded_at),
        (Clock.NEXT_RESPONSE, case.next_response_due, None),
        (Clock.RESOLUTION, case.resolution_due, case.resolved_at),
    )
    return [
        Deadline(clock, due, met_at, flagged=clock.value in case.breaches)
        for clock, due, met_at in promises
        if due is not None
    ]


def refresh_next_due(case: Case) -> None:
    running = running_clocks(case)
    case.next_due_at = None if case.paused_at or not running else min(running.values())


def start_clock(
    session: Session,
    case: Case,
    clock: Clock,
    start: datetime,
    *,
    policy: Policy,
    now: datetime,
    remaining: timedelta | None = None,
) -> ClockPlan:
    """Set a clock's due time and schedule its warning and breach."""
    plan = plan_clock(policy, case, clock, start, remaining=remaining)
    setattr(case, _due_column(clock), plan.due)
    timers.cancel(session, [case.id], kinds=SLA_TIMERS, clocks=[clock.value])
    timers.schedule_many(session, clock_timers(case.id, plan), now=now)
    case.sla_calendar = policy.targets_for(case.priority, case.channel, case.public).calendar
    case.playbook_version = policy.version
    refresh_next_due(case)
    return plan


def clock_timers(
    case_id: int, plan: ClockPlan
) -> list[tuple[str, datetime, int | None, str | None, dict[str, Any]]]:
    warn: list[tuple[str, datetime, int | None, str | None, dict[str, Any]]] = []
    if plan.warn_at < plan.due:
        warn.append(("sla.warning", plan.warn_at, case_id, plan.clock.value, {}))
    return [*warn, ("sla.breach", plan.due, case_id, plan.clock.value, {})]


def _pause(session: Session, case: Case, now: datetime) -> None:
    if case.paused_at is None:
        case.paused_at = now
        timers.cancel(session, [case.id], kinds=SLA_TIMERS)
        refresh_next_due(case)


def _resume(session: Session, case: Case, *, policy: Policy, now: datetime) -> None:
    """Move each running clock on by the business time the pause took from it."""
    paused_at = case.paused_at
    if paused_at is None:
        return
    case.paused_at = None
    cal_name = policy.targets_for(case.priority, case.channel, case.public).calendar
    cal = policy.calendar(cal_name)
    for clock, due in running_clocks(case).items():
        if due <= paused_at:  # already late when paused: it stays late
            continue
        remaining = business_time_between(paused_at, due, cal)
        start_clock(session, case, clock, now, policy=policy, now=now, remaining=remaining)
    refresh_next_due(case)


# ---- the lifecycle --------------------------------------------------------------------------


def transition(
    session: Session,
    case_id: int,
    target: CaseStatus,
    *,
    actor: str,
    now: datetime,
    policy: Policy,
    reason: str | None = None,
) -> Case:
    """Move a case to `target`, if the lifecycle allows it. Reopening needs a reason."""
    case = get_case(session, case_id)
    current = case.status
    if current == target:
        return case
    if case.merged_into_id is not None:
        raise InvalidTransition(f"case {case.id} was merged into case {case.merged_into_id}")
    if not can_transition(current, target):
        raise InvalidTransition(f"a {current.value} case cannot become {target.value}")
    reopening = is_reopen(current, target)
    if reopening and not (reason and reason.strip()):
        raise InvalidInput("reopening a case needs a reason")
    unanswered = case.first_responded_at is None and current is not CaseStatus.RESOLVED
    if target is CaseStatus.CLOSED and unanswered and not (reason and reason.strip()):
        raise InvalidInput(
            "closing a case nobody has answered needs a reason (spam, a duplicate, ...)"
        )
    if target is CaseStatus.RESOLVED and case.public and not answered_privately(session, case):
        raise InvalidTransition(
            f"case {case.id} is a public complaint: record a private reply before resolving it"
        )
    case.status = target
    case.updated_at = max(case.updated_at, now)
    if reopening:
        case.reopened_count += 1
        case.resolved_at = None
        case.closed_at = None
        case.escalation_level = 0
        timers.cancel(session, [case.id], kinds=FOLLOWUP_TIMERS)
        _cancel_scheduled_followups(session, case.id)
        start_clock(session, case, Clock.RESOLUTION, now, policy=policy, now=now)
        start_clock(session, case, Clock.NEXT_RESPONSE, now, policy=policy, now=now)
    elif target is CaseStatus.RESOLVED:
        case.resolved_at = now
        case.next_response_due = None
        case.paused_at = None
        timers.cancel(session, [case.id], kinds=SLA_TIMERS)
    elif target is CaseStatus.CLOSED:
        case.closed_at = now
        case.resolved_at = case.resolved_at or now
        case.next_response_due = None
        case.paused_at = None
        timers.cancel(session, [case.id])
    if target in policy.pause_on:
        _pause(session, case, now)
    elif case.paused_at is not None and target in OPEN_STATUSES:
        _resume(session, case, policy=policy, now=now)
    refresh_next_due(case)
    record(
        session,
        case,
        "status",
        actor=actor,
        now=now,
        from_value=current.value,
        to_value=target.value,
        reason=reason,
    )
    if target is CaseStatus.RESOLVED:
        from amends.followups.service import schedule_followup

        schedule_followup(session, case, policy=policy, now=now)
    session.flush()
    return case


def answered_privately(session: Session, case: Case) -> bool:
    """A person's private reply (a direct message, an email) is on the case."""
    found = session.scalar(
        select(Feedback.id)
        .where(
            Feedback.case_id == case.id,
            Feedback.direction == Direction.OUT,
            Feedback.public.is_(False),
            Feedback.automated.is_(False),
        )
        .limit(1)
    )
    return found is not None


def _cancel_scheduled_followups(session: Session, case_id: int) -> None:
    """A check-in that has not gone out has nothing to ask once the case is open again."""
    from amends.followups.models import FollowUp, FollowUpStatus

    session.execute(
        update(FollowUp)
        .where(FollowUp.case_id == case_id, FollowUp.status == FollowUpStatus.SCHEDULED)
        .values(status=FollowUpStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )


def reopen(
    session: Session,
    case_id: int,
    *,
    actor: str,
    now: datetime,
    policy: Policy,
    reason: str | None,
) -> Case:
    """Back to work for a resolved or closed case; an open one is refused, not moved."""
    case = get_case(session, case_id)
    if case.status in OPEN_STATUSES:
        raise InvalidTransition(
            f"case {case.id} is {case.status.value}: only a resolved or closed case is reopened"
        )
    return transition(
        session, case_id, CaseStatus.IN_PROGRESS, actor=actor, now=now, policy=policy, reason=reason
    )


def responded(
    session: Session,
    case: Case,
    *,
    at: datetime,
    actor: str,
    automated: bool,
    now: datetime,
    public: bool | None = None,
) -> None:
    """The desk answered the customer. Only a person's reply keeps the response promises; an
    automatic acknowledgement is recorded and changes nothing. A public complaint is answered
    where it was made: until a public reply is recorded, a private one keeps no first-response
    promise and does not acknowledge the case."""
    if automated:
        record(session, case, "auto_acknowledged", actor=actor, now=now)
        return
    if case.public and public is False and case.first_responded_at is None:
        record(session, case, "replied", actor=actor, now=now, data={"public": False})
        return
    stopped: list[str] = []
    if case.first_responded_at is None:
        case.first_responded_at = at
        stopped.append(Clock.FIRST_RESPONSE.value)
    if case.next_response_due is not None:
        case.next_response_due = None
        stopped.append(Clock.NEXT_RESPONSE.value)
    if stopped:
        timers.cancel(session, [case.id], kinds=SLA_TIMERS, clocks=stopped)
    if case.status is CaseStatus.NEW:
        case.status = CaseStatus.ACKNOWLEDGED
        record(
            session,
            case,
            "status",
            actor=actor,
            now=now,
            from_value=CaseStatus.NEW.value,
            to_value=CaseStatus.ACKNOWLEDGED.value,
            reason="first reply",
        )
    case.escalation_level = 0 if not running_clocks(case) else case.escalation_level
    refresh_next_due(case)
    data: dict[str, Any] = {"clocks_met": stopped}
    if public is not None:
        data["public"] = public
    record(session, case, "replied", actor=actor, now=now, data=data)


def customer_wrote(
    session: Session,
    case: Case,
    *,
    at: datetime,
    policy: Policy,
    now: datetime,
    needs_response: bool = True,
) -> None:
    """The customer wrote again: a case waiting on them goes back to work, and once the desk
    has answered, the next-response clock starts."""
    if case.status is CaseStatus.WAITING_ON_CUSTOMER:
        needs_response = True  # the answer to our question: ours is the next move
        case.status = CaseStatus.IN_PROGRESS
        record(
            session,
            case,
            "status",
            actor=CUSTOMER,
            now=now,
            from_value=CaseStatus.WAITING_ON_CUSTOMER.value,
            to_value=CaseStatus.IN_PROGRESS.value,
            reason="the customer replied",
        )
        _resume(session, case, policy=policy, now=now)
    if needs_response and case.first_responded_at is not None and case.next_response_due is None:
        start_clock(session, case, Clock.NEXT_RESPONSE, at, policy=policy, now=now)


def reply(
    session: Session,
    case_id: int,
    text: str,
    *,
    agent_email: str | None,
    now: datetime,
    policy: Policy,
    automated: bool = False,
    waiting: bool = False,
    public: bool | None = None,
    meta: dict[str, Any] | None = None,
) -> Feedback:
    """Record a reply sent to the customer (as outgoing feedback on the case's channel). On a
    public case a reply is public unless `public=False` (a direct message, an email); on a
    private case it is always private."""
    from amends.feedback.rules import source_key

    case = get_case(session, case_id)
    text = text.strip()
    if not text:
        raise InvalidInput("a reply needs text")
    if case.status not in OPEN_STATUSES:
        raise InvalidTransition(f"case {case.id} is {case.status.value}; reopen it to reply")
    agent = _agent_by_email(session, agent_email) if agent_email else None
    actor = f"agent:{agent.email}" if agent else ("auto" if automated else SYSTEM)
    source_id = f"reply-{case.id}-{uuid.uuid4().hex}"
    shown = case.public if public is None else (case.public and public)
    row = Feedback(
        direction=Direction.OUT,
        channel=case.channel,
        source_key=source_key(case.channel, source_id),
        source_id=source_id,
        customer_id=case.customer_id,
        case_id=case.id,
        author_name=agent.name if agent else None,
        text=text,
        public=shown,
        received_at=now,
        automated=automated,
        meta=({"agent": agent.email} if agent else {}) | (meta or {}),
        ingested_at=now,
    )
    session.add(row)
    session.flush()
    responded(session, case, at=now, actor=actor, automated=automated, now=now, public=shown)
    if waiting and not automated:
        session.flush()
        transition(
            session,
            case.id,
            CaseStatus.WAITING_ON_CUSTOMER,
            actor=actor,
            now=now,
            policy=policy,
            reason="asked the customer",
        )
    case.updated_at = max(case.updated_at, now)
    session.flush()
    return row


# ---- assignment -----------------------------------------------------------------------------


def _agent_by_email(session: Session, email: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        raise NotFound("agent", email)
    return agent


def _team_by_name(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(func.lower(Team.name) == name.strip().lower()))
    if team is None:
        raise NotFound("team", name)
    return team


def open_load(session: Session, agent_ids: Iterable[int]) -> dict[int, int]:
    """Open cases each agent holds."""
    loads: dict[int, int] = {}
    for part in chunked(sorted(set(agent_ids))):
        rows = session.execute(
            select(Case.assignee_id, func.count())
            .where(Case.assignee_id.in_(part), Case.status.in_(OPEN_STATUSES))
            .group_by(Case.assignee_id)
        )
        loads.update({aid: n for aid, n in rows.all() if aid is not None})
    return loads


def assign(
    session: Session,
    case_id: int,
    *,
    agent_email: str | None,
    team_name: str | None,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> Case:
    """Give a case to an agent (their team follows) or to a team's queue. A person's choice is
    not bound by capacity or hours; it is recorded."""
    case = get_case(session, case_id)
    if agent_email is None and team_name is None:
        raise InvalidInput("name an agent or a team")
    agent = _agent_by_email(session, agent_email) if agent_email else None
    if agent is not None and not agent.active:
        raise Conflict(f"agent {agent.email} is not active")
    team = _team_by_name(session, team_name) if team_name else (agent.team if agent else None)
    if agent is not None and team is not None and agent.team_id not in (None, team.id):
        raise Conflict(f"{agent.email} is not in team {team.name}")
    _set_owner(session, case, team, agent, actor=actor, now=now, reason=reason)
    session.flush()
    return case


def _set_owner(
    session: Session,
    case: Case,
    team: Team | None,
    agent: Agent | None,
    *,
    actor: str,
    now: datetime,
    reason: str | None,
) -> None:
    before = _owner_label(session, case.team_id, case.assignee_id)
    case.team_id = team.id if team is not None else case.team_id
    case.assignee_id = agent.id if agent is not None else None
    if agent is not None:
        agent.last_assigned_at = now
    after = _owner_label(session, case.team_id, case.assignee_id)
    if before != after:
        record(
            session,
            case,
            "assigned",
            actor=actor,
            now=now,
            from_value=before,
            to_value=after,
            reason=reason,
        )


def _owner_label(session: Session, team_id: int | None, agent_id: int | None) -> str | None:
    if agent_id is not None:
        agent = session.get(Agent, agent_id)
        return agent.email if agent else None
    if team_id is not None:
        team = session.get(Team, team_id)
        return f"team:{team.name}" if team else None
    return None


def auto_assign(session: Session, cases: Sequence[Case], *, policy: Policy, now: datetime) -> int:
    """Assign each unassigned open case within its owning team: an active agent on shift, with
    room under their capacity, the least loaded first (then the one idle longest). A case no
    one can take now waits in its team's queue and is tried again on the next tick."""
    if not policy.auto_assign:
        return 0
    todo = [c for c in cases if c.assignee_id is None and c.status in OPEN_STATUSES]
    if not todo:
        return 0
    teams = {t.name.lower(): t for t in session.scalars(select(Team))}
    members: dict[int, list[Agent]] = {}
    for agent in session.scalars(select(Agent).where(Agent.active, Agent.team_id.is_not(None))):
        assert agent.team_id is not None
        members.setdefault(agent.team_id, []).append(agent)
    # Within one unit of work (a tick's batch) the loads are counted once and kept up to date
    # here: counting them for every case would read every open case again and again.
    load: dict[int, int] = session.info.setdefault("amends.load", {})
    unknown = [a.id for group in members.values() for a in group if a.id not in load]
    counted = open_load(session, unknown)
    load.update({aid: counted.get(aid, 0) for aid in unknown})
    done = 0
    for case in todo:
        # A case already in a team stays there (an escalation or a person put it there); only
        # a case no team holds goes to the team that owns its category.
        team = session.get(Team, case.team_id) if case.team_id is not None else None
        if team is None:
            owner = policy.owner(case.category)
            team = teams.get(owner.lower()) if owner else None
        if team is None:
            continue
        if case.team_id != team.id:
            _set_owner(session, case, team, None, actor=SYSTEM, now=now, reason="owning team")
        candidates = []
        for agent in members.get(team.id, []):
            cal = policy.calendar(agent.calendar or team.calendar)
            if load.get(agent.id, 0) >= agent.capacity:
                continue
            if policy.respect_hours and not is_open(now, cal):
                continue
            candidates.append(agent)
        if not candidates:
            continue
        epoch = datetime.min.replace(tzinfo=now.tzinfo)
        best = min(
            candidates,
            key=lambda a: (
                load.get(a.id, 0) / max(a.capacity, 1),
                a.last_assigned_at or epoch,
                a.id,
            ),
        )
        _set_owner(session, case, team, best, actor=SYSTEM, now=now, reason="auto-assigned")
        load[best.id] = load.get(best.id, 0) + 1
        done += 1
    return done


# ---- merge and split ------------------------------------------------------------------------


def merge(
    session: Session,
    keep_id: int,
    absorb_id: int,
    *,
    actor: str,
    now: datetime,
    policy: Policy,
    reason: str | None = None,
) -> Case:
    """Fold one case into another of the same customer: its feedback moves, the more urgent
    priority and the earlier promises win, and the absorbed case is closed as merged."""
    if keep_id == absorb_id:
        raise InvalidInput("a case cannot be merged into itself")
    keep, gone = get_case(session, keep_id), get_case(session, absorb_id)
    if keep.customer_id != gone.customer_id:
        raise Conflict("only cases of one customer can be merged")
    for case in (keep, gone):
        if case.merged_into_id is not None:
            raise InvalidTransition(f"case {case.id} was already merged")
    if keep.status not in OPEN_STATUSES:
        raise InvalidTransition(f"case {keep.id} is {keep.status.value}; reopen it first")
    moved = session.execute(  # type: ignore[attr-defined]
        update(Feedback)
        .where(Feedback.case_id == gone.id)
        .values(case_id=keep.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if gone.priority and (keep.priority is None or gone.priority < keep.priority):
        keep.priority, keep.severity, keep.category = gone.priority, gone.severity, gone.category
    keep.opened_at = min(keep.opened_at, gone.opened_at)
    keep.updated_at = max(keep.updated_at, gone.updated_at, now)
    for clock in (Clock.FIRST_RESPONSE, Clock.RESOLUTION):
        column = _due_column(clock)
        mine, theirs = getattr(keep, column), getattr(gone, column)
        unanswered = clock is Clock.RESOLUTION or keep.first_responded_at is None
        if unanswered and theirs is not None and (mine is None or theirs < mine):
            setattr(keep, column, theirs)
            timers.cancel(session, [keep.id], kinds=SLA_TIMERS, clocks=[clock.value])
            plan = ClockPlan(clock, theirs, theirs)
            timers.schedule_many(session, clock_timers(keep.id, plan), now=now)
    timers.cancel(session, [gone.id])
    was = gone.status
    gone.status = CaseStatus.CLOSED
    # a case folded in after it was resolved or closed keeps when that was
    gone.closed_at = gone.closed_at or now
    gone.merged_into_id = keep.id
    gone.next_due_at = None
    refresh_next_due(keep)
    session.flush()
    record(
        session,
        gone,
        "merged",
        actor=actor,
        now=now,
        from_value=was.value,
        to_value=f"case {keep.id}",
        reason=reason,
        data={"into": keep.id},
    )
    record(
        session,
        keep,
        "merged",
        actor=actor,
        now=now,
        to_value=f"absorbed case {gone.id}",
        reason=reason,
        data={"absorbed": gone.id, "feedback_moved": moved},
    )
    session.flush()
    return keep


def split(
    session: Session,
    case_id: int,
    feedback_ids: Sequence[int],
    *,
    actor: str,
    now: datetime,
    policy: Policy,
    reason: str | None = None,
) -> Case:
    """Move some of a case's feedback into a new case of its own, with its own clocks."""
    case = get_case(session, case_id)
    wanted = set(feedback_ids)
    if not wanted:
        raise InvalidInput("name the feedback to split off")
    rows = list(session.scalars(select(Feedback).where(Feedback.case_id == case.id)))
    mine = {f.id for f in rows}
    stray = sorted(wanted - mine)
    if stray:
        raise InvalidInput(f"feedback {stray[0]} is not part of case {case.id}")
    if wanted == mine:
        raise InvalidInput("a split must leave feedback in the original case")
    moving = sorted((f for f in rows if f.id in wanted), key=lambda f: f.received_at)
    complaints = [f for f in moving if f.direction is Direction.IN]
    if not complaints:
        raise InvalidInput("a new case needs at least one message from the customer")
    lead = min(complaints, key=lambda f: (f.priority or "P9", f.received_at))
    first = complaints[0]
    new = Case(
        customer_id=case.customer_id,
        status=CaseStatus.NEW,
        subject=(first.subject or first.text.split("\n", 1)[0])[:120],
        channel=first.channel,
        public=first.public,
        priority=lead.priority,
        severity=lead.severity,
        category=lead.category,
        opened_at=first.received_at,
        updated_at=max(f.received_at for f in moving),
        team_id=case.team_id,
    )
    session.add(new)
    session.flush()
    for f in moving:
        f.case_id = new.id
    start_clock(session, new, Clock.FIRST_RESPONSE, new.opened_at, policy=policy, now=now)
    start_clock(session, new, Clock.RESOLUTION, new.opened_at, policy=policy, now=now)
    record(
        session,
        new,
        "split",
        actor=actor,
        now=now,
        from_value=f"case {case.id}",
        reason=reason,
        data={"from": case.id, "feedback": sorted(wanted)},
    )
    record(
        session,
        case,
        "split",
        actor=actor,
        now=now,
        to_value=f"case {new.id}",
        reason=reason,
        data={"into": new.id, "feedback": sorted(wanted)},
    )
    auto_assign(session, [new], policy=policy, now=now)
    session.flush()
    return new


# ---- the queue ------------------------------------------------------------------------------


def queue(
    session: Session,
    *,
    limit: int,
    offset: int = 0,
    team: str | None = None,
    agent: str | None = None,
    include_waiting: bool = False,
    visible: ColumnElement[bool] | None = None,
) -> tuple[list[Case], int]:
    """Open cases by urgency: priority first, then the nearest running deadline, then age.
    Cases waiting on the customer (their clocks paused) are left out unless asked for;
    `visible` limits them (to a person's teams)."""
    statuses = set(OPEN_STATUSES)
    if not include_waiting:
        statuses.discard(CaseStatus.WAITING_ON_CUSTOMER)
    query = select(Case).where(Case.status.in_(statuses))
    if visible is not None:
        query = query.where(visible)
    if team is not None:
        query = query.where(Case.team_id == _team_by_name(session, team).id)
    if agent is not None:
        query = query.where(Case.assignee_id == _agent_by_email(session, agent).id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(
        Case.priority.is_(None),
        Case.priority,
        Case.next_due_at.is_(None),
        Case.next_due_at,
        Case.opened_at,
        Case.id,
    )
    return list(session.scalars(ordered.limit(limit).offset(offset))), total


def raise_priority(
    session: Session, case: Case, *, actor: str, now: datetime, policy: Policy, reason: str
) -> None:
    before = case.priority
    after = raised(before)
    if after == before:
        return
    case.priority = after
    # A tighter target from now on may only bring a running promise forward, never back.
    for clock, due in running_clocks(case).items():
        if case.paused_at is None and due > now and plan_clock(policy, case, clock, now).due < due:
            start_clock(session, case, clock, now, policy=policy, now=now)
    record(
        session,
        case,
        "priority",
        actor=actor,
        now=now,
        from_value=before,
        to_value=after,
        reason=reason,
    )
