"""Web desk fixtures: a browser-like client with no API token, and a way to be signed in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.conftest import FIXED_NOW

from amends.api.app import create_app
from amends.config import Settings
from amends.db import session_scope
from amends.errors import NotFound
from amends.users import service as users
from amends.users.rules import Role


@pytest.fixture
def web(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """The desk as a browser sees it: cookies only, redirects not followed."""
    app = create_app(settings, engine=engine, clock=lambda: FIXED_NOW)
    with TestClient(app, follow_redirects=False) as c:
        yield c


@dataclass(frozen=True)
class SignedIn:
    email: str
    csrf: str

    def form(self, **fields: object) -> dict[str, object]:
        """Form fields with this session's CSRF token."""
        return {"csrf_token": self.csrf, **fields}


def sign_in(
    client: TestClient,
    engine: Engine,
    email: str,
    *,
    role: Role = Role.AGENT,
    team: str | None = None,
    name: str | None = None,
) -> SignedIn:
    """Make the user (if new) and give `client` a live session cookie for them. The password
    form itself is tested in test_sign_in.py; here argon2's deliberate slowness is skipped."""
    with session_scope(engine) as s:
        try:
            user = users.get_user(s, email)
        except NotFound:
            user = users.add_user(
                s,
                email=email,
                name=name or email.split("@")[0].title(),
                role=role,
                password=None,
                team=team,
                now=FIXED_NOW,
            )
        login, token = users.start_session(s, user, now=FIXED_NOW)
        csrf = login.csrf_token
    client.cookies.set("amends_session", token)
    return SignedIn(email=email, csrf=csrf)


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its meta tag."""
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)
