"""Queueing mail and events, and managing webhooks, against a real database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from amends.config import get_settings
from amends.db import session_scope
from amends.errors import Conflict, InvalidInput, NotFound
from amends.outbound import service
from amends.outbound.models import OutboundMail, Webhook, WebhookDelivery
from amends.outbound.rules import OutboxStatus, canonical_json

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def mail(session: Session, **kw: object) -> OutboundMail:
    args: dict[str, object] = {
        "to": "ann@example.com",
        "subject": "About your order",
        "body": "We are sorry.",
        "now": NOW,
        "kind": "reply",
        "mail_from": "care@acme.test",
    }
    args.update(kw)
    return service.enqueue_mail(session, **args)  # type: ignore[arg-type]


def test_enqueue_mail_queues_it_due_now_with_a_message_id(session: Session) -> None:
    m = mail(session, to=" Ann@Example.com ", reply_to="agent@acme.test")
    assert m.id is not None
    assert m.status == OutboxStatus.PENDING
    assert m.next_attempt_at == NOW
    assert m.attempts == 0
    assert m.to_addr == "Ann@example.com"  # the domain is normalised, the local part kept
    assert m.message_id.startswith("<")
    assert m.message_id.endswith("@acme.test>")
    other = mail(session)
    assert other.message_id != m.message_id


def test_message_id_domain_defaults_to_the_configured_sender(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMENDS_MAIL_FROM", "Desk <desk@support.acme.test>")
    get_settings.cache_clear()
    try:
        m = service.enqueue_mail(
            session, to="ann@example.com", subject="Hi", body="x", now=NOW, kind="followup"
        )
    finally:
        get_settings.cache_clear()
    assert m.message_id.endswith("@support.acme.test>")


@pytest.mark.parametrize(
    ("kw", "problem"),
    [
        ({"to": "ann@example.com\r\nBcc: all@example.com"}, "header injection"),
        ({"subject": "Hi\nBcc: all@example.com"}, "header injection"),
        ({"reply_to": "a@acme.test\nX: y"}, "header injection"),
        ({"to": "not an address"}, "invalid recipient"),
        ({"reply_to": "nope"}, "invalid reply-to"),
        ({"subject": "   "}, "needs a subject"),
        ({"subject": "x" * 501}, "longer than"),
        ({"kind": "Bad Kind"}, "not a mail kind"),
    ],
)
def test_enqueue_mail_refuses(session: Session, kw: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        mail(session, **kw)
    assert session.scalar(select(func.count()).select_from(OutboundMail)) == 0


def test_add_webhook_generates_a_secret_and_validates(session: Session) -> None:
    hook, secret = service.add_webhook(
        session, "https://hooks.example.com/a", events=["case.*", "case.*", "*"], now=NOW
    )
    assert len(secret) >= 40
    assert hook.secret == secret
    assert hook.events == ["case.*", "*"]
    assert hook.active
    given, s2 = service.add_webhook(
        session, "http://127.0.0.1:9/x", events=["followup.sent"], now=NOW, secret="x" * 16
    )
    assert s2 == "x" * 16
    assert [w.id for w in service.list_webhooks(session)] == [hook.id, given.id]


@pytest.mark.parametrize(
    ("url", "events", "secret", "problem"),
    [
        ("ftp://example.com/x", ["*"], None, "http"),
        ("https:///nohost", ["*"], None, "host"),
        ("https://example.com/a b", ["*"], None, "without spaces"),
        ("https://example.com", [], None, "at least one event"),
        ("https://example.com", ["case.closed"], None, "unknown event"),
        ("https://example.com", ["invoice.*"], None, "no known event"),
        ("https://example.com", ["*"], "short", "16 to 200"),
    ],
)
def test_add_webhook_refuses(
    session: Session, url: str, events: list[str], secret: str | None, problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        service.add_webhook(session, url, events=events, now=NOW, secret=secret)


def test_emit_event_fans_out_to_matching_active_webhooks(session: Session) -> None:
    assert service.emit_event(session, "case.opened", {"case_id": 1}, now=NOW) == 0
    everything, _ = service.add_webhook(session, "https://a.example/h", events=["*"], now=NOW)
    cases, _ = service.add_webhook(session, "https://b.example/h", events=["case.*"], now=NOW)
    follow, _ = service.add_webhook(
        session, "https://c.example/h", events=["followup.answered"], now=NOW
    )
    off, _ = service.add_webhook(session, "https://d.example/h", events=["*"], now=NOW)
    off.active = False

    class Color(enum.Enum):
        RED = "red"

    data = {"case_id": 7, "at": NOW, "amount": Decimal("12.50"), "color": Color.RED}
    assert service.emit_event(session, "case.opened", data, now=NOW) == 2
    assert service.emit_event(session, "followup.answered", {"case_id": 7}, now=NOW) == 2
    rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(r.webhook_id, r.event) for r in rows] == [
        (everything.id, "case.opened"),
        (cases.id, "case.opened"),
        (everything.id, "followup.answered"),
        (follow.id, "followup.answered"),
    ]
    first, second = rows[0], rows[1]
    assert first.event_id == second.event_id  # one event, two deliveries
    assert first.delivery_id != second.delivery_id
    assert first.payload == {
        "id": first.event_id,
        "event": "case.opened",
        "created_at": "2026-11-02T10:00:00+00:00",
        "data": {
            "case_id": 7,
            "at": "2026-11-02T10:00:00+00:00",
            "amount": "12.50",
            "color": "red",
        },
    }
    assert first.status == OutboxStatus.PENDING
    assert first.next_attempt_at == NOW
    canonical_json(first.payload)  # storable is sendable


def test_emit_event_refuses_unknown_events_and_unserialisable_data(session: Session) -> None:
    service.add_webhook(session, "https://a.example/h", events=["*"], now=NOW)
    with pytest.raises(InvalidInput, match="unknown event"):
        service.emit_event(session, "case.exploded", {}, now=NOW)
    with pytest.raises(InvalidInput, match="JSON"):
        service.emit_event(session, "case.opened", {"x": object()}, now=NOW)
    with pytest.raises(InvalidInput, match="JSON"):
        service.emit_event(session, "case.opened", {"x": float("nan")}, now=NOW)


def test_remove_webhook_deletes_it_with_its_deliveries(engine: Engine) -> None:
    with session_scope(engine) as s:
        keep, _ = service.add_webhook(s, "https://a.example/h", events=["*"], now=NOW)
        gone, _ = service.add_webhook(s, "https://b.example/h", events=["*"], now=NOW)
        service.emit_event(s, "case.opened", {}, now=NOW)
    with session_scope(engine) as s:
        service.remove_webhook(s, gone.id)
    with session_scope(engine) as s:
        assert [w.id for w in service.list_webhooks(s)] == [keep.id]
        rows, total = service.list_deliveries(s, webhook_id=None, status=None, limit=10, offset=0)
        assert total == 1
        assert rows[0].webhook_id == keep.id
        with pytest.raises(NotFound):
            service.remove_webhook(s, gone.id)
        with pytest.raises(NotFound):
            service.list_deliveries(s, webhook_id=gone.id, status=None, limit=10, offset=0)


def test_list_deliveries_filters_and_pages(session: Session) -> None:
    hook, _ = service.add_webhook(session, "https://a.example/h", events=["*"], now=NOW)
    for _ in range(5):
        service.emit_event(session, "case.opened", {}, now=NOW)
    rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    rows[0].status = OutboxStatus.DEAD
    session.flush()
    page, total = service.list_deliveries(
        session, webhook_id=hook.id, status=None, limit=2, offset=1
    )
    assert total == 5
    assert [d.id for d in page] == [rows[3].id, rows[2].id]  # newest first
    dead, n = service.list_deliveries(session, webhook_id=None, status="dead", limit=9, offset=0)
    assert n == 1
    assert dead[0].id == rows[0].id
    with pytest.raises(InvalidInput, match="unknown status"):
        service.list_deliveries(session, webhook_id=None, status="lost", limit=9, offset=0)


def test_redeliver_resets_the_schedule(session: Session) -> None:
    hook, _ = service.add_webhook(session, "https://a.example/h", events=["*"], now=NOW)
    service.emit_event(session, "case.opened", {}, now=NOW)
    d = session.scalars(select(WebhookDelivery)).one()
    d.status, d.attempts, d.last_error = OutboxStatus.DEAD, 7, "HTTP 500"
    later = NOW + timedelta(days=2)
    again = service.redeliver(session, d.id, now=later)
    assert (again.status, again.attempts, again.next_attempt_at) == (
        OutboxStatus.PENDING,
        0,
        later,
    )
    # Not while a worker holds it, nor for a disabled webhook, nor an unknown id.
    d.status, d.next_attempt_at = OutboxStatus.SENDING, later + timedelta(minutes=5)
    with pytest.raises(Conflict, match="being sent"):
        service.redeliver(session, d.id, now=later)
    d.status = OutboxStatus.DEAD
    session.get_one(Webhook, hook.id).active = False
    with pytest.raises(Conflict, match="disabled"):
        service.redeliver(session, d.id, now=later)
    with pytest.raises(NotFound):
        service.redeliver(session, 999, now=later)


def test_list_mail(session: Session) -> None:
    first = mail(session)
    second = mail(session, kind="followup")
    second.status = OutboxStatus.SENT
    session.flush()
    rows, total = service.list_mail(session, status=None, limit=10, offset=0)
    assert total == 2
    assert [m.id for m in rows] == [second.id, first.id]
    rows, total = service.list_mail(session, status=OutboxStatus.PENDING, limit=10, offset=0)
    assert total == 1
    assert rows[0].id == first.id


def test_remove_webhook_keeps_the_callers_other_changes(engine: Engine) -> None:
    with session_scope(engine) as s:
        keep, _ = service.add_webhook(s, "https://a.example/h", events=["*"], now=NOW)
        gone, _ = service.add_webhook(s, "https://b.example/h", events=["*"], now=NOW)
    with session_scope(engine) as s:
        s.get_one(Webhook, keep.id).description = "changed in the same unit of work"
        m = mail(s)
        service.remove_webhook(s, gone.id)
        assert s.get(Webhook, gone.id) is None
    with session_scope(engine, write=False) as s:
        assert s.get_one(Webhook, keep.id).description == "changed in the same unit of work"
        assert s.get(OutboundMail, m.id) is not None


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Ann@Example.COM", "Ann@example.com"),
        ("rosa@acme.local", "rosa@acme.local"),  # internal desks mail agents on .local
        ("amends@localhost", "amends@localhost"),
        ("ops@support.test", "ops@support.test"),
    ],
)
def test_enqueue_mail_accepts_internal_domains(session: Session, given: str, stored: str) -> None:
    assert mail(session, to=given, reply_to=given).to_addr == stored
