"""`amends webhooks ...`, `amends mail outbox` and `amends deliver`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from amends import cliutil
from amends.outbound import service
from amends.outbound.flows import deliver_due
from amends.outbound.models import OutboundMail, Webhook, WebhookDelivery
from amends.outbound.rules import OutboxStatus

webhooks = typer.Typer(no_args_is_help=True, help="Webhooks: signed POSTs of desk events.")
mail = typer.Typer(no_args_is_help=True, help="Outbound mail.")

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object a line.")]
StatusOption = Annotated[OutboxStatus | None, typer.Option(help="Only rows in this status.")]
LimitOption = Annotated[int, typer.Option(min=1, help="At most this many rows.")]


def _hook_json(w: Webhook) -> dict[str, Any]:
    return {
        "id": w.id,
        "url": w.url,
        "events": w.events,
        "active": w.active,
        "description": w.description,
        "created_at": w.created_at.isoformat(),
        "disabled_reason": w.disabled_reason,
    }


def _delivery_json(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "webhook_id": d.webhook_id,
        "event": d.event,
        "event_id": d.event_id,
        "delivery_id": d.delivery_id,
        "status": d.status.value,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.isoformat(),
        "response_status": d.response_status,
        "last_error": d.last_error,
        "created_at": d.created_at.isoformat(),
        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
    }


def _mail_json(m: OutboundMail) -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": m.kind,
        "case_id": m.case_id,
        "to": m.to_addr,
        "subject": m.subject,
        "message_id": m.message_id,
        "status": m.status.value,
        "attempts": m.attempts,
        "next_attempt_at": m.next_attempt_at.isoformat(),
        "last_error": m.last_error,
        "created_at": m.created_at.isoformat(),
        "sent_at": m.sent_at.isoformat() if m.sent_at else None,
    }


@webhooks.command("add")
def add(
    url: str,
    event: Annotated[
        list[str],
        typer.Option(help="An event, 'prefix.*' or '*' (repeat for more).", show_default=False),
    ],
    secret: Annotated[str | None, typer.Option(help="Signing secret (default: generated).")] = None,
    description: Annotated[str | None, typer.Option(help="What the webhook is for.")] = None,
) -> None:
    """Add a webhook and print its signing secret (shown this once)."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        hook, key = service.add_webhook(
            session, url, events=event, now=cliutil.now(), secret=secret, description=description
        )
        typer.echo(f"webhook {hook.id} added: {hook.url} for {', '.join(hook.events)}")
        typer.echo(f"secret: {key}")
        typer.echo("(keep it: it signs every delivery and is not shown again)")


@webhooks.command("list")
def list_(as_json: JsonOption = False) -> None:
    """List the webhooks (never their secrets)."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        for w in service.list_webhooks(session):
            if as_json:
                cliutil.print_json(_hook_json(w))
                continue
            state = "active" if w.active else f"disabled ({w.disabled_reason or 'removed'})"
            typer.echo(f"{w.id:>4}  {w.url}  {', '.join(w.events)}  {state}")


@webhooks.command("remove")
def remove(webhook_id: int) -> None:
    """Delete a webhook, its secret and its deliveries."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        service.remove_webhook(session, webhook_id)
        typer.echo(f"webhook {webhook_id} removed")


@webhooks.command("deliveries")
def deliveries(
    webhook: Annotated[int | None, typer.Option(help="Only this webhook's deliveries.")] = None,
    status: StatusOption = None,
    limit: LimitOption = 50,
    as_json: JsonOption = False,
) -> None:
    """List webhook deliveries, newest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows, total = service.list_deliveries(
            session, webhook_id=webhook, status=status, limit=limit, offset=0
        )
        for d in rows:
            if as_json:
                cliutil.print_json(_delivery_json(d))
                continue
            extra = f"  {d.last_error}" if d.last_error else ""
            typer.echo(
                f"{d.id:>6}  webhook {d.webhook_id:<4} {d.event:<22} {d.status.value:<8} "
                f"attempts {d.attempts}{extra}"
            )
        if not as_json:
            typer.echo(f"{total} deliveries")


@webhooks.command("redeliver")
def redeliver(delivery_id: int) -> None:
    """Queue a delivery again, due now, with a fresh retry schedule."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        d = service.redeliver(session, delivery_id, now=cliutil.now())
        typer.echo(f"delivery {d.id} queued again ({d.event} to webhook {d.webhook_id})")


@mail.command("outbox")
def outbox(
    status: StatusOption = None, limit: LimitOption = 50, as_json: JsonOption = False
) -> None:
    """List outbound mail, newest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows, total = service.list_mail(session, status=status, limit=limit, offset=0)
        for m in rows:
            if as_json:
                cliutil.print_json(_mail_json(m))
                continue
            extra = f"  {m.last_error}" if m.last_error else ""
            typer.echo(
                f"{m.id:>6}  {m.status.value:<8} {m.kind:<12} {m.to_addr:<30} "
                f"{m.subject[:50]}{extra}"
            )
        if not as_json:
            typer.echo(f"{total} mail(s)")


def deliver(
    now: Annotated[
        str | None, typer.Option(help="Act as of this ISO-8601 time (naive means UTC).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many of each kind.")] = 500,
    as_json: JsonOption = False,
) -> None:
    """Send the mail and webhook deliveries that are due, once, and print what happened."""
    with cliutil.user_errors():
        moment = cliutil.parse_now(now)
        settings = cliutil.settings()
        with cliutil.database() as engine:
            stats = deliver_due(engine, now=moment, settings=settings, limit=limit)
    if as_json:
        cliutil.print_json(asdict(stats))
        return
    waiting = f", {stats.mail_waiting} waiting"
    if not stats.smtp_configured:
        waiting += " for SMTP configuration (set AMENDS_SMTP_HOST)"
    typer.echo(
        f"mail: {stats.mail_sent} sent, {stats.mail_failed} failed "
        f"({stats.mail_dead} given up){waiting}"
    )
    typer.echo(
        f"webhooks: {stats.webhooks_delivered} delivered, {stats.webhooks_failed} failed "
        f"({stats.webhooks_dead} given up), {stats.webhooks_waiting} waiting"
    )
