"""`amends cases ...` and `amends queue`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from amends import cliutil
from amends.cases import service
from amends.cases.models import Case
from amends.cases.rules import CaseStatus
from amends.playbook.service import active_policy
from amends.sla.rules import format_approx

cases = typer.Typer(no_args_is_help=True, help="Cases: one recovery each.")

Actor = Annotated[
    str | None,
    typer.Option("--as", metavar="EMAIL", help="The agent doing it (recorded in the history)."),
]
Reason = Annotated[str | None, typer.Option(help="Why (recorded in the history).")]


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


def deadline_rows(case: Case, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "clock": d.clock.value,
            "due": d.due.isoformat(),
            "met_at": d.met_at.isoformat() if d.met_at else None,
            "breached": d.breached(now),
            "running": d.met_at is None and case.status.value not in ("resolved", "closed"),
        }
        for d in service.deadlines(case)
    ]


def case_json(case: Case, now: datetime) -> dict[str, Any]:
    deadlines = deadline_rows(case, now)
    return {
        "id": case.id,
        "customer_id": case.customer_id,
        "status": case.status.value,
        "priority": case.priority,
        "category": case.category,
        "subject": case.subject,
        "channel": case.channel.value,
        "public": case.public,
        "team": case.team.name if case.team else None,
        "assignee": case.assignee.email if case.assignee else None,
        "opened_at": case.opened_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "next_due_at": case.next_due_at.isoformat() if case.next_due_at else None,
        "paused": case.paused_at is not None,
        "escalation_level": case.escalation_level,
        "reopened_count": case.reopened_count,
        "merged_into": case.merged_into_id,
        "deadlines": deadlines,
        "breached": any(d["breached"] for d in deadlines),
    }


@cases.command("list")
def list_cases(
    status: Annotated[CaseStatus | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    now: cliutil.NowOption = None,
) -> None:
    """List cases, most recently active first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        moment = cliutil.now(now)
        rows, total = service.list_cases(session, limit=limit, status=status)
        for c in rows:
            if as_json:
                cliutil.print_json(case_json(c, moment))
            else:
                typer.echo(
                    f"#{c.id:<6} {c.status.value:<20} {c.priority or '--':<3} "
                    f"{c.channel.value:<7} customer {c.customer_id:<6} {c.subject[:60]}"
                )
        if not as_json:
            typer.echo(f"{total} case(s)")


@cases.command("show")
def show_case(
    case_id: int,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    now: cliutil.NowOption = None,
) -> None:
    """Show a case: its state, deadlines, guidance and feedback, oldest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        moment = cliutil.now(now)
        case = service.get_case(session, case_id)
        if as_json:
            cliutil.print_json(case_json(case, moment))
            return
        typer.echo(
            f"case #{case.id} · {case.status.value} · {case.priority or 'no priority'} · "
            f"{case.channel.value}{' · public' if case.public else ''}"
        )
        typer.echo(f"customer {case.customer_id}: {case.customer.name or '(no name)'}")
        typer.echo(f"subject: {case.subject}")
        typer.echo(f"category: {case.category or '-'}")
        owner = case.assignee.email if case.assignee else "unassigned"
        typer.echo(f"team: {case.team.name if case.team else '-'} · owner: {owner}")
        typer.echo(f"opened {case.opened_at:%Y-%m-%d %H:%M} UTC")
        for d in deadline_rows(case, moment):
            state = (
                f"met {d['met_at'][:16].replace('T', ' ')}"
                if d["met_at"]
                else ("paused" if case.paused_at else "running")
            )
            late = " · BREACHED" if d["breached"] else ""
            typer.echo(
                f"  {d['clock']:<15} due {d['due'][:16].replace('T', ' ')} UTC · {state}{late}"
            )
        guidance = active_policy(session).guidance.get(case.category or "")
        if guidance:
            typer.echo(f"guidance: {guidance}")
        for f in case.feedback:
            who = "customer" if f.direction.value == "in" else "us"
            auto = " (automatic)" if f.automated else ""
            typer.echo(f"\n[{f.received_at:%Y-%m-%d %H:%M}] {who}{auto} via {f.channel.value}:")
            typer.echo(f.text)


@cases.command("history")
def case_history(case_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Everything that happened to a case: who, when and why."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        for e in service.history(session, case_id):
            row = {
                "at": e.at.isoformat(),
                "kind": e.kind,
                "actor": e.actor,
                "from": e.from_value,
                "to": e.to_value,
                "reason": e.reason,
                "data": e.data,
            }
            if as_json:
                cliutil.print_json(row)
                continue
            change = f"{e.from_value or ''} -> {e.to_value}" if e.to_value else ""
            why = f"  ({e.reason})" if e.reason else ""
            typer.echo(f"{_when(e.at)}  {e.kind:<16} {change:<34} by {e.actor}{why}")


def _move(
    case_id: int, target: CaseStatus, who: str | None, reason: str | None, now: str | None
) -> None:
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        case = service.transition(
            session,
            case_id,
            target,
            actor=cliutil.actor(who),
            now=cliutil.now(now),
            policy=active_policy(session),
            reason=reason,
        )
        typer.echo(f"case #{case.id} is {case.status.value}")


@cases.command("status")
def set_status(
    case_id: int,
    status: CaseStatus,
    who: Actor = None,
    reason: Reason = None,
    now: cliutil.NowOption = None,
) -> None:
    """Move a case along its lifecycle (new, acknowledged, in_progress, waiting_on_customer,
    resolved, closed). Reopening a resolved or closed case needs --reason."""
    _move(case_id, status, who, reason, now)


@cases.command("resolve")
def resolve(
    case_id: int, who: Actor = None, reason: Reason = None, now: cliutil.NowOption = None
) -> None:
    """Mark a case resolved; its follow-up is scheduled."""
    _move(case_id, CaseStatus.RESOLVED, who, reason, now)


@cases.command("reopen")
def reopen(
    case_id: int,
    reason: Annotated[str, typer.Option(help="Why it is reopened.")],
    who: Actor = None,
    now: cliutil.NowOption = None,
) -> None:
    """Reopen a resolved or closed case."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        case = service.reopen(
            session,
            case_id,
            actor=cliutil.actor(who),
            now=cliutil.now(now),
            policy=active_policy(session),
            reason=reason,
        )
        typer.echo(f"case #{case.id} is {case.status.value}")


@cases.command("assign")
def assign(
    case_id: int,
    agent: Annotated[str | None, typer.Option(help="The agent's email.")] = None,
    team: Annotated[str | None, typer.Option(help="A team's name (its queue).")] = None,
    who: Actor = None,
    reason: Reason = None,
    now: cliutil.NowOption = None,
) -> None:
    """Give a case to an agent or to a team's queue."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        case = service.assign(
            session,
            case_id,
            agent_email=agent,
            team_name=team,
            actor=cliutil.actor(who),
            now=cliutil.now(now),
            reason=reason,
        )
        owner = case.assignee.email if case.assignee else "unassigned"
        typer.echo(f"case #{case.id}: team {case.team.name if case.team else '-'}, {owner}")


@cases.command("reply")
def reply(
    case_id: int,
    text: str,
    who: Actor = None,
    waiting: Annotated[
        bool, typer.Option("--waiting", help="Then wait on the customer (pauses the clocks).")
    ] = False,
    automated: Annotated[
        bool,
        typer.Option("--auto", help="An automatic acknowledgement: keeps no response promise."),
    ] = False,
    private: Annotated[
        bool,
        typer.Option(
            "--private", help="On a public case: a private reply (a direct message, an email)."
        ),
    ] = False,
    override: Annotated[
        str | None,
        typer.Option(help="Send despite blocking findings; the reason is kept in the history."),
    ] = None,
    now: cliutil.NowOption = None,
) -> None:
    """Check a reply and record it as sent. A person's reply keeps the first- and
    next-response promises; an automatic one does not. A blocking finding of the reply
    checker stops it (exit 1) unless --override gives a reason."""
    from amends.errors import ReplyBlocked
    from amends.replies import service as replies
    from amends.replies.cli import print_findings

    with cliutil.user_errors(), cliutil.session(write=True) as session:
        try:
            row, result = replies.send(
                session,
                case_id,
                text,
                agent_email=who,
                now=cliutil.now(now),
                policy=active_policy(session),
                public=False if private else None,
                override=override,
                automated=automated,
                waiting=waiting,
            )
        except ReplyBlocked as exc:
            typer.echo(f"Error: {exc.detail}", err=True)
            print_findings(text, exc.findings, label="  ")
            raise typer.Exit(cliutil.EXIT_ERROR) from exc
        case = service.get_case(session, case_id)
        where = "public" if row.public else "private"
        typer.echo(f"{where} reply {row.id} recorded on case #{case_id} ({case.status.value})")
        findings = result.to_dict()["findings"]
        if findings:
            print_findings(text, findings, label="  ")


@cases.command("merge")
def merge(
    keep: int,
    absorb: int,
    who: Actor = None,
    reason: Reason = None,
    now: cliutil.NowOption = None,
) -> None:
    """Merge case ABSORB into case KEEP (one customer's)."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        case = service.merge(
            session,
            keep,
            absorb,
            actor=cliutil.actor(who),
            now=cliutil.now(now),
            policy=active_policy(session),
            reason=reason,
        )
        typer.echo(f"case #{absorb} merged into case #{case.id}")


@cases.command("split")
def split(
    case_id: int,
    feedback_ids: Annotated[list[int], typer.Argument(help="Feedback ids to move out.")],
    who: Actor = None,
    reason: Reason = None,
    now: cliutil.NowOption = None,
) -> None:
    """Move some of a case's feedback into a new case."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        case = service.split(
            session,
            case_id,
            feedback_ids,
            actor=cliutil.actor(who),
            now=cliutil.now(now),
            policy=active_policy(session),
            reason=reason,
        )
        typer.echo(f"case #{case.id} opened from case #{case_id}")


def queue(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    team: Annotated[str | None, typer.Option(help="Only this team's cases.")] = None,
    agent: Annotated[str | None, typer.Option(help="Only this agent's cases (email).")] = None,
    include_waiting: Annotated[
        bool, typer.Option("--all", help="Include cases waiting on the customer.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    now: cliutil.NowOption = None,
) -> None:
    """Open cases by urgency: priority, then the nearest deadline."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        moment = cliutil.now(now)
        rows, total = service.queue(
            session, limit=limit, team=team, agent=agent, include_waiting=include_waiting
        )
        for c in rows:
            data = case_json(c, moment)
            if as_json:
                cliutil.print_json(data)
                continue
            flag = "BREACHED" if data["breached"] else _left(c.next_due_at, moment)
            owner = data["assignee"] or (f"team {data['team']}" if data["team"] else "-")
            typer.echo(
                f"#{c.id:<6} {c.priority or '--':<3} {c.status.value:<20} {flag:<12} "
                f"{owner[:24]:<24} {c.subject[:50]}"
            )
        if not as_json:
            typer.echo(f"{total} open case(s)")


def _left(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "paused"
    if due < now:
        return "overdue"
    return f"{format_approx((due - now).total_seconds())} left"
