"""Sending queued mail to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from sqlalchemy import Engine, select
from tests.outbound.servers import SmtpRecorder, SmtpServer, free_port

from amends.config import Settings
from amends.db import session_scope
from amends.outbound import flows, service
from amends.outbound.flows import DeliveryStats, claim_mail, deliver_due, lease_for
from amends.outbound.models import OutboundMail
from amends.outbound.rules import OutboxStatus

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def queue(engine: Engine, to: str = "ann@example.com", **kw: object) -> OutboundMail:
    args: dict[str, object] = {
        "to": to,
        "subject": "Sorry about the heater — we're on it",
        "body": "Dear Ann,\n\nWe are sorry.\n",
        "now": NOW,
        "kind": "followup",
        "mail_from": "care@acme.test",
    }
    args.update(kw)
    with session_scope(engine) as s:
        return service.enqueue_mail(s, **args)  # type: ignore[arg-type]


def row(engine: Engine, mail_id: int) -> OutboundMail:
    with session_scope(engine, write=False) as s:
        return s.get_one(OutboundMail, mail_id)


def test_mail_arrives_with_its_headers_and_is_sent_once(
    engine: Engine, smtp: SmtpServer, out_settings: Settings
) -> None:
    auto = queue(engine, reply_to="agent@acme.test", html="<p>We are <b>sorry</b>.</p>")
    manual = queue(engine, to="bo@example.com", kind="reply", subject="Re: heater")

    stats = deliver_due(engine, now=NOW, settings=out_settings)
    assert stats == DeliveryStats(mail_sent=2)

    first, second = smtp.handler.messages
    assert smtp.handler.envelopes[0] == ("care@acme.test", ["ann@example.com"])
    assert first["From"] == "Acme Care <care@acme.test>"
    assert first["To"] == "ann@example.com"
    assert first["Subject"] == "Sorry about the heater — we're on it"
    assert first["Message-ID"] == auto.message_id
    assert first["Reply-To"] == "agent@acme.test"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["Date"] == "Mon, 02 Nov 2026 10:00:00 +0000"
    assert first.get_content_type() == "multipart/alternative"
    text = first.get_body(("plain",))
    html = first.get_body(("html",))
    assert text is not None
    assert text.get_content() == "Dear Ann,\n\nWe are sorry.\n"
    assert html is not None
    assert "<b>sorry</b>" in html.get_content()
    # A reply an agent wrote is not marked automatic, and has no HTML part.
    assert second["Message-ID"] == manual.message_id
    assert second["Auto-Submitted"] is None
    assert second.get_content_type() == "text/plain"

    sent = row(engine, auto.id)
    assert (sent.status, sent.attempts, sent.sent_at, sent.leased_until) == (
        OutboxStatus.SENT,
        1,
        NOW,
        None,
    )
    # A second pass, even much later, sends nothing more.
    assert deliver_due(engine, now=NOW + timedelta(days=1), settings=out_settings) == (
        DeliveryStats()
    )
    assert len(smtp.handler.raw) == 2


def test_a_refused_recipient_is_dead_at_once_and_the_rest_still_go(
    engine: Engine, smtp: SmtpServer, out_settings: Settings
) -> None:
    smtp.handler.rcpt_replies["nobody@example.com"] = "550 5.1.1 <nobody@example.com>: no such user"
    bad = queue(engine, to="nobody@example.com")
    good = queue(engine)
    stats = deliver_due(engine, now=NOW, settings=out_settings)
    assert (stats.mail_sent, stats.mail_failed, stats.mail_dead) == (1, 1, 1)
    dead = row(engine, bad.id)
    assert dead.status == OutboxStatus.DEAD
    assert dead.last_error == "550 5.1.1 <nobody@example.com>: no such user"
    assert row(engine, good.id).status == OutboxStatus.SENT
    assert deliver_due(engine, now=NOW + timedelta(days=2), settings=out_settings).mail_sent == 0


def test_a_temporary_refusal_is_retried_with_back_off(
    engine: Engine, smtp: SmtpServer, out_settings: Settings
) -> None:
    smtp.handler.rcpt_replies["ann@example.com"] = "451 4.7.1 greylisted, try later"
    m = queue(engine)
    stats = deliver_due(engine, now=NOW, settings=out_settings)
    assert (stats.mail_failed, stats.mail_dead) == (1, 0)
    failed = row(engine, m.id)
    assert failed.status == OutboxStatus.FAILED
    assert failed.next_attempt_at == NOW + timedelta(seconds=30)
    assert failed.last_error == "451 4.7.1 greylisted, try later"
    # Not due yet; then due, and accepted this time.
    assert deliver_due(engine, now=NOW + timedelta(seconds=29), settings=out_settings) == (
        DeliveryStats()
    )
    del smtp.handler.rcpt_replies["ann@example.com"]
    later = NOW + timedelta(seconds=30)
    assert deliver_due(engine, now=later, settings=out_settings).mail_sent == 1
    sent = row(engine, m.id)
    assert (sent.status, sent.attempts, sent.last_error) == (OutboxStatus.SENT, 2, None)


def test_a_down_server_keeps_every_mail_for_later(
    engine: Engine, smtp: SmtpServer, out_settings: Settings
) -> None:
    down = out_settings.model_copy(update={"smtp_port": free_port()})
    mails = [queue(engine, to=f"c{i}@example.com") for i in range(3)]
    stats = deliver_due(engine, now=NOW, settings=down)
    # One mail found out; the others wait with it, no attempt counted against them.
    assert (stats.mail_sent, stats.mail_failed, stats.mail_waiting) == (0, 1, 2)
    first = row(engine, mails[0].id)
    assert first.status == OutboxStatus.FAILED
    assert first.attempts == 1
    assert first.last_error is not None
    assert first.last_error.startswith("ConnectionRefusedError")
    for m in mails[1:]:
        waiting = row(engine, m.id)
        assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 0)
        assert waiting.next_attempt_at == NOW + timedelta(seconds=30)
    # Still down 30 s later: the back-off grows to 2 minutes.
    deliver_due(engine, now=NOW + timedelta(seconds=30), settings=down)
    assert row(engine, mails[0].id).next_attempt_at == NOW + timedelta(seconds=30 + 120)
    # Back up: everything arrives, each mail once.
    stats = deliver_due(engine, now=NOW + timedelta(minutes=3), settings=out_settings)
    assert stats.mail_sent == 3
    assert sorted(e[1][0] for e in smtp.handler.envelopes) == [
        "c0@example.com",
        "c1@example.com",
        "c2@example.com",
    ]


def test_seven_failures_and_it_is_dead(
    engine: Engine, smtp: SmtpServer, out_settings: Settings
) -> None:
    down = out_settings.model_copy(update={"smtp_port": free_port()})
    m = queue(engine)
    at, waits = NOW, []
    for attempt in range(1, 8):
        stats = deliver_due(engine, now=at, settings=down)
        assert stats.mail_failed == 1
        current = row(engine, m.id)
        assert current.attempts == attempt
        if current.status == OutboxStatus.FAILED:
            waits.append(current.next_attempt_at - at)
            at = current.next_attempt_at
    assert waits == [
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=6),
        timedelta(hours=24),
    ]
    assert current.status == OutboxStatus.DEAD
    assert stats.mail_dead == 1
    assert deliver_due(engine, now=at + timedelta(days=9), settings=out_settings) == (
        DeliveryStats()
    )


def test_without_smtp_host_mail_waits_for_configuration(engine: Engine) -> None:
    m = queue(engine)
    stats = deliver_due(engine, now=NOW, settings=Settings(database_url="sqlite://"))
    assert stats == DeliveryStats(mail_waiting=1, smtp_configured=False)
    assert row(engine, m.id).status == OutboxStatus.PENDING


def test_a_leased_mail_is_not_sent_twice_and_a_lost_lease_is_retried(
    engine: Engine, smtp: SmtpServer, out_settings: Settings
) -> None:
    m = queue(engine)
    lease = lease_for(out_settings)
    # Worker A claims the mail and (for the test) never gets to send it.
    claim = claim_mail(engine, m.id, now=NOW, lease=lease)
    assert claim is not None
    assert claim.attempts == 1
    assert claim_mail(engine, m.id, now=NOW, lease=lease) is None  # no second claim
    # Worker B runs meanwhile: the mail is leased, so it sends nothing.
    assert deliver_due(engine, now=NOW + lease - timedelta(seconds=1), settings=out_settings) == (
        DeliveryStats()
    )
    assert smtp.handler.raw == []
    # A's lease runs out (A died): B sends it.
    stats = deliver_due(engine, now=NOW + lease, settings=out_settings)
    assert stats.mail_sent == 1
    assert row(engine, m.id).attempts == 2
    # A comes back late: its outcome no longer applies to the row.
    late = {"status": OutboxStatus.FAILED, "last_error": "stale"}
    assert not flows.record_outcome(engine, OutboundMail, m.id, claim.lease_end, late)
    assert row(engine, m.id).status == OutboxStatus.SENT
    assert len(smtp.handler.raw) == 1


def test_two_workers_at_once_send_each_mail_once(
    shared_engine: Engine, smtp: SmtpServer, out_settings: Settings
) -> None:
    ids = {queue(shared_engine, to=f"c{i}@example.com").message_id for i in range(20)}
    start = threading.Barrier(2)
    results: list[DeliveryStats] = []

    def worker() -> None:
        start.wait()
        results.append(deliver_due(shared_engine, now=NOW, settings=out_settings))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = [msg["Message-ID"] for msg in smtp.handler.messages]
    assert sorted(got) == sorted(ids)
    assert sum(r.mail_sent for r in results) == 20
    with session_scope(shared_engine, write=False) as s:
        assert set(s.scalars(select(OutboundMail.status))) == {OutboxStatus.SENT}


def test_smtp_login_and_a_refused_login_never_stores_the_password(engine: Engine) -> None:
    def authenticator(
        server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"right-password-42"
        return AuthResult(success=ok, handled=False)

    handler = SmtpRecorder()
    # auth_require_tls=False is for this test only: AUTH over plain TCP on 127.0.0.1.
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        base = Settings(
            database_url="sqlite://",
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_user="desk",
            smtp_timeout=5,
        )
        wrong = base.model_copy(update={"smtp_password": SecretStr("wrong-password-99")})
        m = queue(engine)
        stats = deliver_due(engine, now=NOW, settings=wrong)
        assert (stats.mail_failed, stats.mail_sent) == (1, 0)
        failed = row(engine, m.id)
        assert failed.status == OutboxStatus.FAILED
        assert failed.last_error is not None
        assert failed.last_error.startswith("SMTPAuthenticationError: (535")
        assert "wrong-password-99" not in failed.last_error

        right = base.model_copy(update={"smtp_password": SecretStr("right-password-42")})
        assert deliver_due(engine, now=failed.next_attempt_at, settings=right).mail_sent == 1
        assert len(handler.raw) == 1
    finally:
        controller.stop()
