"""Signing in and out of the web desk: passwords, cookies, CSRF, lock-outs, redirects."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select
from tests.conftest import FIXED_NOW

from amends.api.app import create_app
from amends.config import Settings
from amends.db import session_scope
from amends.users import service as users
from amends.users.models import LoginSession, SignInFailure, User
from amends.users.rules import Lockout, Role

PASSWORD = "plum tree at dawn"


@pytest.fixture
def rosa(engine: Engine) -> str:
    with session_scope(engine) as s:
        users.add_user(
            s,
            email="rosa@example.com",
            name="Rosa Diaz",
            role=Role.AGENT,
            password=PASSWORD,
            now=FIXED_NOW,
        )
    return "rosa@example.com"


def _login_form(web: TestClient, path: str = "/login") -> str:
    page = web.get(path)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _sign_in(web: TestClient, email: str, password: str, next_path: str = "/playbook") -> Response:
    token = _login_form(web)
    return web.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": next_path},
    )


def test_pages_send_the_signed_out_to_sign_in_and_back(web: TestClient, rosa: str) -> None:
    away = web.get("/playbook?page=2")
    assert away.status_code == 303
    assert away.headers["location"] == "/login?next=%2Fplaybook%3Fpage%3D2"
    signed = _sign_in(web, "ROSA@example.com ", PASSWORD, next_path="/playbook?page=2")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/playbook?page=2"
    cookie = signed.headers["set-cookie"]
    assert "amends_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = web.get("/playbook")
    assert page.status_code == 200
    assert "Rosa Diaz" in page.text


def test_cookies_are_secure_when_the_desk_is_served_over_https(engine: Engine, rosa: str) -> None:
    from amends.api.app import create_app
    from amends.config import Settings

    app = create_app(
        Settings(database_url="sqlite://", public_url="https://desk.example.com"),
        engine=engine,
        clock=lambda: FIXED_NOW,
    )
    with TestClient(app, follow_redirects=False) as web:
        answer = _sign_in(web, rosa, PASSWORD)
        assert "Secure" in answer.headers["set-cookie"]


def test_a_wrong_password_says_so_without_telling_which_part(web: TestClient, rosa: str) -> None:
    wrong = _sign_in(web, rosa, "not the password")
    unknown = _sign_in(web, "nobody@example.com", PASSWORD)
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "Wrong email or password" in answer.text
        assert "amends_session=" not in answer.headers.get("set-cookie", "")


def test_failures_from_one_place_hold_that_place_not_the_owner(
    web: TestClient, rosa: str, engine: Engine, settings: Settings
) -> None:
    for _ in range(5):
        _sign_in(web, rosa, "guess guess guess")
    held = _sign_in(web, rosa, PASSWORD)
    assert held.status_code == 401
    # The same words as a wrong password: the answer does not tell that the account exists.
    assert "Wrong email or password" in held.text
    # Rosa, signing in from her own machine, is not kept out by a stranger's guesses.
    app = create_app(settings, engine=engine, clock=lambda: FIXED_NOW)
    with TestClient(app, follow_redirects=False, client=("198.51.100.7", 50000)) as hers:
        signed = _sign_in(hers, rosa, PASSWORD)
    assert signed.status_code == 303
    with session_scope(engine) as s:
        assert s.scalar(select(User.locked_until)) is None
        # the stranger's failures are still counted against their own address
        sources = set(s.scalars(select(SignInFailure.source)))
    assert sources == {"testclient"}


def _try(
    engine: Engine, email: str, password: str, source: str, at: datetime, **limits: int
) -> bool:
    with session_scope(engine) as s:
        try:
            users.authenticate(s, email, password, now=at, source=source, lockout=Lockout(**limits))
        except users.SignInFailed:
            return False
        return True


def test_guessing_across_accounts_from_one_place_holds_that_place(
    engine: Engine, rosa: str
) -> None:
    for n in range(3):
        assert not _try(
            engine, f"nobody{n}@example.com", "x", "203.0.113.5", FIXED_NOW, source_attempts=3
        )
    # the right password for a real account, from that place, is refused too
    assert not _try(engine, rosa, PASSWORD, "203.0.113.5", FIXED_NOW, source_attempts=3)
    assert _try(engine, rosa, PASSWORD, "192.0.2.1", FIXED_NOW, source_attempts=3)
    # after the window the place may try again
    later = FIXED_NOW + timedelta(minutes=16)
    assert _try(engine, rosa, PASSWORD, "203.0.113.5", later, source_attempts=3)


def test_guessing_one_account_from_many_places_locks_the_account(engine: Engine, rosa: str) -> None:
    for n in range(4):
        assert not _try(engine, rosa, "wrong", f"203.0.113.{n}", FIXED_NOW, account_attempts=4)
    with session_scope(engine) as s:
        assert s.scalar(select(User.locked_until)) is not None
    assert not _try(engine, rosa, PASSWORD, "192.0.2.1", FIXED_NOW, account_attempts=4)
    # an admin's new password lets the owner in at once
    with session_scope(engine) as s:
        users.set_password(s, rosa, "a new plum tree", now=FIXED_NOW)
    assert _try(engine, rosa, "a new plum tree", "192.0.2.1", FIXED_NOW, account_attempts=4)


def test_signing_in_clears_ones_own_slips(engine: Engine, rosa: str) -> None:
    for _ in range(4):
        assert not _try(engine, rosa, "typo", "192.0.2.1", FIXED_NOW)
    assert _try(engine, rosa, PASSWORD, "192.0.2.1", FIXED_NOW)
    # four more slips do not add up to the earlier four
    for _ in range(4):
        assert not _try(engine, rosa, "typo", "192.0.2.1", FIXED_NOW)
    assert _try(engine, rosa, PASSWORD, "192.0.2.1", FIXED_NOW)
    # failures older than a day are removed as new ones come
    later = FIXED_NOW + timedelta(days=2)
    assert not _try(engine, rosa, "typo", "192.0.2.1", later)
    with session_scope(engine) as s:
        assert list(s.scalars(select(SignInFailure.at))) == [later]


def test_the_sign_in_form_needs_its_own_csrf_token(web: TestClient, rosa: str) -> None:
    _login_form(web)
    forged = web.post(
        "/login",
        data={"email": rosa, "password": PASSWORD, "csrf_token": "forged", "next": "/queue"},
    )
    assert forged.status_code == 403
    assert "amends_session=" not in forged.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "target", ["https://evil.example.com/", "//evil.example.com", "/\\evil.example.com", ""]
)
def test_sign_in_never_redirects_off_the_desk(web: TestClient, rosa: str, target: str) -> None:
    answer = _sign_in(web, rosa, PASSWORD, next_path=target)
    assert answer.headers["location"] == "/queue"


def test_signing_out_needs_the_csrf_token_and_ends_the_session(
    web: TestClient, rosa: str, engine: Engine
) -> None:
    _sign_in(web, rosa, PASSWORD)
    page = web.get("/playbook")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    assert web.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert web.get("/playbook").status_code == 200
    out = web.post("/logout", data={"csrf_token": csrf.group(1)})
    assert out.status_code == 303
    with session_scope(engine) as s:
        assert s.scalar(select(LoginSession.ended_at)) is not None
    web.cookies.clear()
    assert web.get("/playbook").status_code == 303


def test_disabling_a_user_ends_their_sessions(web: TestClient, rosa: str, engine: Engine) -> None:
    _sign_in(web, rosa, PASSWORD)
    assert web.get("/playbook").status_code == 200
    with session_scope(engine) as s:
        users.set_active(s, rosa, False, now=FIXED_NOW)
    assert web.get("/playbook").status_code == 303
    refused = _sign_in(web, rosa, PASSWORD)
    assert refused.status_code == 401


def test_pages_forbid_framing_and_foreign_scripts(web: TestClient) -> None:
    page = web.get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text


def test_a_wrong_address_gets_a_page_not_json(web: TestClient, rosa: str) -> None:
    _sign_in(web, rosa, PASSWORD)
    for path, status in [("/nowhere", 404), ("/cases/abc", 422), ("/queue?page=abc", 422)]:
        answer = web.get(path)
        assert answer.status_code == status, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "Back to the queue" in answer.text
    assert web.get("/api/v1/nowhere").json()["code"] == "not_found"


def _signed_in_from(engine: Engine, email: str, address: str) -> None:
    """The person signed in from this address earlier (a browser session from there)."""
    with session_scope(engine) as s:
        user = users.authenticate(s, email, PASSWORD, now=FIXED_NOW, source=address)
        users.start_session(s, user, now=FIXED_NOW, source=address)


def test_a_place_someone_uses_is_not_held_back_by_others_guessing(
    engine: Engine, rosa: str
) -> None:
    office = "192.0.2.50"
    _signed_in_from(engine, rosa, office)
    with session_scope(engine) as s:
        users.add_user(
            s, email="new@example.com", name="New Starter", role=Role.AGENT,
            password=PASSWORD, now=FIXED_NOW,
        )  # fmt: skip
    # someone in the same office guesses across accounts until the office's address is held
    for n in range(3):
        assert not _try(engine, f"x{n}@example.com", "x", office, FIXED_NOW, source_attempts=3)
    assert _try(engine, rosa, PASSWORD, office, FIXED_NOW, source_attempts=3)
    # a colleague who never signed in from there waits, as a stranger would
    assert not _try(engine, "new@example.com", PASSWORD, office, FIXED_NOW, source_attempts=3)

    # guesses at Rosa's account from many places lock it, but not for her usual place
    for n in range(4):
        assert not _try(engine, rosa, "wrong", f"203.0.113.{n}", FIXED_NOW, account_attempts=4)
    assert not _try(engine, rosa, PASSWORD, "198.51.100.9", FIXED_NOW, account_attempts=4)
    assert _try(engine, rosa, PASSWORD, office, FIXED_NOW, account_attempts=4)
    with session_scope(engine) as s:  # signing in from her place does not lift the lock
        assert s.scalar(select(User.locked_until).where(User.email == rosa)) is not None


def test_an_ipv6_block_counts_as_one_place(engine: Engine, rosa: str) -> None:
    assert users.place("2001:db8:1:2::1") == users.place("2001:db8:1:2:ffff::9")
    assert users.place("2001:db8:1:2::1") != users.place("2001:db8:1:3::1")
    assert users.place("203.0.113.7") == "203.0.113.7"
    assert users.place(None) == "unknown"
    # five guesses from five addresses of one /64 hold the whole block back from the account
    for n in range(5):
        assert not _try(engine, rosa, "wrong", f"2001:db8:1:2::{n + 1}", FIXED_NOW)
    assert not _try(engine, rosa, PASSWORD, "2001:db8:1:2::99", FIXED_NOW)
    assert _try(engine, rosa, PASSWORD, "2001:db8:9:9::1", FIXED_NOW)
