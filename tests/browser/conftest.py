"""Real-browser fixtures: Debian's Chromium driven by Playwright, against the app served by
uvicorn on 127.0.0.1 (a thread of this process) over the test's own database.

    def test_page(session: Session, live_server: LiveServer, page: Page,
                  console_errors: list[str]) -> None:
        ...add rows with `session`, then session.commit()...
        page.goto("/survey/...")  # relative to live_server.url
        expect(page.get_by_role("heading", name="Is it sorted?")).to_be_visible()
        assert console_errors == []

One browser serves the whole run; each test gets a fresh context (no shared cookies or storage)
and a fresh server. `scripts/test-services.d/chromium.sh` installs the browser; without it these
tests are skipped.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool

from amends.api.app import create_app
from amends.config import Settings
from amends.db import utcnow

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 10_000
START_TIMEOUT_S = 10.0

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


# ---- the browser ------------------------------------------------------------------------------
# Playwright's sync API runs an asyncio loop of its own in this (the main) thread, switching to it
# by greenlets, and between its calls leaves that loop marked as the thread's running loop. Left
# so, any later test here that calls asyncio.run() or anyio.run() would be told "cannot be called
# from a running event loop". The mark is therefore set only while a browser test runs (`page`),
# and cleared when it ends and after the browser is started or stopped.


@dataclass
class _Driver:
    loop: asyncio.AbstractEventLoop | None = None

    def lend(self) -> None:
        """Mark Playwright's loop as running again, as its sync calls expect."""
        if self.loop is not None and not self.loop.is_closed():
            asyncio._set_running_loop(self.loop)

    def release(self) -> None:
        """Leave no running loop behind in this thread, for the tests that are not ours."""
        asyncio._set_running_loop(None)


_driver = _Driver()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the whole run (started once: a launch takes about a second). A
    test that opens more contexts of its own also asks for `page`, which lends it the loop."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is absent: run scripts/test-services.d/chromium.sh "
            "(or make test-services) to install Debian's chromium"
        )
    playwright = sync_playwright().start()
    _driver.loop = asyncio.get_running_loop()  # Playwright's, marked running by start()
    try:
        # Chromium refuses to run its sandbox as root (containers, CI); as a user it keeps it.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
    except BaseException:
        playwright.stop()
        _driver.release()
        raise
    expect.set_options(timeout=TIMEOUT_MS)
    _driver.release()
    try:
        yield chromium
    finally:
        _driver.lend()
        try:
            chromium.close()
        finally:
            playwright.stop()
            _driver.release()
            _driver.loop = None


@pytest.fixture
def console_errors() -> list[str]:
    """What went wrong inside the page: console messages of type "error" (a failed load, a
    blocked script) and uncaught exceptions. Tests assert it is empty at their end."""
    return []


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, console_errors: list[str]) -> Iterator[Page]:
    """A page in a fresh browser context, with relative URLs resolved against the live server."""
    _driver.lend()
    context = browser.new_context(base_url=live_server.url)
    try:
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        tab = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            where = message.location
            if message.type == "error":
                console_errors.append(
                    f"console: {message.text} ({where.get('url')}:{where.get('lineNumber')})"
                )

        def on_page_error(error: Error) -> None:
            console_errors.append(f"page error: {error.message}")

        tab.on("console", on_console)
        tab.on("pageerror", on_page_error)
        yield tab
    finally:
        try:
            context.close()
        finally:
            _driver.release()


# ---- the server -------------------------------------------------------------------------------


@dataclass
class LiveServer:
    """The app, served over real HTTP. `clock` is read on every request: set it (or call
    `freeze`) to move the app's time while the test runs."""

    url: str  # e.g. "http://127.0.0.1:41234", no trailing slash
    app: FastAPI
    clock: Callable[[], datetime]
    problems: list[str] = field(default_factory=list)

    def freeze(self, at: datetime) -> None:
        """Stop the app's clock at `at` (aware)."""
        self.clock = lambda: at


class _SharedConnectionGuard:
    """In front of an app whose engine is one SQLite connection for every thread (StaticPool,
    the in-memory test database): requests take turns, since two at once (the page and its
    stylesheet, or parallel fetches) would run in one transaction; and a request that finds the
    test's own transaction still open on that connection is refused with the reason, instead
    of failing inside the app with "cannot start a transaction within a transaction"."""

    def __init__(self, app: FastAPI, engine: Engine, problems: list[str]) -> None:
        self.app = app
        self.engine = engine
        self.problems = problems
        self.turn: asyncio.Lock | None = None

    def _test_transaction_open(self) -> bool:
        # Asked of the driver's connection itself: checking a connection out of the pool and
        # back would roll that transaction back on return.
        pool = self.engine.pool
        assert isinstance(pool, StaticPool)
        return bool(getattr(pool.connection.dbapi_connection, "in_transaction", False))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.turn is None:  # made here: a lock belongs to the loop that first uses it
            self.turn = asyncio.Lock()
        async with self.turn:
            if self._test_transaction_open():
                reason = (
                    f"{scope['method']} {scope['path']}: the test's session has a transaction "
                    "open on the shared SQLite connection; commit (or roll back) before the "
                    "browser acts"
                )
                self.problems.append(reason)
                body = reason.encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            await self.app(scope, receive, send)


@pytest.fixture
def live_clock() -> Callable[[], datetime]:
    """The clock the live server starts with: real time, for pages that count down live.
    Override this fixture in a module to pin it, or use `live_server.freeze()`."""
    return utcnow


@pytest.fixture
def live_server(
    engine: Engine, settings: Settings, live_clock: Callable[[], datetime]
) -> Iterator[LiveServer]:
    """`create_app` on the test's engine, served by uvicorn on 127.0.0.1 on a free port.

    What the test writes with the `session` fixture is seen by the pages once committed. On
    SQLite the test and the server share one connection: commit (or roll back) before the
    browser acts, and requests are served one at a time."""
    app = create_app(settings, engine=engine, clock=lambda: live.clock())
    problems: list[str] = []
    served: Any = app
    if isinstance(engine.pool, StaticPool):
        served = _SharedConnectionGuard(app, engine, problems)
    config = uvicorn.Config(
        served,
        log_level="warning",
        log_config=None,  # leave the process's logging as pytest set it up
        access_log=False,
        ws="none",  # no websockets here; their libraries would only add import-time warnings
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    # A socket bound here, on a port the system picks, is handed to uvicorn: no race for it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
    except BaseException:
        sock.close()
        raise
    host, port = sock.getsockname()
    live = LiveServer(url=f"http://{host}:{port}", app=app, clock=live_clock, problems=problems)

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit on a failed startup, too
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"live-server-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError(f"the live server did not start: {failure}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not start in {START_TIMEOUT_S}s")
            time.sleep(0.01)
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S + 5)
        sock.close()
    if thread.is_alive():
        pytest.fail("the live server did not stop")
    if live.problems:
        pytest.fail("\n".join(live.problems))
