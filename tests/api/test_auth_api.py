"""Who may call the API: tokens and their scopes, browser sessions with CSRF, and teams."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.conftest import FIXED_NOW

from amends.db import session_scope
from amends.users import service as users
from amends.users.rules import Role, Scope

EXAMPLE = (Path(__file__).parents[2] / "src/amends/playbook/example.yaml").read_text()


def token(
    engine: Engine,
    email: str,
    *scopes: Scope,
    role: Role = Role.AGENT,
    team: str | None = None,
    expires_in: timedelta | None = None,
) -> str:
    with session_scope(engine) as s:
        try:
            users.get_user(s, email)
        except Exception:
            users.add_user(
                s, email=email, name=email, role=role, password=None, team=team, now=FIXED_NOW
            )
        _, secret = users.issue_token(
            s,
            email,
            name="t",
            scopes=frozenset(scopes),
            now=FIXED_NOW,
            expires_at=FIXED_NOW + expires_in if expires_in else None,
        )
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/queue"),
        ("GET", "/api/v1/feedback"),
        ("POST", "/api/v1/feedback"),
        ("GET", "/api/v1/playbook"),
        ("POST", "/api/v1/check"),
        ("GET", "/api/v1/users"),
    ],
)
def test_no_credentials_no_answer(anonymous: TestClient, method: str, path: str) -> None:
    answer = anonymous.request(method, path, json={} if method == "POST" else None)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["code"] == "unauthenticated"


def test_customers_answer_surveys_without_a_token(anonymous: TestClient) -> None:
    # The signed link is the credential: a bad one is not found, never "sign in".
    assert anonymous.get("/api/v1/survey/not-a-token").status_code in (404, 410)


def test_unknown_expired_and_disabled_tokens_are_refused(
    anonymous: TestClient, engine: Engine
) -> None:
    assert anonymous.get("/api/v1/me", headers=bearer("amd_nope")).status_code == 401
    assert anonymous.get("/api/v1/me", headers=bearer("x" * 5000)).status_code == 401
    expired = token(engine, "old@example.com", Scope.READ, expires_in=timedelta(seconds=-1))
    assert anonymous.get("/api/v1/me", headers=bearer(expired)).status_code == 401
    live = token(engine, "gone@example.com", Scope.READ)
    assert anonymous.get("/api/v1/me", headers=bearer(live)).status_code == 200
    with session_scope(engine) as s:
        users.set_active(s, "gone@example.com", False, now=FIXED_NOW)
    assert anonymous.get("/api/v1/me", headers=bearer(live)).status_code == 401


def test_scopes_limit_what_a_token_does(anonymous: TestClient, engine: Engine) -> None:
    reader = bearer(token(engine, "r@example.com", Scope.READ))
    assert anonymous.get("/api/v1/queue", headers=reader).status_code == 200
    # The checker changes nothing: reading is enough.
    assert (
        anonymous.post("/api/v1/check", headers=reader, json={"text": "Sorry"}).status_code == 200
    )
    refused = anonymous.post("/api/v1/feedback", headers=reader, json={"text": "late"})
    assert refused.status_code == 403
    assert "feedback:write" in refused.json()["detail"]
    assert anonymous.get("/api/v1/users", headers=reader).status_code == 403
    assert (
        anonymous.put(
            "/api/v1/playbook",
            headers={**reader, "Content-Type": "application/yaml"},
            content=EXAMPLE.encode(),
        ).status_code
        == 403
    )


def test_a_demoted_user_loses_scopes_on_existing_tokens(
    anonymous: TestClient, engine: Engine
) -> None:
    lead = bearer(token(engine, "l@example.com", Scope.READ, Scope.PLAYBOOK, role=Role.LEAD))
    put = {**lead, "Content-Type": "application/yaml"}
    assert anonymous.put("/api/v1/playbook", headers=put, content=EXAMPLE.encode()).is_success
    with session_scope(engine) as s:
        users.set_role(s, "l@example.com", Role.AGENT)
    assert (
        anonymous.put("/api/v1/playbook", headers=put, content=EXAMPLE.encode()).status_code == 403
    )


def _two_team_desk(client: TestClient) -> tuple[int, int]:
    """The example playbook, a billing case (Payments) and a delivery case (Deliveries)."""
    client.put(
        "/api/v1/playbook",
        content=EXAMPLE.encode(),
        headers={"Content-Type": "application/yaml"},
    ).raise_for_status()
    ids = []
    for text, email in [
        ("You charged my card twice for one order, refund the double payment", "a@example.com"),
        ("My parcel is two weeks late and the tracking has not moved", "b@example.com"),
    ]:
        client.post("/api/v1/feedback", json={"text": text, "email": email}).raise_for_status()
    for row in client.get("/api/v1/queue").json()["items"]:
        ids.append((row["team"], row["id"]))
    teams = dict(ids)
    return teams["Payments"], teams["Deliveries"]


def test_an_agent_works_only_their_teams_cases(
    client: TestClient, anonymous: TestClient, engine: Engine
) -> None:
    payments, deliveries = _two_team_desk(client)
    tom = bearer(token(engine, "tom@example.com", Scope.READ, Scope.CASES))
    assert anonymous.get(f"/api/v1/cases/{payments}", headers=tom).status_code == 200
    other = anonymous.get(f"/api/v1/cases/{deliveries}", headers=tom)
    assert other.status_code == 403
    assert other.json()["code"] == "forbidden"
    assert anonymous.get(f"/api/v1/cases/{deliveries}/draft", headers=tom).status_code == 403
    # The checker reads a case's context (the customer's name and words): that case's team only.
    checked = anonymous.post(
        "/api/v1/check", headers=tom, json={"text": "Sorry", "case_id": deliveries}
    )
    assert checked.status_code == 403
    own = anonymous.post("/api/v1/check", headers=tom, json={"text": "Sorry", "case_id": payments})
    assert own.status_code == 200
    reply = anonymous.post(
        f"/api/v1/cases/{deliveries}/replies", headers=tom, json={"text": "Sorry"}
    )
    assert reply.status_code == 403
    listed = anonymous.get("/api/v1/queue", headers=tom).json()
    assert [r["id"] for r in listed["items"]] == [payments]
    assert listed["total"] == 1
    assert [c["id"] for c in anonymous.get("/api/v1/cases", headers=tom).json()["items"]] == [
        payments
    ]
    # A lead sees every team.
    priya = bearer(token(engine, "lead@example.com", Scope.READ, role=Role.LEAD))
    assert anonymous.get(f"/api/v1/cases/{deliveries}", headers=priya).status_code == 200
    assert anonymous.get("/api/v1/queue", headers=priya).json()["total"] == 2


def test_a_browser_session_calls_the_api_with_its_csrf_token(
    anonymous: TestClient, engine: Engine
) -> None:
    with session_scope(engine) as s:
        user = users.add_user(
            s, email="s@example.com", name="S", role=Role.AGENT, password=None, now=FIXED_NOW
        )
        login, cookie = users.start_session(s, user, now=FIXED_NOW)
        csrf = login.csrf_token
    anonymous.cookies.set("amends_session", cookie)
    assert anonymous.get("/api/v1/me").json()["via"] == "session"
    refused = anonymous.post("/api/v1/check", json={"text": "Sorry"})
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    allowed = anonymous.post(
        "/api/v1/check", json={"text": "Sorry"}, headers={"X-CSRF-Token": csrf}
    )
    assert allowed.status_code == 200


def test_admins_manage_users_and_tokens_over_the_api(
    client: TestClient, anonymous: TestClient
) -> None:
    made = client.post(
        "/api/v1/users",
        json={"email": "New@Example.com", "name": "New", "role": "agent", "password": None},
    )
    assert made.status_code == 201, made.text
    assert made.json()["email"] == "new@example.com"
    assert "password_hash" not in made.json()
    issued = client.post(
        "/api/v1/tokens", json={"user": "new@example.com", "name": "feed", "scopes": ["read"]}
    )
    assert issued.status_code == 201
    secret = issued.json()["secret"]
    assert anonymous.get("/api/v1/me", headers=bearer(secret)).json()["scopes"] == ["read"]
    listed = client.get("/api/v1/tokens").json()
    assert all("secret" not in t for t in listed)
    too_much = client.post(
        "/api/v1/tokens", json={"user": "new@example.com", "name": "x", "scopes": ["admin"]}
    )
    assert too_much.status_code == 403
    token_id = issued.json()["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}").json()["revoked_at"] is not None
    assert anonymous.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    disabled = client.patch("/api/v1/users/new@example.com", json={"active": False})
    assert disabled.json()["active"] is False


def test_the_openapi_document_names_bearer_tokens(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_people_act_as_themselves(
    client: TestClient, anonymous: TestClient, engine: Engine
) -> None:
    payments, _ = _two_team_desk(client)
    tom = bearer(token(engine, "tom@example.com", Scope.READ, Scope.CASES))
    posing = anonymous.post(
        f"/api/v1/cases/{payments}/status",
        headers=tom,
        json={"status": "in_progress", "agent": "priya@example.com"},
    )
    assert posing.status_code == 403
    assert "cannot act for priya@example.com" in posing.json()["detail"]
    own = anonymous.post(
        f"/api/v1/cases/{payments}/status", headers=tom, json={"status": "in_progress"}
    )
    assert own.status_code == 200, own.text
    events = anonymous.get(f"/api/v1/cases/{payments}/events", headers=tom).json()
    assert events[-1]["actor"] == "agent:tom@example.com"


def test_an_agent_reaches_nothing_of_another_teams_case_by_its_other_ids(
    client: TestClient, anonymous: TestClient, engine: Engine
) -> None:
    payments, deliveries = _two_team_desk(client)
    theirs = client.get(f"/api/v1/feedback?case_id={deliveries}").json()["items"][0]
    customer = client.get(f"/api/v1/cases/{deliveries}").json()["customer_id"]
    tom = bearer(token(engine, "tom@example.com", Scope.READ, Scope.CASES, Scope.FEEDBACK))
    refused = [
        anonymous.get(f"/api/v1/feedback/{theirs['id']}", headers=tom),
        anonymous.put(
            f"/api/v1/feedback/{theirs['id']}/category", headers=tom, json={"label": "billing"}
        ),
        anonymous.get(f"/api/v1/customers/{customer}", headers=tom),
        anonymous.post(f"/api/v1/customers/{customer}/flag", headers=tom, json={"abusive": True}),
        anonymous.get(f"/api/v1/feedback?case_id={deliveries}", headers=tom),
        anonymous.post(f"/api/v1/cases/{payments}/merge", headers=tom, json={"absorb": deliveries}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    # The desk's own lists and figures are a lead's.
    for path in (
        "/api/v1/feedback",
        "/api/v1/customers",
        "/api/v1/offers",
        "/api/v1/reports/sla",
        "/api/v1/quarantine",
        "/api/v1/followups",
    ):
        assert anonymous.get(path, headers=tom).status_code == 403, path
    # What is theirs still answers.
    own = anonymous.get(f"/api/v1/feedback?case_id={payments}", headers=tom)
    assert own.status_code == 200
    assert own.json()["total"] >= 1


def test_incidents_and_problems_are_changed_by_leads(
    client: TestClient, anonymous: TestClient, engine: Engine
) -> None:
    payments, _ = _two_team_desk(client)
    tom = bearer(token(engine, "tom@example.com", Scope.READ, Scope.CASES))
    assert anonymous.get("/api/v1/incidents", headers=tom).status_code == 200
    refused = anonymous.post(
        "/api/v1/incidents", headers=tom, json={"title": "Double charges", "cases": [payments]}
    )
    assert refused.status_code == 403
    assert anonymous.post("/api/v1/problems", headers=tom, json={"title": "x"}).status_code == 403
    lead = bearer(token(engine, "lead@example.com", Scope.READ, Scope.CASES, role=Role.LEAD))
    made = anonymous.post(
        "/api/v1/incidents", headers=lead, json={"title": "Double charges", "cases": [payments]}
    )
    assert made.status_code == 201, made.text


def test_an_agent_assigns_within_their_teams(
    client: TestClient, anonymous: TestClient, engine: Engine
) -> None:
    payments, _ = _two_team_desk(client)
    tom = bearer(token(engine, "tom@example.com", Scope.READ, Scope.CASES))
    away = anonymous.post(
        f"/api/v1/cases/{payments}/assign", headers=tom, json={"assignee": "rosa@example.com"}
    )
    assert away.status_code == 403
    assert "another team" in away.json()["detail"]
    within = anonymous.post(
        f"/api/v1/cases/{payments}/assign", headers=tom, json={"assignee": "priya@example.com"}
    )
    assert within.status_code == 200, within.text


def test_reading_scopes_change_nothing(anonymous: TestClient, engine: Engine) -> None:
    reader = bearer(token(engine, "r@example.com", Scope.READ, role=Role.LEAD))
    named_classify = anonymous.put(
        "/api/v1/taxonomies/classify",
        headers=reader,
        json={"examples": [{"text": "a", "label": "x"}] * 10},
    )
    assert named_classify.status_code == 403


def test_errors_keep_the_safety_headers(client: TestClient) -> None:
    odd = client.get("/api/v1/cases/abc/events")
    assert odd.status_code == 422
    # Past the id columns: a bad request on both backends, never a database error.
    for path in ("/api/v1/cases/3000000000", "/api/v1/offers/3000000000"):
        assert client.get(path).status_code == 422, path
    docs = client.get("/api/docs")
    assert docs.headers["x-frame-options"] == "DENY"
