"""`amends teams ...` and `amends agents ...` (minimal until the playbook owns them)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from amends import cliutil
from amends.teams import service
from amends.teams.models import Agent, Team

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
