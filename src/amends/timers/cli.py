"""`amends tick`, `amends worker` and `amends timers`."""

from __future__ import annotations

import signal
from typing import Annotated

import typer
from sqlalchemy import select

from amends import cliutil
from amends.timers.flows import TimerThread
from amends.timers.flows import tick as run_tick
from amends.timers.models import Timer, TimerStatus

timers_app = typer.Typer(no_args_is_help=True, help="Timers waiting to fire.")


def tick(
    now: cliutil.NowOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run everything due up to now (or --now): SLA warnings, breaches and escalations,
    follow-ups, waiting assignments, outgoing mail and webhooks."""
    settings = cliutil.settings()
    with cliutil.user_errors(), cliutil.database() as engine:
        stats = run_tick(engine, now=cliutil.now(now), settings=settings)
        if as_json:
            cliutil.print_json(stats.as_dict())
            return
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(stats.fired.items())) or "none"
        typer.echo(
            f"fired {stats.total_fired} timer(s) ({kinds}); {stats.failed} failed; "
            f"assigned {stats.assigned}; mail sent {stats.mail_sent}; "
            f"webhooks delivered {stats.webhooks_delivered}"
        )


def worker(
    every: Annotated[float, typer.Option(min=0.1, help="Seconds between ticks.")] = 15,
) -> None:
    """Tick until stopped (Ctrl-C or SIGTERM): for running timers outside `amends serve`."""
    settings = cliutil.settings()
    with cliutil.user_errors(), cliutil.database() as engine:
        thread = TimerThread(engine, settings, every=every)
        signal.signal(signal.SIGTERM, lambda *_: thread.stop(0))
        typer.echo(f"worker: ticking every {every:g}s; Ctrl-C stops")
        thread.start()
        try:
            thread.join()
        except KeyboardInterrupt:
            pass
        finally:
            thread.stop()


@timers_app.command("list")
def list_timers(
    status: Annotated[TimerStatus, typer.Option()] = TimerStatus.PENDING,
    case: Annotated[int | None, typer.Option(help="Only this case's.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Timers, soonest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        query = select(Timer).where(Timer.status == status)
        if case is not None:
            query = query.where(Timer.case_id == case)
        for t in session.scalars(query.order_by(Timer.due_at, Timer.id).limit(limit)):
            row = {
                "id": t.id,
                "kind": t.kind,
                "case_id": t.case_id,
                "clock": t.clock,
                "due_at": t.due_at.isoformat(),
                "status": t.status.value,
                "last_error": t.last_error,
            }
            if as_json:
                cliutil.print_json(row)
            else:
                typer.echo(
                    f"{t.id:>6} {t.due_at:%Y-%m-%d %H:%M} {t.kind:<14} case {t.case_id or '-'}"
                    f" {t.clock or ''}{'  ' + t.last_error if t.last_error else ''}"
                )
