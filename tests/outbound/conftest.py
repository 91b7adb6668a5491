"""Real receivers for the outbox tests: an SMTP server (aiosmtpd) and an HTTP server, each on
127.0.0.1 on a free port, started and stopped inside the test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from tests.outbound.servers import (
    Call,
    Receiver,
    SmtpRecorder,
    SmtpServer,
    free_port,
)

from amends.config import Settings
from amends.db import make_engine
from amends.models import Base


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    handler = SmtpRecorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller.port, handler)
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = rec.answer(Call(self.path, dict(self.headers.items()), body))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", rec.url("/elsewhere"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def out_settings(smtp: SmtpServer) -> Settings:
    return Settings(
        database_url="sqlite://",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_timeout=5,
        webhook_timeout=5,
        mail_from="Acme Care <care@acme.test>",
    )


@pytest.fixture
def hook_settings() -> Settings:
    return Settings(database_url="sqlite://", webhook_timeout=5)


@pytest.fixture
def shared_engine(engine: Engine, pg_schema: str | None, tmp_path: Path) -> Iterator[Engine]:
    """An engine that several threads may use at once: a SQLite file (the in-memory test
    database has one connection), or the PostgreSQL test engine."""
    if pg_schema is not None:
        yield engine
        return
    eng = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()
