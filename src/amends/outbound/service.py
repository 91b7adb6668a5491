"""Queueing mail and webhook events in the outbox, and managing webhooks. Services flush; the
caller commits, so a mail or an event is sent only if the change that caused it is committed
(`flows.deliver_due` sends them later, outside any transaction).

Removing a webhook deletes it with all its deliveries (and its secret); a webhook that answered
410 Gone is kept, inactive, with its reason."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import date, datetime
from decimal import Decimal
from email.utils import make_msgid, parseaddr
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from amends.errors import Conflict, InvalidInput, NotFound
from amends.outbound.models import OutboundMail, Webhook, WebhookDelivery
from amends.outbound.rules import (
    KNOWN_EVENTS,
    OutboxStatus,
    canonical_json,
    check_event_filter,
    event_matches,
    has_line_break,
    is_valid_kind,
)

__all__ = [
    "KNOWN_EVENTS",
    "add_webhook",
    "emit_event",
    "enqueue_mail",
    "list_deliveries",
    "list_mail",
    "list_webhooks",
    "redeliver",
    "remove_webhook",
]

MAX_SUBJECT = 500
MIN_SECRET = 16


def enqueue_mail(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    kind: str,
    case_id: int | None = None,
    reply_to: str | None = None,
    html: str | None = None,
    mail_from: str | None = None,
    flush: bool = True,
) -> OutboundMail:
    """Queue one mail, due at `now`, with its Message-ID fixed already (so the caller can thread
    replies on it). `mail_from` only picks the Message-ID's domain; it defaults to the configured
    sender. Refuses invalid addresses and line breaks in headers. The caller commits."""
    if not is_valid_kind(kind):
        raise InvalidInput(f"not a mail kind: {kind!r} (lowercase letters, digits, _ . -)")
    for name, value in (("recipient", to), ("subject", subject), ("reply-to", reply_to or "")):
        if has_line_break(value):
            raise InvalidInput(f"line break in the {name}: refused (header injection)")
    subject = subject.strip()
    if not subject:
        raise InvalidInput("a mail needs a subject")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(f"subject longer than {MAX_SUBJECT} characters")
    to_addr = _address(to, "recipient")
    reply_addr = _address(reply_to, "reply-to") if reply_to else None
    mail = OutboundMail(
        kind=kind,
        case_id=case_id,
        to_addr=to_addr,
        subject=subject,
        body=body,
        html=html,
        reply_to=reply_addr,
        message_id=make_msgid(domain=_domain(mail_from)),
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(mail)
    if flush:  # assigns the id; bulk callers (a tick's notifications) leave it to the commit
        session.flush()
    return mail


def _address(value: str, what: str) -> str:
    """A bare address (no display name), syntax-checked; no DNS lookups."""
    value = value.strip()
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as exc:
        problem = exc
    # email-validator refuses special-use domains (.local, localhost, .test), but an internal
    # desk mails agents there, and the default sender is amends@localhost: check the syntax
    # with a public suffix added, and keep the address as given.
    local, _, domain = value.rpartition("@")
    if local and domain.lower().rstrip(".").rpartition(".")[2] in SPECIAL_USE_DOMAIN_NAMES:
        try:
            checked = validate_email(f"{local}@{domain}.example", check_deliverability=False)
        except EmailNotValidError:
            pass
        else:
            return f"{checked.local_part}@{domain.lower()}"
    raise InvalidInput(f"invalid {what} address {value!r}: {problem}") from problem


def _domain(mail_from: str | None) -> str:
    if mail_from is None:
        # The one place a service reads configuration: the interface callers share has no
        # settings argument, and the Message-ID must be final when the mail is queued.
        from amends.config import get_settings

        mail_from = get_settings().mail_from
    domain = parseaddr(mail_from)[1].rpartition("@")[2].strip()
    return domain or "localhost"


def list_mail(
    session: Session, *, status: OutboxStatus | str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[OutboundMail], int]:
    """Queued and sent mail, newest first, with the total count."""
    query = select(OutboundMail)
    if status is not None:
        query = query.where(OutboundMail.status == _status(status))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(OutboundMail.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def _status(value: OutboxStatus | str) -> OutboxStatus:
    try:
        return OutboxStatus(value)
    except ValueError as exc:
        known = ", ".join(s.value for s in OutboxStatus)
        raise InvalidInput(f"unknown status {value!r}; one of {known}") from exc


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def emit_event(session: Session, event: str, data: dict[str, Any], *, now: datetime) -> int:
    """Queue one delivery of `event` per active webhook subscribed to it; returns how many.
    `data` may hold datetimes, enums, decimals and uuids (stored as strings). One query when
    no webhook listens. The caller commits."""
    if event not in KNOWN_EVENTS:
        raise InvalidInput(f"unknown event {event!r}")
    hooks = session.execute(select(Webhook.id, Webhook.events).where(Webhook.active)).all()
    targets = [hook_id for hook_id, events in hooks if event_matches(events, event)]
    if not targets:
        return 0
    event_id = str(uuid.uuid4())
    envelope = {"id": event_id, "event": event, "created_at": now.isoformat(), "data": data}
    try:
        # Serialise once, then store the decoded form: canonical_json() of it gives the very
        # bytes signed and sent on every attempt.
        payload = json.loads(json.dumps(envelope, default=_jsonable, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"event data cannot be sent as JSON: {exc}") from exc
    canonical_json(payload)  # fails now, not at send time
    for hook_id in targets:
        session.add(
            WebhookDelivery(
                webhook_id=hook_id,
                event=event,
                event_id=event_id,
                delivery_id=str(uuid.uuid4()),
                payload=payload,
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()
    return len(targets)


def add_webhook(
    session: Session,
    url: str,
    *,
    events: list[str],
    now: datetime,
    secret: str | None = None,
    description: str | None = None,
) -> tuple[Webhook, str]:
    """Register a webhook; returns it and its signing secret (generated unless given), which
    the caller shows once. The caller commits."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"a webhook URL must be http(s) with a host: {url!r}")
    if len(url) > 2000 or has_line_break(url) or any(ch.isspace() for ch in url):
        raise InvalidInput("a webhook URL must be one line without spaces, at most 2000 chars")
    wanted = list(dict.fromkeys(e.strip() for e in events if e.strip()))
    if not wanted:
        raise InvalidInput("a webhook needs at least one event (or '*')")
    for pattern in wanted:
        problem = check_event_filter(pattern)
        if problem:
            known = ", ".join(sorted(KNOWN_EVENTS))
            raise InvalidInput(f"{problem}; known events: {known}, '*' or 'prefix.*'")
    if secret is None:
        secret = secrets.token_urlsafe(32)
    elif not (MIN_SECRET <= len(secret) <= 200) or has_line_break(secret):
        raise InvalidInput(f"a webhook secret must be {MIN_SECRET} to 200 characters")
    if description is not None:
        description = description.strip()[:500] or None
    hook = Webhook(
        url=url,
        secret=secret,
        events=wanted,
        active=True,
        description=description,
        created_at=now,
    )
    session.add(hook)
    session.flush()
    return hook, secret


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def get_webhook(session: Session, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound("webhook", webhook_id)
    return hook


def remove_webhook(session: Session, webhook_id: int) -> None:
    """Delete a webhook with its deliveries and secret. A delivery being sent right now is
    still sent; its outcome is then dropped. The caller commits."""
    get_webhook(session, webhook_id)
    session.flush()
    # ORM-enabled bulk deletes: objects of these rows already in the session are marked gone.
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id))
    session.execute(delete(Webhook).where(Webhook.id == webhook_id))


def list_deliveries(
    session: Session,
    *,
    webhook_id: int | None = None,
    status: OutboxStatus | str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[WebhookDelivery], int]:
    """Deliveries, newest first, with the total count; NotFound for an unknown webhook."""
    query = select(WebhookDelivery)
    if webhook_id is not None:
        get_webhook(session, webhook_id)
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == _status(status))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def redeliver(session: Session, delivery_id: int, *, now: datetime) -> WebhookDelivery:
    """Send a delivery again from a fresh retry schedule (same body, same X-Amends-Delivery,
    so receivers can dedupe). Refused while it is being sent or its webhook is disabled."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("webhook delivery", delivery_id)
    if not delivery.webhook.active:
        raise Conflict(
            f"webhook {delivery.webhook_id} is disabled: {delivery.webhook.disabled_reason}"
        )
    if delivery.status == OutboxStatus.SENDING and delivery.next_attempt_at > now:
        raise Conflict(f"delivery {delivery_id} is being sent right now")
    delivery.status = OutboxStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.leased_until = None
    session.flush()
    return delivery
