"""Helpers for the outbox tests: an aiosmtpd handler that records what it gets, the state of
an HTTP receiver, and a free port."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any


def free_port() -> int:
    """A port nothing listens on (for a moment): where a down server would be."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SmtpRecorder:
    """An aiosmtpd handler that keeps what it receives and answers as the test says."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.rcpt_replies: dict[str, str] = {}  # address -> SMTP reply, e.g. "550 ..."
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.raw.append(envelope.content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)  # type: ignore[misc]
            for raw in self.raw
        ]


@dataclass
class SmtpServer:
    port: int
    handler: SmtpRecorder


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP receiver: records every POST and answers with the next scripted status."""

    port: int = 0
    calls: list[Call] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # popped per request; then 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, call: Call) -> int:
        with self.lock:
            self.calls.append(call)
            return self.statuses.pop(0) if self.statuses else 200
