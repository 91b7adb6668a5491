"""`amends teams ...` and `amends agents ...` (minimal until the playbook owns them), and
`amends notifications ...`."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from amends import cliutil
from amends.errors import UsageError
from amends.teams import notifications, service
from amends.teams.models import Agent, Notification, Team

teams = typer.Typer(no_args_is_help=True, help="Teams of agents.")
agents = typer.Typer(no_args_is_help=True, help="Agents who work cases.")


@teams.command("add")
def add_team(name: str) -> None:
    """Add a team."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        team = service.add_team(session, name, now=cliutil.now())
        typer.echo(f"team {team.id}: {team.name}")


@teams.command("list")
def list_teams() -> None:
    """List teams and their agents."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        for team in session.scalars(select(Team).order_by(Team.name)):
            names = ", ".join(a.name for a in team.agents) or "no agents"
            typer.echo(f"{team.id:>4}  {team.name}: {names}")


@agents.command("add")
def add_agent(
    name: str,
    email: str,
    team: Annotated[str | None, typer.Option(help="Team name.")] = None,
) -> None:
    """Add an agent, optionally to a team."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        agent = service.add_agent(session, name, email, team=team, now=cliutil.now())
        typer.echo(f"agent {agent.id}: {agent.name} <{agent.email}>")


@agents.command("list")
def list_agents() -> None:
    """List agents."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        for agent in session.scalars(select(Agent).order_by(Agent.name)):
            team = agent.team.name if agent.team else "-"
            state = "" if agent.active else " (disabled)"
            typer.echo(f"{agent.id:>4}  {agent.name} <{agent.email}> team {team}{state}")


notifications_app = typer.Typer(
    no_args_is_help=True,
    help="An agent's notifications: SLA warnings, escalations, recurring problems.",
)

AsAgent = Annotated[
    str, typer.Option("--as", metavar="EMAIL", help="Whose notifications (the agent's email).")
]


def _notification_json(n: Notification) -> dict[str, object]:
    return {
        "id": n.id,
        "case_id": n.case_id,
        "kind": n.kind,
        "message": n.message,
        "created_at": n.created_at.isoformat(),
        "read_at": n.read_at.isoformat() if n.read_at else None,
    }


@notifications_app.command("list")
def list_notifications(
    as_: AsAgent,
    unread: Annotated[bool, typer.Option("--unread", help="Only the unread ones.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=notifications.MAX_LIMIT)] = 50,
    before: Annotated[
        int | None, typer.Option(min=1, help="Older than this notification (its id).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """List an agent's notifications, newest first; unread ones are marked with '*'."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        agent = notifications.agent_by_email(session, as_)
        page = notifications.list_notifications(
            session, agent.id, unread_only=unread, before=before, limit=limit
        )
        if as_json:
            cliutil.print_json(
                {
                    "items": [_notification_json(n) for n in page.items],
                    "total": page.total,
                    "unread": page.unread,
                    "next_before": page.next_before,
                }
            )
            return
        for n in page.items:
            mark = "*" if n.read_at is None else " "
            case = f"case #{n.case_id}" if n.case_id is not None else "-"
            typer.echo(
                f"{mark} {n.id:>6}  {n.created_at:%Y-%m-%d %H:%M} UTC  {n.kind:<17} "
                f"{case:<12} {n.message}"
            )
        if not page.items:
            typer.echo("no unread notifications" if unread else "no notifications")
        typer.echo(f"{page.unread} unread")
        if page.next_before is not None:
            typer.echo(f"older: --before {page.next_before}")


@notifications_app.command("read")
def read_notifications(
    as_: AsAgent,
    ids: Annotated[list[int] | None, typer.Argument(help="Notification ids.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every unread notification.")] = False,
    now: cliutil.NowOption = None,
) -> None:
    """Mark an agent's notifications read: the ids given, or --all. Ids that are not the
    agent's, or are read already, are left alone."""
    with cliutil.user_errors():
        if all_ == bool(ids):
            raise UsageError("give notification ids or --all (not both)")
        with cliutil.session(write=True) as session:
            agent = notifications.agent_by_email(session, as_)
            marked = notifications.mark_read(
                session, agent.id, None if all_ else ids, now=cliutil.now(now)
            )
            left = notifications.count_unread(session, agent.id)
        typer.echo(f"marked {marked} read; {left} unread left")
