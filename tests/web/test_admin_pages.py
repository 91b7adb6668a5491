"""User administration: admins add people, change roles, disable accounts and hand out API
tokens; nobody else opens these pages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.conftest import FIXED_NOW
from tests.web.conftest import SignedIn, sign_in

from amends.db import session_scope
from amends.errors import NotFound
from amends.playbook.service import example_source
from amends.users import service as users
from amends.users.rules import Role, Scope

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin(web: TestClient, engine: Engine) -> SignedIn:
    return sign_in(web, engine, "boss@example.com", role=Role.ADMIN, name="Bo Boss")


@pytest.fixture
def teams(client: TestClient) -> None:
    """The example playbook's teams (Payments, Deliveries, Care)."""
    reply = client.put(
        "/api/v1/playbook",
        content=example_source().encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert reply.status_code == 200, reply.text


def browser(web: TestClient) -> TestClient:
    """Another browser on the same desk, with cookies of its own."""
    return TestClient(web.app, follow_redirects=False)


def text_of(page: str) -> str:
    words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    return re.sub(r" ([,.])", r"\1", words)


def user_of(engine: Engine, email: str) -> tuple[Role, bool]:
    with session_scope(engine) as s:
        user = users.get_user(s, email)
        return user.role, user.active


def sign_in_with_password(client: TestClient, email: str, password: str) -> int:
    """The real sign-in form: its CSRF cookie and field, then the POST; the answer's status."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token.group(1), "next": "/"},
    )
    return answer.status_code


# ---- who may open the pages ------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD])
def test_non_admins_are_refused(web: TestClient, engine: Engine, role: Role) -> None:
    me = sign_in(web, engine, f"{role.value}@example.com", role=role)
    assert web.get("/admin/users").status_code == 403
    assert web.get(f"/admin/users/{me.email}").status_code == 403
    added = web.post("/admin/users", data=me.form(email="x@example.com", name="X", role="admin"))
    assert added.status_code == 403
    promoted = web.post(f"/admin/users/{me.email}/role", data=me.form(role="admin"))
    assert promoted.status_code == 403
    assert user_of(engine, me.email) == (role, True)
    with session_scope(engine) as s, pytest.raises(NotFound):
        users.get_user(s, "x@example.com")


def test_signed_out_visitor_is_sent_to_sign_in(web: TestClient) -> None:
    page = web.get("/admin/users")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


def test_lists_users_with_role_team_and_state(
    web: TestClient, engine: Engine, admin: SignedIn, teams: None
) -> None:
    with session_scope(engine) as s:
        users.add_user(
            s,
            email="tom@example.com",
            name="Tom Hale",
            role=Role.AGENT,
            password=None,
            team="Payments",
            now=FIXED_NOW,
        )
        users.set_active(s, "tom@example.com", False, now=FIXED_NOW)
    page = web.get("/admin/users")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Bo Boss you boss@example.com admin — active tokens only never none" in words
    assert "Tom Hale tom@example.com agent Payments disabled tokens only never none" in words
    # the add form offers the playbook's teams
    assert '<option value="Deliveries">Deliveries</option>' in page.text


def test_user_names_are_shown_as_text(web: TestClient, admin: SignedIn) -> None:
    added = web.post(
        "/admin/users",
        data=admin.form(
            email="eve@example.com", name="<script>alert(1)</script> Eve", role="agent"
        ),
    )
    assert added.status_code == 303
    for path in ("/admin/users", "/admin/users/eve@example.com"):
        page = web.get(path).text
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Eve" in page


# ---- adding people -----------------------------------------------------------------------------


def test_added_user_signs_in_through_the_login_form(
    web: TestClient, engine: Engine, admin: SignedIn, teams: None
) -> None:
    added = web.post(
        "/admin/users",
        data=admin.form(
            email="Nia@Example.com",
            name="Nia Obi",
            role="agent",
            team="Deliveries",
            password=PASSWORD,
        ),
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/users/nia@example.com?done=added"
    words = text_of(web.get(added.headers["location"]).text)
    assert "User added." in words
    assert "Team Deliveries" in words
    assert "Signs in with a password" in words

    nia = browser(web)
    assert sign_in_with_password(nia, "nia@example.com", "not the password") == 401
    assert sign_in_with_password(nia, "nia@example.com", PASSWORD) == 303
    me = nia.get("/api/v1/me").json()
    assert (me["email"], me["role"], me["via"]) == ("nia@example.com", "agent", "session")
    assert len(me["team_ids"]) == 1
    assert "2026-11-02 10:00 UTC" in text_of(web.get("/admin/users").text)  # last sign-in


def test_token_only_account_cannot_sign_in(
    web: TestClient, engine: Engine, admin: SignedIn
) -> None:
    added = web.post(
        "/admin/users",
        data=admin.form(email="feed@example.com", name="Feed", role="agent", password=""),
    )
    assert added.status_code == 303
    assert "never: API tokens only" in text_of(web.get("/admin/users/feed@example.com").text)
    assert sign_in_with_password(browser(web), "feed@example.com", "") == 401


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"email": "boss@example.com"}, 409, "User boss@example.com already exists."),
        ({"password": "short"}, 422, "A password needs at least 10 characters."),
        ({"email": "not an address"}, 422, "is not an email address"),
        ({"role": "owner"}, 422, "Choose a role: agent, lead, admin."),
        ({"team": "Nowhere"}, 404, "Nowhere"),
    ],
)
def test_refused_user_keeps_the_form(
    web: TestClient,
    engine: Engine,
    admin: SignedIn,
    fields: dict[str, str],
    status: int,
    says: str,
) -> None:
    sent = {
        "email": "new@example.com",
        "name": "Noor <New>",
        "role": "lead",
        "team": "",
        "password": "a secret nobody sees",
        **fields,
    }
    page = web.post("/admin/users", data=admin.form(**sent))
    assert page.status_code == status
    alert = re.search(r'<p class="alert" role="alert">(.*?)</p>', page.text, re.S)
    assert alert is not None
    assert says in html.unescape(alert.group(1))
    assert 'value="Noor &lt;New&gt;"' in page.text
    if sent["role"] == "lead":
        assert '<option value="lead" selected>' in page.text
    assert sent["password"] not in page.text
    with session_scope(engine) as s:
        assert [u.email for u in users.list_users(s)] == ["boss@example.com"]


def test_adding_without_the_csrf_token_is_refused(
    web: TestClient, engine: Engine, admin: SignedIn
) -> None:
    refused = web.post("/admin/users", data={"email": "x@example.com", "name": "X"})
    assert refused.status_code == 403
    with session_scope(engine) as s:
        assert len(users.list_users(s)) == 1


# ---- roles and access ----------------------------------------------------------------------------


def test_admin_changes_a_role(web: TestClient, engine: Engine, admin: SignedIn) -> None:
    sign_in(browser(web), engine, "ana@example.com", role=Role.AGENT)
    changed = web.post("/admin/users/ana@example.com/role", data=admin.form(role="lead"))
    assert changed.status_code == 303
    assert changed.headers["location"] == "/admin/users/ana@example.com?done=role"
    assert user_of(engine, "ana@example.com") == (Role.LEAD, True)
    assert "Role changed." in web.get(changed.headers["location"]).text


def test_disabling_ends_their_session_and_enabling_lets_them_back(
    web: TestClient, engine: Engine, admin: SignedIn
) -> None:
    ana = browser(web)
    sign_in(ana, engine, "ana@example.com", role=Role.AGENT)
    assert ana.get("/playbook").status_code == 200

    off = web.post("/admin/users/ana@example.com/active", data=admin.form(active="false"))
    assert off.status_code == 303
    assert user_of(engine, "ana@example.com") == (Role.AGENT, False)
    page = ana.get("/playbook")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    words = text_of(web.get(off.headers["location"]).text)
    assert "Disabled: their sessions have ended" in words
    assert "Enable Ana" in words

    on = web.post("/admin/users/ana@example.com/active", data=admin.form(active="true"))
    assert on.status_code == 303
    assert user_of(engine, "ana@example.com") == (Role.AGENT, True)
    assert ana.get("/playbook").status_code == 303  # the ended session stays ended


def test_admin_cannot_disable_or_demote_themselves(
    web: TestClient, engine: Engine, admin: SignedIn
) -> None:
    own = web.get("/admin/users/boss@example.com").text
    assert "You cannot disable your own account" in own
    assert "You cannot change your own role" in own
    assert 'action="/admin/users/boss@example.com/active"' not in own

    off = web.post("/admin/users/boss@example.com/active", data=admin.form(active="false"))
    assert off.status_code == 403
    assert "You cannot disable your own account" in off.text
    demoted = web.post("/admin/users/BOSS@example.com/role", data=admin.form(role="agent"))
    assert demoted.status_code == 403
    assert "You cannot take away your own admin role" in demoted.text
    assert user_of(engine, "boss@example.com") == (Role.ADMIN, True)
    assert web.get("/admin/users").status_code == 200


def test_changes_without_the_csrf_token_are_refused(
    web: TestClient, engine: Engine, admin: SignedIn
) -> None:
    sign_in(browser(web), engine, "ana@example.com", role=Role.AGENT)
    assert (
        web.post("/admin/users/ana@example.com/active", data={"active": "false"}).status_code == 403
    )
    assert web.post("/admin/users/ana@example.com/role", data={"role": "admin"}).status_code == 403
    assert user_of(engine, "ana@example.com") == (Role.AGENT, True)


def test_unknown_user_is_not_found(web: TestClient, admin: SignedIn) -> None:
    assert web.get("/admin/users/ghost@example.com").status_code == 404
    gone = web.post("/admin/users/ghost@example.com/active", data=admin.form(active="false"))
    assert gone.status_code == 404


# ---- API tokens ----------------------------------------------------------------------------------


def test_token_secret_is_shown_once_works_and_stops_after_revoking(
    web: TestClient, engine: Engine, admin: SignedIn
) -> None:
    sign_in(browser(web), engine, "feed@example.com", role=Role.AGENT)
    made = web.post(
        "/admin/users/feed@example.com/tokens",
        data=admin.form(name="zendesk <import>", scopes=["read", "feedback:write"]),
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    found = re.search(
        r'id="token-secret" class="secret" type="text" readonly value="(amd_[\w-]+)"', made.text
    )
    assert found is not None
    secret = found.group(1)
    assert "it is not shown again" in made.text
    assert "zendesk &lt;import&gt;" in made.text
    assert secret not in made.headers.get("location", "")
    assert all(secret not in value for value in made.headers.values())

    page = web.get("/admin/users/feed@example.com")
    assert secret not in page.text
    assert f"{secret[:10]}…" in page.text
    words = text_of(page.text)
    assert "zendesk <import> " in words
    assert "feedback:write, read 2026-11-02 10:00 UTC never never active Revoke" in words

    api = browser(web)
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["email"] == "feed@example.com"
    assert sorted(me.json()["scopes"]) == ["feedback:write", "read"]

    with session_scope(engine) as s:
        (token,) = users.list_tokens(s, email="feed@example.com")
        token_id = token.id
    revoked = web.post(f"/admin/users/feed@example.com/tokens/{token_id}/revoke", data=admin.form())
    assert revoked.status_code == 303
    assert "Token revoked" in web.get(revoked.headers["location"]).text
    after = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert after.status_code == 401


def test_token_scopes_are_limited_to_the_role(
    web: TestClient, engine: Engine, admin: SignedIn
) -> None:
    sign_in(browser(web), engine, "ana@example.com", role=Role.AGENT)
    page = web.get("/admin/users/ana@example.com").text
    offered = re.findall(r'name="scopes" value="([^"]+)"', page)
    assert offered == ["read", "feedback:write", "cases:write"]
    refused = web.post(
        "/admin/users/ana@example.com/tokens", data=admin.form(name="sneaky", scopes=["admin"])
    )
    assert refused.status_code == 403
    assert "agent may not hold admin." in text_of(refused.text)
    assert 'value="sneaky"' in refused.text
    none = web.post("/admin/users/ana@example.com/tokens", data=admin.form(name="empty"))
    assert none.status_code == 422
    assert "A token needs at least one scope." in text_of(none.text)
    with session_scope(engine) as s:
        assert users.list_tokens(s, email="ana@example.com") == []


def test_token_expiry_is_the_end_of_the_chosen_day(
    web: TestClient, engine: Engine, admin: SignedIn
) -> None:
    sign_in(browser(web), engine, "ana@example.com", role=Role.AGENT)
    past = web.post(
        "/admin/users/ana@example.com/tokens",
        data=admin.form(name="late", scopes=["read"], expires="2026-11-01"),
    )
    assert past.status_code == 422
    assert "The expiry is in the past" in past.text
    made = web.post(
        "/admin/users/ana@example.com/tokens",
        data=admin.form(name="trial", scopes=["read"], expires="2026-11-30"),
    )
    assert made.status_code == 200
    with session_scope(engine) as s:
        (token,) = users.list_tokens(s, email="ana@example.com")
        assert token.expires_at == datetime(2026, 12, 1, tzinfo=UTC)


def test_revoking_needs_the_token_of_that_user_and_the_csrf_token(
    web: TestClient, engine: Engine, admin: SignedIn
) -> None:
    sign_in(browser(web), engine, "ana@example.com", role=Role.AGENT)
    with session_scope(engine) as s:
        token, _ = users.issue_token(
            s, "ana@example.com", name="feed", scopes=frozenset({Scope.READ}), now=FIXED_NOW
        )
        token_id = token.id
    other = web.post(f"/admin/users/boss@example.com/tokens/{token_id}/revoke", data=admin.form())
    assert other.status_code == 404
    forged = web.post(f"/admin/users/ana@example.com/tokens/{token_id}/revoke", data={})
    assert forged.status_code == 403
    with session_scope(engine) as s:
        (token,) = users.list_tokens(s, email="ana@example.com")
        assert token.revoked_at is None
