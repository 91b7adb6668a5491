"""`amends mailbox add | list | poll` against the real IMAP server that the test set-up starts
(scripts/test-services.d/dovecot.sh): each test works in a folder of its own."""

from __future__ import annotations

import imaplib
import json
import socket
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from amends.cli import app
from amends.db import session_scope
from amends.mailbox.models import Mailbox

HOST = "127.0.0.1"
PORT = 10143
USER = "amends"
PASSWORD = "amends-test-pw"
PASSWORD_ENV = "AMENDS_TEST_IMAP_PASSWORD"


def _listening() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh IMAP folder on the test server, removed afterwards."""
    if not _listening():
        pytest.skip(f"no test IMAP server on {HOST}:{PORT}; start it with scripts/test-services.sh")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    name = f"amends-{uuid.uuid4().hex[:12]}"
    with imap() as conn:
        status, data = conn.create(name)
        assert status == "OK", data
    yield name
    with imap() as conn:
        conn.delete(name)


class imap:  # used like a function: `with imap() as conn`
    def __enter__(self) -> imaplib.IMAP4:
        self.conn = imaplib.IMAP4(HOST, PORT, timeout=10)
        self.conn.login(USER, PASSWORD)
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.logout()


def append(folder: str, raw: bytes) -> None:
    with imap() as conn:
        status, data = conn.append(folder, None, None, raw)
        assert status == "OK", data


def message(number: int, *, sender: str = "Ann Lee <ann@example.com>") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@acme.test"
    msg["Subject"] = f"Complaint {number}"
    msg["Date"] = "Mon, 02 Nov 2026 09:00:00 +0000"
    msg["Message-ID"] = f"<imap-{number}-{uuid.uuid4().hex}@example.com>"
    msg.set_content(f"Complaint number {number}: the heater stopped working.")
    return msg.as_bytes()


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def add(name: str, folder: str, *extra: str) -> None:
    result = cli(
        "mailbox",
        "add",
        name,
        "--host",
        HOST,
        "--port",
        str(PORT),
        "--user",
        USER,
        "--password-env",
        PASSWORD_ENV,
        "--folder",
        folder,
        "--no-ssl",
        *extra,
    )
    assert result.exit_code == 0, result.output


def poll(*args: str, code: int = 0) -> dict[str, Any]:
    result = cli("mailbox", "poll", *args, "--json")
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def seen_flags(folder: str) -> list[bool]:
    with imap() as conn:
        conn.select(folder, readonly=True)
        _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
    return [b"\\Seen" in part for part in data if isinstance(part, bytes)]


def test_poll_fetches_new_mail_once_and_leaves_it_unread(
    cli_env: Callable[[], Engine], folder: str
) -> None:
    append(folder, message(1))
    append(folder, message(2, sender="Bo <bo@example.com>"))
    add("support", folder)

    first = poll("support")
    assert (first["read"], first["new"], first["quarantined"]) == (2, 2, 0)
    assert first["cases_opened"] == 2
    assert first["mailboxes"][0]["name"] == "support"
    again = poll("support")
    assert (again["read"], again["new"]) == (0, 0)

    append(folder, message(3))
    third = poll()  # every mailbox
    assert (third["read"], third["new"]) == (1, 1)
    assert seen_flags(folder) == [False, False, False]

    result = cli("export", "feedback")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(row["subject"] for row in rows) == ["Complaint 1", "Complaint 2", "Complaint 3"]
    assert {row["channel"] for row in rows} == {"email"}

    listing = cli("mailbox", "list", "--json")
    [box] = [json.loads(line) for line in listing.stdout.splitlines()]
    assert (box["name"], box["folder"], box["last_uid"]) == ("support", folder, 3)
    assert "password" not in json.dumps({k: v for k, v in box.items() if k != "password_env"})


def test_broken_message_is_quarantined_and_not_fetched_again(
    cli_env: Callable[[], Engine], folder: str
) -> None:
    append(folder, message(1))
    append(folder, b"not a header line at all\r\njust text\r\n")
    add("box", folder)

    summary = poll("box", code=3)
    assert (summary["new"], summary["quarantined"]) == (1, 1)
    result = cli("quarantine", "list", "--json")
    [bad] = [json.loads(line) for line in result.stdout.splitlines()]
    assert bad["origin"] == "imap:box"
    assert bad["location"] == f"{folder} UID 2"
    assert bad["format"] == "eml"
    assert "no email headers" in bad["reason"]

    again = poll("box")
    assert (again["read"], again["quarantined"]) == (0, 0)


def test_auto_reply_from_mailbox_opens_no_case(cli_env: Callable[[], Engine], folder: str) -> None:
    msg = EmailMessage()
    msg["From"] = "away@example.com"
    msg["Subject"] = "Automatic reply: Complaint"
    msg["Auto-Submitted"] = "auto-replied"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    msg.set_content("I am out of the office until Monday.")
    append(folder, msg.as_bytes())
    add("box", folder)

    summary = poll("box")
    assert (summary["new"], summary["automated"], summary["cases_opened"]) == (1, 1, 0)


def test_changed_uidvalidity_fetches_again_as_duplicates(
    cli_env: Callable[[], Engine], folder: str
) -> None:
    append(folder, message(1))
    append(folder, message(2))
    add("box", folder)
    assert poll("box")["new"] == 2
    # As if the server had renumbered the folder.
    with session_scope(cli_env()) as session:
        session.execute(update(Mailbox).values(uid_validity=1))

    summary = poll("box")
    assert (summary["read"], summary["new"], summary["duplicates"]) == (2, 0, 2)
    assert poll("box")["read"] == 0


def test_wrong_password_is_a_clear_error(
    cli_env: Callable[[], Engine], folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add("box", folder)
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")

    result = cli("mailbox", "poll", "box")
    assert result.exit_code == 1
    assert f"IMAP login to {HOST}:{PORT} as 'amends' failed" in result.stderr
    assert "not-the-password" not in result.output
    assert "Traceback" not in result.output


def test_missing_password_variable(
    cli_env: Callable[[], Engine], folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add("box", folder)
    monkeypatch.delenv(PASSWORD_ENV)

    result = cli("mailbox", "poll", "box")
    assert result.exit_code == 1
    assert f"environment variable {PASSWORD_ENV}" in result.stderr


def test_unreachable_server_and_wrong_protocol(cli_env: Callable[[], Engine], folder: str) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind((HOST, 0))
        closed = probe.getsockname()[1]
    cli("mailbox", "add", "gone", "--host", HOST, "--port", str(closed), "--user", USER,
        "--password-env", PASSWORD_ENV, "--no-ssl")  # fmt: skip
    add("tls", folder, "--ssl")  # IMAPS spoken to a plain IMAP port

    result = cli("mailbox", "poll", "gone")
    assert result.exit_code == 1
    assert f"cannot connect to IMAP server {HOST}:{closed}" in result.stderr
    result = cli("mailbox", "poll", "tls")
    assert result.exit_code == 1
    assert f"TLS with IMAP server {HOST}:{PORT} failed" in result.stderr
    assert "Traceback" not in result.output


def test_add_refuses_bad_input(cli_env: Callable[[], Engine], folder: str) -> None:
    add("box", folder)
    result = cli("mailbox", "add", "box", "--host", HOST, "--user", USER,
                 "--password-env", PASSWORD_ENV)  # fmt: skip
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    result = cli("mailbox", "add", "other", "--host", HOST, "--user", USER,
                 "--password-env", "hunter2 is my password")  # fmt: skip
    assert result.exit_code == 1
    assert "NAME of an environment variable" in result.stderr
    result = cli("mailbox", "poll", "nosuch")
    assert result.exit_code == 1
    assert "mailbox nosuch not found" in result.stderr
