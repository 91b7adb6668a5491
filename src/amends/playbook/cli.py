"""`amends playbook import/export/show/versions`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from amends import cliutil
from amends.errors import UsageError
from amends.playbook import service
from amends.sla.rules import format_duration

playbook = typer.Typer(
    no_args_is_help=True, help="The playbook: teams, SLAs, escalation, follow-up."
)


@playbook.command("import")
def import_playbook(
    path: Annotated[Path, typer.Argument(help="A YAML (or JSON) playbook.", metavar="FILE")],
    who: Annotated[
        str | None, typer.Option("--as", metavar="EMAIL", help="Who imports it.")
    ] = None,
    now: cliutil.NowOption = None,
) -> None:
    """Validate a playbook and make it the one in force (stored as a new version)."""
    with cliutil.user_errors():
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{path}: not UTF-8 (byte {exc.start})") from None
        with cliutil.session(write=True) as session:
            row = service.import_playbook(session, text, now=cliutil.now(now), actor=who)
            typer.echo(f"playbook {row.name!r} version {row.version} is in force")


@playbook.command("restore")
def restore(
    version: Annotated[int, typer.Argument(help="The earlier version to put back.", min=1)],
    who: Annotated[
        str | None, typer.Option("--as", metavar="EMAIL", help="Who restores it.")
    ] = None,
    now: cliutil.NowOption = None,
) -> None:
    """Put an earlier version back in force (stored as a new version, so history keeps all)."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        row = service.restore_version(session, version, now=cliutil.now(now), actor=who)
        typer.echo(
            f"playbook {row.name!r} version {row.version} (as version {version}) is in force"
        )


@playbook.command("export")
def export_playbook(
    version: Annotated[int | None, typer.Option(help="An earlier version.")] = None,
) -> None:
    """Print the playbook in force (or an earlier version) as it was written."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        typer.echo(service.export_source(session, version), nl=False)


@playbook.command("example")
def example() -> None:
    """Print a full example playbook, every section explained, to start from."""
    typer.echo(service.example_source(), nl=False)


@playbook.command("versions")
def versions() -> None:
    """Every imported version, newest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows = service.list_versions(session)
        for row in rows:
            typer.echo(
                f"v{row.version:<4} {row.imported_at:%Y-%m-%d %H:%M}  {row.name}"
                f"  by {row.imported_by or '-'}"
            )
        if not rows:
            typer.echo("no playbook imported: the built-in default is in force")


@playbook.command("show")
def show(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Summarise the playbook in force."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        if as_json:
            cliutil.print_json(service.document_json(session))
            return
        policy = service.active_policy(session)
        doc = service.document_json(session)
        typer.echo(f"playbook {doc['name']!r}, version {policy.version or 'built-in'}")
        typer.echo(f"clocks count in {policy.sla_calendar}; warn at {policy.warn_at:.0%}")
        typer.echo("targets (first response / next response / resolution):")
        for p, t in sorted(policy.targets.items()):
            public = policy.public_targets.get(p)
            extra = (
                f"; public first response {format_duration(public.first_response)}"
                if public
                else ""
            )
            typer.echo(
                f"  {p}: {format_duration(t.first_response)} / {format_duration(t.next_response)}"
                f" / {format_duration(t.resolution)} ({t.calendar}){extra}"
            )
        for team in policy.teams.values():
            owns = ", ".join(team.categories) or "-"
            typer.echo(
                f"team {team.name}: owns {owns}; lead {team.lead or '-'}; hours {team.calendar}"
            )
        if policy.default_team:
            typer.echo(f"default team: {policy.default_team}")
        for level in policy.escalation:
            acts = [f"notify {', '.join(level.notify)}"]
            if level.reassign_to:
                acts.append(f"reassign to {level.reassign_to}")
            if level.raise_priority:
                acts.append("raise priority")
            typer.echo(
                f"escalation {level.level} after {format_duration(level.after)}: {'; '.join(acts)}"
            )
        typer.echo(
            f"follow-up {format_duration(policy.followup_delay)} after resolution, "
            f"{policy.survey.upper()} survey, link valid {format_duration(policy.survey_expires)}"
        )
