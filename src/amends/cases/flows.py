"""Multi-step case work: clocks for what an import brought, and what timers do when due
(warnings, breaches, escalations). Each runs inside the caller's unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amends.cases import service
from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES, Clock
from amends.db import chunked
from amends.playbook.rules import EscalationLevel, Policy
from amends.teams.models import Agent, Notification, Team
from amends.timers import service as timers
from amends.timers.models import Timer


@dataclass(frozen=True)
class Touch:
    """One stored message on a case, in the order the customer and the desk wrote them."""

    case_id: int
    at: datetime
    incoming: bool
    automated: bool = False
    author: str | None = None
    needs_response: bool = True  # a thank-you brings a waiting case back, but asks nothing
    public: bool | None = None  # for the desk's replies: in public, or privately


def after_ingest(
    session: Session,
    *,
    opened: Sequence[int],
    touches: Sequence[Touch],
    policy: Policy,
    now: datetime,
) -> None:
    """Start the clocks of the cases an import opened, then replay its messages on their cases
    in time order: a person's reply keeps the response promises, a customer's new message
    starts the next-response clock (or brings a case waiting on them back)."""
    opened_set = set(opened)
    cases: dict[int, Case] = {}
    ids = opened_set | {t.case_id for t in touches}
    for part in chunked(sorted(ids)):
        cases.update({c.id: c for c in session.scalars(select(Case).where(Case.id.in_(part)))})
    new_timers: list[tuple[str, datetime, int | None, str | None, dict[str, Any]]] = []
    for case_id in sorted(opened_set):
        case = cases[case_id]
        for clock in (Clock.FIRST_RESPONSE, Clock.RESOLUTION):
            plan = service.plan_clock(policy, case, clock, case.opened_at)
            setattr(case, service._due_column(clock), plan.due)
            new_timers += service.clock_timers(case.id, plan)
        targets = policy.targets_for(case.priority, case.channel, case.public)
        case.sla_calendar = targets.calendar
        case.playbook_version = policy.version
        service.refresh_next_due(case)
        service.record(
            session,
            case,
            "opened",
            actor=service.CUSTOMER,
            now=now,
            to_value=case.status.value,
            data={"priority": case.priority, "category": case.category},
        )
    timers.schedule_many(session, new_timers, now=now)
    # A more urgent complaint on an open case may have raised its priority: its first-response
    # and resolution promises come forward to the new targets, never back.
    for case_id in sorted({t.case_id for t in touches} - opened_set):
        _tighten(session, cases[case_id], policy=policy, now=now)
    for touch in sorted(touches, key=lambda t: (t.at, t.case_id)):
        case = cases[touch.case_id]
        if touch.incoming:
            if case.id in opened_set and touch.at <= case.opened_at:
                continue  # the message that opened it
            service.customer_wrote(
                session,
                case,
                at=touch.at,
                policy=policy,
                now=now,
                needs_response=touch.needs_response,
            )
        else:
            actor = f"agent:{touch.author}" if touch.author else "desk"
            service.responded(
                session,
                case,
                at=touch.at,
                actor=actor,
                automated=touch.automated,
                now=now,
                public=touch.public,
            )
    service.auto_assign(session, [cases[i] for i in sorted(opened_set)], policy=policy, now=now)
    session.flush()


def _tighten(session: Session, case: Case, *, policy: Policy, now: datetime) -> None:
    if case.paused_at is not None:
        return
    running = service.running_clocks(case)
    for clock in (Clock.FIRST_RESPONSE, Clock.RESOLUTION):
        due = running.get(clock)
        if due is None or due <= now:
            continue
        if service.plan_clock(policy, case, clock, case.opened_at).due < due:
            service.start_clock(session, case, clock, case.opened_at, policy=policy, now=now)


# ---- what timers do -------------------------------------------------------------------------


def _still_due(case: Case, timer: Timer) -> bool:
    """A timer acts only while its clock runs, unpaused."""
    if case.status not in OPEN_STATUSES or case.paused_at is not None:
        return False
    return timer.clock is None or Clock(timer.clock) in service.running_clocks(case)


@dataclass(frozen=True)
class TickContext:
    """What a timer's handler may need besides the database."""

    policy: Policy
    secret: str | None = None  # AMENDS_SECRET_KEY, when set
    public_url: str = "http://127.0.0.1:8000"


def on_warning(session: Session, timer: Timer, ctx: TickContext, *, at: datetime) -> None:
    case = service.get_case(session, _case_id(timer))
    if not _still_due(case, timer):
        return
    clock = Clock(timer.clock or Clock.RESOLUTION)
    due = service.running_clocks(case)[clock]
    message = f"case #{case.id}: {_clock_words(clock)} due {due:%Y-%m-%d %H:%M} UTC"
    notify(
        session,
        case,
        ["assignee", "team_lead"],
        kind="sla_warning",
        message=message,
        at=at,
        policy=ctx.policy,
    )
    service.record(
        session,
        case,
        "sla_warning",
        actor=service.SYSTEM,
        now=at,
        to_value=clock.value,
        data={"due": due.isoformat()},
    )


def on_breach(session: Session, timer: Timer, ctx: TickContext, *, at: datetime) -> None:
    policy = ctx.policy
    case = service.get_case(session, _case_id(timer))
    if not _still_due(case, timer):
        return
    clock = Clock(timer.clock or Clock.RESOLUTION)
    if clock.value not in case.breaches:
        case.breaches = [*case.breaches, clock.value]
    service.record(
        session,
        case,
        "sla_breached",
        actor=service.SYSTEM,
        now=at,
        to_value=clock.value,
        data={"due": service.running_clocks(case)[clock].isoformat()},
    )
    if policy.escalation and case.escalation_level == 0:
        _escalate_later(session, case, clock, policy.escalation[0], at=at)


def on_escalate(session: Session, timer: Timer, ctx: TickContext, *, at: datetime) -> None:
    policy = ctx.policy
    case = service.get_case(session, _case_id(timer))
    if not _still_due(case, timer):
        return
    level_no = int(timer.data.get("level", 1))
    if level_no <= case.escalation_level or level_no > len(policy.escalation):
        return  # this level already acted (another clock's breach got there first)
    level = policy.escalation[level_no - 1]
    clock = Clock(timer.clock or Clock.RESOLUTION)
    case.escalation_level = level_no
    done: list[str] = []
    if level.raise_priority:
        before = case.priority
        service.raise_priority(
            session,
            case,
            actor=service.SYSTEM,
            now=at,
            policy=policy,
            reason=f"escalation level {level_no}",
        )
        if case.priority != before:
            done.append(f"priority {before} -> {case.priority}")
    if level.reassign_to:
        target = _reassign(session, case, level.reassign_to, policy=policy, at=at, level=level_no)
        if target:
            done.append(f"reassigned to {target}")
    message = f"case #{case.id} escalated (level {level_no}): {_clock_words(clock)} overdue" + (
        f"; {', '.join(done)}" if done else ""
    )
    notify(
        session, case, list(level.notify), kind="escalation", message=message, at=at, policy=policy
    )
    service.record(
        session,
        case,
        "escalated",
        actor=service.SYSTEM,
        now=at,
        to_value=f"level {level_no}",
        data={"clock": clock.value, "actions": done},
    )
    if level_no < len(policy.escalation):
        _escalate_later(session, case, clock, policy.escalation[level_no], at=at)


def _escalate_later(
    session: Session, case: Case, clock: Clock, level: EscalationLevel, *, at: datetime
) -> None:
    """The chain's next level acts `level.after` from now, for the clock that went late."""
    timers.schedule(
        session,
        "sla.escalate",
        at + level.after,
        now=at,
        case_id=case.id,
        clock=clock.value,
        data={"level": level.level},
    )


def _reassign(
    session: Session, case: Case, target: str, *, policy: Policy, at: datetime, level: int
) -> str | None:
    reason = f"escalation level {level}"
    if target == "team_lead":
        lead = _lead_of(session, case, policy)
        if lead is None or lead.id == case.assignee_id:
            return None
        service._set_owner(
            session, case, lead.team, lead, actor=service.SYSTEM, now=at, reason=reason
        )
        return lead.email
    if target.startswith("team:"):
        team = session.scalar(select(Team).where(Team.name.ilike(target[5:])))
        if team is None or team.id == case.team_id:
            return None
        service._set_owner(session, case, team, None, actor=service.SYSTEM, now=at, reason=reason)
        session.flush()  # the load count below must see this batch's assignments
        service.auto_assign(session, [case], policy=policy, now=at)
        return f"team {team.name}"
    agent = session.scalar(select(Agent).where(Agent.email == target))
    if agent is None or agent.id == case.assignee_id:
        return None
    service._set_owner(
        session, case, agent.team, agent, actor=service.SYSTEM, now=at, reason=reason
    )
    return agent.email


def _lead_of(session: Session, case: Case, policy: Policy) -> Agent | None:
    team = session.get(Team, case.team_id) if case.team_id is not None else None
    if team is None:
        owner = policy.owner(case.category)
        team = session.scalar(select(Team).where(Team.name == owner)) if owner else None
    if team is None or team.lead_id is None:
        return None
    return session.get(Agent, team.lead_id)


def recipients(session: Session, case: Case, who: Sequence[str], policy: Policy) -> list[Agent]:
    """The agents a playbook recipient list names, for this case, without repeats."""
    found: dict[int, Agent] = {}
    for name in who:
        agents: list[Agent] = []
        if name == "assignee" and case.assignee_id is not None:
            agent = session.get(Agent, case.assignee_id)
            agents = [agent] if agent else []
        elif name == "team_lead":
            lead = _lead_of(session, case, policy)
            agents = [lead] if lead else []
        elif name.startswith("team:"):
            team = session.scalar(select(Team).where(Team.name.ilike(name[5:])))
            agents = [a for a in team.agents if a.active] if team else []
        else:
            agent = session.scalar(select(Agent).where(Agent.email == name))
            agents = [agent] if agent else []
        for agent in agents:
            found.setdefault(agent.id, agent)
    return list(found.values())


def notify(
    session: Session,
    case: Case,
    who: Sequence[str],
    *,
    kind: str,
    message: str,
    at: datetime,
    policy: Policy,
) -> list[Agent]:
    """Tell agents about a case, in the desk and by mail."""
    from amends.outbound.service import enqueue_mail

    agents = recipients(session, case, who, policy)
    for agent in agents:
        session.add(
            Notification(
                agent_id=agent.id, case_id=case.id, kind=kind, message=message[:500], created_at=at
            )
        )
        enqueue_mail(
            session,
            to=agent.email,
            subject=message[:200],
            body=f"{message}\n\nOpen the case: amends cases show {case.id}\n",
            now=at,
            kind=kind,
            case_id=case.id,
            flush=False,
        )
    return agents


def _case_id(timer: Timer) -> int:
    assert timer.case_id is not None
    return timer.case_id


def _clock_words(clock: Clock) -> str:
    return clock.value.replace("_", " ")
