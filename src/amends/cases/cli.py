"""`amends cases ...`."""

from __future__ import annotations

from typing import Annotated

import typer

from amends import cliutil
from amends.cases import service
from amends.cases.rules import CaseStatus

cases = typer.Typer(no_args_is_help=True, help="Cases: one recovery each.")


@cases.command("list")
def list_cases(
    status: Annotated[CaseStatus | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List cases, most recently active first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows, total = service.list_cases(session, limit=limit, status=status)
        for c in rows:
            if as_json:
                cliutil.print_json(
                    {
                        "id": c.id,
                        "customer_id": c.customer_id,
                        "status": c.status.value,
                        "subject": c.subject,
                        "channel": c.channel.value,
                        "public": c.public,
                        "opened_at": c.opened_at.isoformat(),
                        "updated_at": c.updated_at.isoformat(),
                    }
                )
            else:
                typer.echo(
                    f"#{c.id:<6} {c.status.value:<20} {c.channel.value:<7} "
                    f"customer {c.customer_id:<6} {c.subject[:70]}"
                )
        if not as_json:
            typer.echo(f"{total} case(s)")


@cases.command("show")
def show_case(case_id: int) -> None:
    """Show a case and its feedback, oldest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        case = service.get_case(session, case_id)
        typer.echo(
            f"case #{case.id} · {case.status.value} · {case.channel.value}"
            f"{' · public' if case.public else ''}"
        )
        typer.echo(f"customer {case.customer_id}: {case.customer.name or '(no name)'}")
        typer.echo(f"subject: {case.subject}")
        typer.echo(f"opened {case.opened_at:%Y-%m-%d %H:%M} UTC")
        for f in case.feedback:
            who = "customer" if f.direction.value == "in" else "us"
            typer.echo(f"\n[{f.received_at:%Y-%m-%d %H:%M}] {who} via {f.channel.value}:")
            typer.echo(f.text)
