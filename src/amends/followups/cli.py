"""`amends followups ...`."""

from __future__ import annotations

from typing import Annotated

import typer

from amends import cliutil
from amends.followups import service
from amends.followups.models import FollowUpStatus

followups = typer.Typer(no_args_is_help=True, help="Follow-ups after resolution, and surveys.")


@followups.command("list")
def list_followups(
    status: Annotated[FollowUpStatus | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Follow-ups, newest first, with their answers."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        for f in service.list_followups(session, status=status, limit=limit):
            row = {
                "id": f.id,
                "case_id": f.case_id,
                "status": f.status.value,
                "scale": f.scale.value,
                "due_at": f.due_at.isoformat(),
                "sent_at": f.sent_at.isoformat() if f.sent_at else None,
                "answered_at": f.answered_at.isoformat() if f.answered_at else None,
                "score": f.score,
                "by_mail": f.to_addr is not None,
            }
            if as_json:
                cliutil.print_json(row)
            else:
                answer = f"{f.scale.value.upper()} {f.score}" if f.score is not None else ""
                typer.echo(
                    f"{f.id:>5} case #{f.case_id:<6} {f.status.value:<10} "
                    f"due {f.due_at:%Y-%m-%d %H:%M} {answer}"
                )


@followups.command("link")
def link(followup_id: int, now: cliutil.NowOption = None) -> None:
    """Print the survey link of a sent follow-up, to pass on by hand (social, chat)."""
    from amends.errors import InvalidTransition, NotFound
    from amends.followups.models import FollowUp

    settings = cliutil.settings()
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        row = session.get(FollowUp, followup_id)
        if row is None:
            raise NotFound("follow-up", followup_id)
        if row.status is not FollowUpStatus.SENT:
            raise InvalidTransition(f"follow-up {row.id} is {row.status.value}, not sent")
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        token = service.sign(session, row, now=cliutil.now(now), secret=secret)
        typer.echo(f"{settings.public_url.rstrip('/')}/survey/{token}")
