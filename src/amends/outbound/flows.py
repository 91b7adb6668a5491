"""Sending what the outbox holds: mail over SMTP and signed webhook POSTs.

Each row is claimed in a short write transaction of its own (status -> sending, a lease, one
more attempt) before the network call, and its outcome recorded in another; no transaction is
open across a network call. The claim is a conditional UPDATE (compare and set), so of two
workers only one wins a row. A worker that dies mid-send leaves a lease that runs out; the row
is then due again and sent once more (at least once: receivers dedupe on Message-ID or
X-Amends-Delivery). The outcome is recorded only if the row still carries this claim's lease,
so a worker that outlived its lease cannot overwrite a newer claim's result.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from amends.config import Settings
from amends.db import session_scope
from amends.outbound.models import OutboundMail, Webhook, WebhookDelivery
from amends.outbound.rules import (
    BACKOFF,
    DUE_STATUSES,
    MAX_ATTEMPTS,
    OutboxStatus,
    brief,
    canonical_json,
    is_automatic,
    retry_delay,
    sign,
)

log = logging.getLogger(__name__)

MIN_LEASE = timedelta(minutes=5)
USER_AGENT = "amends-webhooks"
_RETRYABLE = (OutboxStatus.PENDING, OutboxStatus.FAILED)


@dataclass
class DeliveryStats:
    """What one pass did. `*_failed` counts failed attempts (retry scheduled or given up);
    `*_dead` how many of those were given up. `*_waiting` rows were due but left for a later
    pass: no SMTP host configured, the server or receiver is failing, or the pass ran long."""

    mail_sent: int = 0
    mail_failed: int = 0
    mail_dead: int = 0
    mail_waiting: int = 0
    webhooks_delivered: int = 0
    webhooks_failed: int = 0
    webhooks_dead: int = 0
    webhooks_waiting: int = 0
    taken_elsewhere: int = 0  # due rows that another worker claimed first
    smtp_configured: bool = True


def lease_for(settings: Settings) -> timedelta:
    """Long enough for one send, with every network timeout hit several times over."""
    timeout = max(settings.smtp_timeout, settings.webhook_timeout)
    return max(MIN_LEASE, timedelta(seconds=20 * timeout))


def deliver_due(
    engine: Engine, *, now: datetime, settings: Settings, limit: int = 500
) -> DeliveryStats:
    """Send up to `limit` due mails and up to `limit` due webhook deliveries (due: pending or
    failed with next_attempt_at <= now, or a lease that ran out). Owns its transactions."""
    stats = DeliveryStats()
    lease = lease_for(settings)
    started = time.monotonic()

    # Rows are leased from `now`; stop claiming while a fresh lease still has half its length
    # left in real time, so a long pass never sends on a lease that has already run out.
    def late() -> bool:
        return time.monotonic() - started > lease.total_seconds() / 2

    _deliver_mail(
        engine, now=now, settings=settings, limit=limit, lease=lease, late=late, stats=stats
    )
    _deliver_webhooks(
        engine, now=now, settings=settings, limit=limit, lease=lease, late=late, stats=stats
    )
    return stats


# --- claims and outcomes ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedMail:
    id: int
    lease_end: datetime
    attempts: int
    kind: str
    to_addr: str
    subject: str
    body: str
    html: str | None
    reply_to: str | None
    message_id: str
    created_at: datetime


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    lease_end: datetime
    attempts: int
    webhook_id: int
    webhook_active: bool
    url: str
    secret: str
    event: str
    delivery_id: str
    payload: dict[str, Any]


def _claim(
    session: Session,
    model: type[OutboundMail] | type[WebhookDelivery],
    row_id: int,
    *,
    now: datetime,
    lease: timedelta,
) -> datetime | None:
    """Compare and set: take the row if it is still due. On PostgreSQL a concurrent claim
    waits for ours to commit, re-reads the row and finds it no longer due."""
    lease_end = now + lease
    claimed = session.scalar(
        update(model)
        .where(
            model.id == row_id,
            model.status.in_(DUE_STATUSES),
            model.next_attempt_at <= now,
        )
        .values(
            status=OutboxStatus.SENDING,
            attempts=model.attempts + 1,
            leased_until=lease_end,
            next_attempt_at=lease_end,
        )
        .returning(model.id)
    )
    return lease_end if claimed is not None else None


def claim_mail(
    engine: Engine, mail_id: int, *, now: datetime, lease: timedelta
) -> ClaimedMail | None:
    """Lease one due mail for sending, or None when it is not due (sent, or claimed by another
    worker whose lease still runs)."""
    with session_scope(engine, write=True) as s:
        lease_end = _claim(s, OutboundMail, mail_id, now=now, lease=lease)
        if lease_end is None:
            return None
        m = s.execute(select(OutboundMail).where(OutboundMail.id == mail_id)).scalar_one()
        return ClaimedMail(
            id=m.id,
            lease_end=lease_end,
            attempts=m.attempts,
            kind=m.kind,
            to_addr=m.to_addr,
            subject=m.subject,
            body=m.body,
            html=m.html,
            reply_to=m.reply_to,
            message_id=m.message_id,
            created_at=m.created_at,
        )


def claim_delivery(
    engine: Engine, delivery_id: int, *, now: datetime, lease: timedelta
) -> ClaimedDelivery | None:
    """Lease one due webhook delivery for sending, or None when it is not due."""
    with session_scope(engine, write=True) as s:
        lease_end = _claim(s, WebhookDelivery, delivery_id, now=now, lease=lease)
        if lease_end is None:
            return None
        d, hook = s.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id == delivery_id)
        ).one()
        return ClaimedDelivery(
            id=d.id,
            lease_end=lease_end,
            attempts=d.attempts,
            webhook_id=hook.id,
            webhook_active=hook.active,
            url=hook.url,
            secret=hook.secret,
            event=d.event,
            delivery_id=d.delivery_id,
            payload=d.payload,
        )


def record_outcome(
    engine: Engine,
    model: type[OutboundMail] | type[WebhookDelivery],
    row_id: int,
    lease_end: datetime,
    values: dict[str, Any],
) -> bool:
    """Record an outcome if the row still carries this claim's lease; False when it does not
    (the lease ran out and another worker claimed it again, or the row was deleted)."""
    with session_scope(engine, write=True) as s:
        done = s.scalar(
            update(model)
            .where(
                model.id == row_id,
                model.status == OutboxStatus.SENDING,
                model.leased_until == lease_end,
            )
            .values(leased_until=None, **values)
            .returning(model.id)
        )
        return done is not None


def _failure(attempts: int, now: datetime, error: str, *, permanent: bool) -> dict[str, Any]:
    delay = None if permanent else retry_delay(attempts)
    if delay is None:
        return {"status": OutboxStatus.DEAD, "last_error": brief(error)}
    return {
        "status": OutboxStatus.FAILED,
        "next_attempt_at": now + delay,
        "last_error": brief(error),
    }


def _due_ids(
    session: Session, model: type[OutboundMail] | type[WebhookDelivery], now: datetime, limit: int
) -> list[Any]:
    return list(
        session.execute(
            select(model.id, *([model.webhook_id] if model is WebhookDelivery else []))
            .where(model.status.in_(DUE_STATUSES), model.next_attempt_at <= now)
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
        ).all()
    )


def _defer(
    session: Session,
    query_model: type[OutboundMail] | type[WebhookDelivery],
    *conditions: Any,
    now: datetime,
    until: datetime,
) -> None:
    """Push rows that are due now to `until`, without counting an attempt: the server or
    receiver just failed, so they wait with the row that found out."""
    session.execute(
        update(query_model)
        .where(
            query_model.status.in_(_RETRYABLE),
            query_model.next_attempt_at <= now,
            *conditions,
        )
        .values(next_attempt_at=until)
    )


# --- mail --------------------------------------------------------------------------------------


class _ServerFailure(Exception):
    """The SMTP server, not this message, is the trouble: retry later, stop this pass."""


class _Refused(Exception):
    """The server refused this message; `permanent` for a 5xx answer."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def build_message(mail: ClaimedMail, *, mail_from: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = mail.to_addr
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = format_datetime(mail.created_at)
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    if is_automatic(mail.kind):
        msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.body)
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html")
    return msg


def _reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {text}"


class _Smtp:
    """One SMTP connection, opened on first use and kept for the pass."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conn: smtplib.SMTP | None = None
        password = settings.smtp_password
        self.password = password.get_secret_value() if password is not None else ""

    def error(self, exc: BaseException) -> str:
        return brief(f"{type(exc).__name__}: {exc}", hide=[self.password])

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host is not None
        # EHLO with the sender's domain: the default (socket.getfqdn) may wait on DNS.
        helo = parseaddr(s.mail_from)[1].rpartition("@")[2] or "localhost"
        conn: smtplib.SMTP
        if s.smtp_ssl:
            conn = smtplib.SMTP_SSL(
                s.smtp_host,
                s.smtp_port,
                local_hostname=helo,
                timeout=s.smtp_timeout,
                context=ssl.create_default_context(),
            )
        else:
            conn = smtplib.SMTP(
                s.smtp_host, s.smtp_port, local_hostname=helo, timeout=s.smtp_timeout
            )
        try:
            if s.smtp_starttls and not s.smtp_ssl:
                conn.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                conn.login(s.smtp_user, self.password)
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, msg: EmailMessage) -> None:
        """Send one message; raises _Refused (this message) or _ServerFailure (the server)."""
        try:
            if self.conn is None:
                self.conn = self._connect()
            self.conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            # One recipient per mail: all refused means it was refused.
            code, text = next(iter(exc.recipients.values()))
            raise _Refused(_reply_text(code, text), permanent=500 <= code < 600) from exc
        except smtplib.SMTPDataError as exc:
            raise _Refused(
                _reply_text(exc.smtp_code, exc.smtp_error), permanent=500 <= exc.smtp_code < 600
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            if self.conn is not None:  # the message needs SMTPUTF8, which the server lacks
                raise _Refused(self.error(exc), permanent=True) from exc
            self.close()
            raise _ServerFailure(self.error(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Connection refused or lost, timeouts, TLS, authentication, sender refused.
            self.close()
            raise _ServerFailure(self.error(exc)) from exc

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


def _deliver_mail(
    engine: Engine,
    *,
    now: datetime,
    settings: Settings,
    limit: int,
    lease: timedelta,
    late: Callable[[], bool],
    stats: DeliveryStats,
) -> None:
    if not settings.smtp_host:
        stats.smtp_configured = False
        with session_scope(engine, write=False) as s:
            stats.mail_waiting = (
                s.scalar(
                    select(func.count())
                    .select_from(OutboundMail)
                    .where(
                        OutboundMail.status.in_(DUE_STATUSES), OutboundMail.next_attempt_at <= now
                    )
                )
                or 0
            )
        return
    with session_scope(engine, write=False) as s:
        due = [row_id for (row_id,) in _due_ids(s, OutboundMail, now, limit)]
    smtp = _Smtp(settings)
    try:
        for done, mail_id in enumerate(due):
            if late():
                stats.mail_waiting += len(due) - done
                return
            claimed = claim_mail(engine, mail_id, now=now, lease=lease)
            if claimed is None:
                stats.taken_elsewhere += 1
                continue
            if claimed.attempts > MAX_ATTEMPTS:
                # Only a lost worker gets a row this far: it held the last attempt and died.
                outcome = _failure(
                    claimed.attempts,
                    now,
                    "gave up: the last attempt never reported back",
                    permanent=True,
                )
            else:
                outcome, server_down = _send_mail(smtp, claimed, settings=settings, now=now)
                if server_down:
                    record_outcome(engine, OutboundMail, claimed.id, claimed.lease_end, outcome)
                    _count_mail(stats, outcome)
                    until = outcome.get("next_attempt_at", now + BACKOFF[0])
                    with session_scope(engine, write=True) as s:
                        _defer(s, OutboundMail, now=now, until=until)
                    stats.mail_waiting += len(due) - done - 1
                    return
            record_outcome(engine, OutboundMail, claimed.id, claimed.lease_end, outcome)
            _count_mail(stats, outcome)
    finally:
        smtp.close()


def _send_mail(
    smtp: _Smtp, mail: ClaimedMail, *, settings: Settings, now: datetime
) -> tuple[dict[str, Any], bool]:
    """Send one claimed mail: its outcome, and whether the server itself is failing."""
    try:
        msg = build_message(mail, mail_from=settings.mail_from)
    except Exception as exc:  # a message that cannot be built: no retry will help
        log.warning("outbound mail %s cannot be built: %s", mail.id, type(exc).__name__)
        error = f"cannot build the message: {type(exc).__name__}: {exc}"
        return _failure(mail.attempts, now, error, permanent=True), False
    try:
        smtp.send(msg)
    except _Refused as exc:
        return _failure(mail.attempts, now, str(exc), permanent=exc.permanent), False
    except _ServerFailure as exc:
        return _failure(mail.attempts, now, str(exc), permanent=False), True
    except Exception as exc:
        # Unforeseen: retry this one later (it goes dead after the last attempt) on a fresh
        # connection, and go on with the others.
        log.warning("outbound mail %s: unexpected %s", mail.id, type(exc).__name__)
        smtp.close()
        return _failure(mail.attempts, now, smtp.error(exc), permanent=False), False
    return {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}, False


def _count_mail(stats: DeliveryStats, outcome: dict[str, Any]) -> None:
    status = outcome["status"]
    if status == OutboxStatus.SENT:
        stats.mail_sent += 1
        return
    stats.mail_failed += 1
    if status == OutboxStatus.DEAD:
        stats.mail_dead += 1


# --- webhooks ----------------------------------------------------------------------------------


def webhook_headers(d: ClaimedDelivery, body: bytes, *, now: datetime) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Amends-Event": d.event,
        "X-Amends-Delivery": d.delivery_id,
        "X-Amends-Signature": sign(d.secret, body, int(now.timestamp())),
    }


def _deliver_webhooks(
    engine: Engine,
    *,
    now: datetime,
    settings: Settings,
    limit: int,
    lease: timedelta,
    late: Callable[[], bool],
    stats: DeliveryStats,
) -> None:
    with session_scope(engine, write=False) as s:
        due = [(row_id, hook_id) for row_id, hook_id in _due_ids(s, WebhookDelivery, now, limit)]
    if not due:
        return
    failing: set[int] = set()  # webhooks that failed in this pass: their other rows wait
    with httpx.Client(timeout=settings.webhook_timeout, follow_redirects=False) as client:
        for done, (delivery_id, hook_id) in enumerate(due):
            if late():
                stats.webhooks_waiting += len(due) - done
                return
            if hook_id in failing:
                stats.webhooks_waiting += 1
                continue
            claimed = claim_delivery(engine, delivery_id, now=now, lease=lease)
            if claimed is None:
                stats.taken_elsewhere += 1
                continue
            _deliver_one(engine, client, claimed, now=now, stats=stats, failing=failing)


def _deliver_one(
    engine: Engine,
    client: httpx.Client,
    d: ClaimedDelivery,
    *,
    now: datetime,
    stats: DeliveryStats,
    failing: set[int],
) -> None:
    hide = [d.secret, urlsplit(d.url).password or ""]
    status: int | None = None
    if not d.webhook_active:
        outcome = _failure(d.attempts, now, "webhook disabled", permanent=True)
    elif d.attempts > MAX_ATTEMPTS:
        outcome = _failure(
            d.attempts, now, "gave up: the last attempt never reported back", permanent=True
        )
    else:
        body = canonical_json(d.payload)
        try:
            # Streamed and closed unread: a receiver's answer body is never loaded.
            headers = webhook_headers(d, body, now=now)
            with client.stream("POST", d.url, content=body, headers=headers) as response:
                status = response.status_code
        except Exception as exc:  # httpx errors, and anything a strange URL may raise
            if not isinstance(exc, httpx.HTTPError):
                log.warning("webhook delivery %s: unexpected %s", d.id, type(exc).__name__)
            error = brief(f"{type(exc).__name__}: {exc}", hide=hide)
            outcome = _failure(d.attempts, now, error, permanent=False)
        else:
            if 200 <= status < 300:
                outcome = {"status": OutboxStatus.SENT, "delivered_at": now, "last_error": None}
            elif status == 410:
                outcome = _failure(
                    d.attempts, now, "HTTP 410 Gone: webhook disabled", permanent=True
                )
            else:
                note = " (redirects are not followed)" if 300 <= status < 400 else ""
                outcome = _failure(d.attempts, now, f"HTTP {status}{note}", permanent=False)
    outcome["response_status"] = status
    recorded = record_outcome(engine, WebhookDelivery, d.id, d.lease_end, outcome)
    if outcome["status"] == OutboxStatus.SENT:
        stats.webhooks_delivered += 1
        return
    stats.webhooks_failed += 1
    if outcome["status"] == OutboxStatus.DEAD:
        stats.webhooks_dead += 1
    if status == 410 and recorded:
        _disable(engine, d.webhook_id, now=now)
    elif outcome["status"] == OutboxStatus.FAILED and d.webhook_active:
        failing.add(d.webhook_id)
        with session_scope(engine, write=True) as s:
            _defer(
                s,
                WebhookDelivery,
                WebhookDelivery.webhook_id == d.webhook_id,
                now=now,
                until=outcome["next_attempt_at"],
            )


def _disable(engine: Engine, webhook_id: int, *, now: datetime) -> None:
    """The receiver said 410 Gone: stop the webhook and give up its queued deliveries."""
    reason = f"receiver answered 410 Gone at {now.isoformat()}"
    with session_scope(engine, write=True) as s:
        s.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(active=False, disabled_reason=reason)
        )
        s.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.webhook_id == webhook_id,
                WebhookDelivery.status.in_(_RETRYABLE),
            )
            .values(status=OutboxStatus.DEAD, last_error="webhook disabled: 410 Gone")
        )
