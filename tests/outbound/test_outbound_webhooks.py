"""Delivering signed webhooks to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from tests.outbound.servers import Receiver, free_port

from amends.config import Settings
from amends.db import session_scope
from amends.outbound import service
from amends.outbound.flows import DeliveryStats, claim_delivery, deliver_due, lease_for
from amends.outbound.models import Webhook, WebhookDelivery
from amends.outbound.rules import OutboxStatus, canonical_json, verify

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SECRET = "test-secret-0123456789"


def hook(engine: Engine, url: str, events: list[str] | None = None) -> int:
    with session_scope(engine) as s:
        h, _ = service.add_webhook(s, url, events=events or ["*"], now=NOW, secret=SECRET)
        return h.id


def emit(engine: Engine, event: str = "case.opened", **data: object) -> int:
    with session_scope(engine) as s:
        return service.emit_event(s, event, {"case_id": 1, **data}, now=NOW)


def deliveries(engine: Engine) -> list[WebhookDelivery]:
    with session_scope(engine, write=False) as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_delivery_is_signed_and_sent_once(
    engine: Engine, receiver: Receiver, hook_settings: Settings
) -> None:
    hook(engine, receiver.url())
    emit(engine, subject="Heater", customer={"name": "Ann Lée"})
    stats = deliver_due(engine, now=NOW, settings=hook_settings)
    assert stats == DeliveryStats(webhooks_delivered=1, smtp_configured=False)

    (call,) = receiver.calls
    (d,) = deliveries(engine)
    assert call.path == "/hook"
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["User-Agent"] == "amends-webhooks"
    assert call.headers["X-Amends-Event"] == "case.opened"
    assert call.headers["X-Amends-Delivery"] == d.delivery_id
    signature = call.headers["X-Amends-Signature"]
    assert signature.startswith(f"t={int(NOW.timestamp())},v1=")
    assert verify(SECRET, call.body, signature, now=NOW)
    assert not verify("another-secret-entirely", call.body, signature, now=NOW)
    assert not verify(SECRET, call.body, signature, now=NOW + timedelta(minutes=6))
    # The exact stored payload, compact with sorted keys.
    assert call.body == canonical_json(d.payload)
    body = json.loads(call.body)
    assert body == {
        "id": d.event_id,
        "event": "case.opened",
        "created_at": "2026-11-02T10:00:00+00:00",
        "data": {"case_id": 1, "subject": "Heater", "customer": {"name": "Ann Lée"}},
    }
    assert (d.status, d.attempts, d.response_status, d.delivered_at) == (
        OutboxStatus.SENT,
        1,
        200,
        NOW,
    )
    assert deliver_due(engine, now=NOW + timedelta(days=1), settings=hook_settings) == (
        DeliveryStats(smtp_configured=False)
    )
    assert len(receiver.calls) == 1


def test_events_reach_only_the_webhooks_that_want_them(
    engine: Engine, receiver: Receiver, hook_settings: Settings
) -> None:
    hook(engine, receiver.url("/all"), ["*"])
    hook(engine, receiver.url("/cases"), ["case.*"])
    hook(engine, receiver.url("/answers"), ["followup.answered"])
    assert emit(engine, "case.sla_breached") == 2
    assert emit(engine, "followup.answered") == 2
    assert emit(engine, "followup.sent") == 1
    assert deliver_due(engine, now=NOW, settings=hook_settings).webhooks_delivered == 5
    got = sorted((c.path, c.headers["X-Amends-Event"]) for c in receiver.calls)
    assert got == [
        ("/all", "case.sla_breached"),
        ("/all", "followup.answered"),
        ("/all", "followup.sent"),
        ("/answers", "followup.answered"),
        ("/cases", "case.sla_breached"),
    ]


def test_a_server_error_is_retried_with_the_same_body_then_delivered(
    engine: Engine, receiver: Receiver, hook_settings: Settings
) -> None:
    hook(engine, receiver.url())
    emit(engine)
    emit(engine, "case.assigned")
    receiver.statuses = [500]
    stats = deliver_due(engine, now=NOW, settings=hook_settings)
    # The first failed; the second waits with it rather than hammer a failing receiver.
    assert (stats.webhooks_failed, stats.webhooks_delivered, stats.webhooks_waiting) == (1, 0, 1)
    first, second = deliveries(engine)
    assert (first.status, first.attempts, first.response_status, first.last_error) == (
        OutboxStatus.FAILED,
        1,
        500,
        "HTTP 500",
    )
    assert first.next_attempt_at == NOW + timedelta(seconds=30)
    assert (second.status, second.attempts) == (OutboxStatus.PENDING, 0)
    assert second.next_attempt_at == NOW + timedelta(seconds=30)

    later = NOW + timedelta(seconds=30)
    assert deliver_due(engine, now=later, settings=hook_settings).webhooks_delivered == 2
    first, second = deliveries(engine)
    assert (first.status, first.attempts, first.last_error) == (OutboxStatus.SENT, 2, None)
    retried = [c for c in receiver.calls if c.headers["X-Amends-Delivery"] == first.delivery_id]
    assert len(retried) == 2
    assert retried[0].body == retried[1].body
    # Each attempt is signed at its own time.
    assert verify(SECRET, retried[1].body, retried[1].headers["X-Amends-Signature"], now=later)
    assert retried[1].headers["X-Amends-Signature"].startswith(f"t={int(later.timestamp())},")


def test_410_gone_disables_the_webhook_and_drops_its_queue(
    engine: Engine, receiver: Receiver, hook_settings: Settings
) -> None:
    gone = hook(engine, receiver.url("/gone"))
    emit(engine)
    emit(engine, "case.merged")
    receiver.statuses = [410]
    stats = deliver_due(engine, now=NOW, settings=hook_settings)
    assert (stats.webhooks_failed, stats.webhooks_dead, stats.webhooks_delivered) == (1, 1, 0)
    assert len(receiver.calls) == 1
    with session_scope(engine, write=False) as s:
        w = s.get_one(Webhook, gone)
        assert not w.active
        assert w.disabled_reason == "receiver answered 410 Gone at 2026-11-02T10:00:00+00:00"
    assert [(d.status, d.response_status) for d in deliveries(engine)] == [
        (OutboxStatus.DEAD, 410),
        (OutboxStatus.DEAD, None),
    ]
    # A disabled webhook gets no new deliveries.
    assert emit(engine) == 0


def test_connection_errors_back_off_until_dead_and_redirects_are_not_followed(
    engine: Engine, receiver: Receiver, hook_settings: Settings
) -> None:
    hook(engine, f"http://127.0.0.1:{free_port()}/down")
    emit(engine)
    at = NOW
    for attempt in range(1, 8):
        stats = deliver_due(engine, now=at, settings=hook_settings)
        assert stats.webhooks_failed == 1
        (d,) = deliveries(engine)
        assert d.attempts == attempt
        assert d.last_error is not None
        assert d.last_error.startswith("ConnectError")
        at = d.next_attempt_at
    assert d.status == OutboxStatus.DEAD
    assert stats.webhooks_dead == 1

    redirect = hook(engine, receiver.url("/moved"))
    with session_scope(engine) as s:
        service.emit_event(s, "case.split", {}, now=NOW)
    receiver.statuses = [301]
    deliver_due(engine, now=NOW, settings=hook_settings)
    moved = [d for d in deliveries(engine) if d.webhook_id == redirect]
    assert [c.path for c in receiver.calls] == ["/moved"]
    assert moved[0].status == OutboxStatus.FAILED
    assert moved[0].last_error == "HTTP 301 (redirects are not followed)"


def test_a_leased_delivery_is_not_sent_twice(
    engine: Engine, receiver: Receiver, hook_settings: Settings
) -> None:
    hook(engine, receiver.url())
    emit(engine)
    (d,) = deliveries(engine)
    lease = lease_for(hook_settings)
    claim = claim_delivery(engine, d.id, now=NOW, lease=lease)
    assert claim is not None
    assert claim.secret == SECRET
    assert claim_delivery(engine, d.id, now=NOW + timedelta(seconds=1), lease=lease) is None
    assert deliver_due(engine, now=NOW + timedelta(minutes=1), settings=hook_settings) == (
        DeliveryStats(smtp_configured=False)
    )
    assert receiver.calls == []
    # The claimer died: once its lease runs out, the delivery goes, under the same id.
    assert deliver_due(engine, now=NOW + lease, settings=hook_settings).webhooks_delivered == 1
    (call,) = receiver.calls
    assert call.headers["X-Amends-Delivery"] == d.delivery_id
    assert deliveries(engine)[0].attempts == 2


def test_redeliver_sends_a_delivered_event_again(
    engine: Engine, receiver: Receiver, hook_settings: Settings
) -> None:
    hook(engine, receiver.url())
    emit(engine)
    deliver_due(engine, now=NOW, settings=hook_settings)
    (d,) = deliveries(engine)
    later = NOW + timedelta(hours=1)
    with session_scope(engine) as s:
        service.redeliver(s, d.id, now=later)
    assert deliver_due(engine, now=later, settings=hook_settings).webhooks_delivered == 1
    assert [c.headers["X-Amends-Delivery"] for c in receiver.calls] == [d.delivery_id] * 2
    assert receiver.calls[0].body == receiver.calls[1].body
