"""The outbox through its edges: `amends webhooks | mail outbox | deliver` and /api/v1."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.conftest import FIXED_NOW
from tests.outbound.servers import Receiver, SmtpServer
from typer.testing import CliRunner

from amends.cli import app
from amends.cliutil import parse_now
from amends.config import get_settings
from amends.db import session_scope
from amends.errors import UsageError
from amends.outbound import service
from amends.outbound.rules import verify

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_webhooks_commands(cli_env: Callable[[], Engine], receiver: Receiver) -> None:
    code, out, err = cli(
        "webhooks", "add", receiver.url(), "--event", "case.*", "--event", "followup.answered",
        "--description", "CRM sync",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"webhook 1 added: {receiver.url()} for case.*, followup.answered")
    secret = out.split("secret: ")[1].split()[0]
    assert len(secret) >= 40

    code, out, _ = cli("webhooks", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert listed["events"] == ["case.*", "followup.answered"]
    assert listed["description"] == "CRM sync"
    assert "secret" not in listed
    assert secret not in cli("webhooks", "list")[1]

    code, _, err = cli("webhooks", "add", receiver.url(), "--event", "case.exploded")
    assert code == 1
    assert "unknown event 'case.exploded'" in err
    assert cli("webhooks", "add", "ftp://x.example", "--event", "*")[0] == 1

    with session_scope(cli_env()) as s:
        service.emit_event(s, "case.opened", {"case_id": 1}, now=FIXED_NOW)
    code, out, err = cli("deliver", "--now", "2026-11-02T10:00:00")
    assert code == 0, err
    assert "webhooks: 1 delivered, 0 failed (0 given up), 0 waiting" in out
    assert "waiting for SMTP configuration" in out
    (call,) = receiver.calls
    assert verify(secret, call.body, call.headers["X-Amends-Signature"], now=FIXED_NOW)

    code, out, _ = cli("webhooks", "deliveries", "--webhook", "1", "--json")
    delivered = json.loads(out)
    assert (delivered["status"], delivered["response_status"]) == ("sent", 200)
    code, out, _ = cli("webhooks", "deliveries", "--status", "pending")
    assert out.strip() == "0 deliveries"
    assert cli("webhooks", "deliveries", "--webhook", "9")[0] == 1

    code, out, _ = cli("webhooks", "redeliver", str(delivered["id"]))
    assert code == 0
    assert "queued again" in out
    assert cli("webhooks", "redeliver", "999")[0] == 1

    assert cli("webhooks", "remove", "1") == (0, "webhook 1 removed\n", "")
    assert cli("webhooks", "remove", "1")[0] == 1
    assert cli("webhooks", "list")[1] == ""


def test_mail_outbox_and_deliver_commands(
    cli_env: Callable[[], Engine], smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(cli_env()) as s:
        m = service.enqueue_mail(
            s, to="ann@example.com", subject="Sorry", body="We are sorry.", now=FIXED_NOW,
            kind="followup", mail_from="care@acme.test",
        )  # fmt: skip
    code, out, _ = cli("mail", "outbox")
    assert code == 0
    assert "pending" in out
    assert out.rstrip().endswith("1 mail(s)")

    code, out, _ = cli("deliver", "--now", "2026-11-02T10:00:00Z")
    assert "mail: 0 sent, 0 failed (0 given up), 1 waiting for SMTP configuration" in out

    monkeypatch.setenv("AMENDS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AMENDS_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("AMENDS_SMTP_PASSWORD", "never-shown")
    get_settings.cache_clear()
    code, out, err = cli("deliver", "--now", "2026-11-02T10:00:00Z", "--json")
    assert code == 0, err
    stats = json.loads(out)
    assert (stats["mail_sent"], stats["smtp_configured"]) == (1, True)
    assert smtp.handler.messages[0]["Message-ID"] == m.message_id

    code, out, _ = cli("mail", "outbox", "--status", "sent", "--json")
    row = json.loads(out)
    assert (row["status"], row["to"], row["sent_at"]) == (
        "sent",
        "ann@example.com",
        "2026-11-02T10:00:00+00:00",
    )
    assert cli("mail", "outbox", "--status", "lost")[0] == 2  # not one of the choices

    code, _, err = cli("deliver", "--now", "yesterday")
    assert code == 2
    assert "not an ISO-8601" in err


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-02T10:00:00", datetime(2026, 11, 2, 10, tzinfo=UTC)),
        ("2026-11-02T10:00:00Z", datetime(2026, 11, 2, 10, tzinfo=UTC)),
        ("2026-11-02T12:00:00+02:00", datetime(2026, 11, 2, 10, tzinfo=UTC)),
        ("2026-11-02", datetime(2026, 11, 2, tzinfo=UTC)),
    ],
)
def test_parse_now(value: str, expected: datetime) -> None:
    parsed = parse_now(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_parse_now_without_a_value_is_the_clock_and_refuses_garbage() -> None:
    assert parse_now(None).tzinfo is not None
    with pytest.raises(UsageError, match="ISO-8601"):
        parse_now("next tuesday")


def test_webhooks_api(client: TestClient, engine: Engine) -> None:
    created = client.post(
        "/api/v1/webhooks",
        json={"url": "https://crm.example/hook", "events": ["case.*"], "description": "CRM"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["secret"]) >= 40
    assert body["events"] == ["case.*"]
    assert body["active"] is True
    hook_id = body["id"]

    listed = client.get("/api/v1/webhooks").json()
    assert [w["id"] for w in listed] == [hook_id]
    assert "secret" not in listed[0]

    bad = client.post("/api/v1/webhooks", json={"url": "https://x.example", "events": ["nope"]})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_input"

    with session_scope(engine) as s:
        service.emit_event(s, "case.opened", {"case_id": 3}, now=FIXED_NOW)
    page = client.get(f"/api/v1/webhooks/{hook_id}/deliveries").json()
    assert page["total"] == 1
    delivery = page["items"][0]
    assert delivery["status"] == "pending"
    assert delivery["payload"]["data"] == {"case_id": 3}
    assert client.get(f"/api/v1/webhooks/{hook_id}/deliveries?status=sent").json()["total"] == 0
    assert client.get("/api/v1/webhooks/99/deliveries").status_code == 404

    again = client.post(f"/api/v1/webhook-deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 200
    assert again.json()["attempts"] == 0
    assert client.post("/api/v1/webhook-deliveries/99/redeliver").status_code == 404

    assert client.delete(f"/api/v1/webhooks/{hook_id}").status_code == 204
    assert client.delete(f"/api/v1/webhooks/{hook_id}").status_code == 404
    assert client.get("/api/v1/webhooks").json() == []


def test_outbox_api(client: TestClient, engine: Engine) -> None:
    with session_scope(engine) as s:
        for i in range(3):
            service.enqueue_mail(
                s, to=f"c{i}@example.com", subject=f"Hello {i}", body="private text",
                now=FIXED_NOW, kind="followup", mail_from="care@acme.test",
            )  # fmt: skip
    page = client.get("/api/v1/outbox?limit=2").json()
    assert page["total"] == 3
    assert [m["to_addr"] for m in page["items"]] == ["c2@example.com", "c1@example.com"]
    assert "body" not in page["items"][0]
    assert client.get("/api/v1/outbox?status=sent").json()["total"] == 0
    assert client.get("/api/v1/outbox?status=lost").status_code == 422
