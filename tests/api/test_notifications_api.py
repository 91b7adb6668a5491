"""GET /api/v1/notifications and POST /api/v1/notifications/read: one's own, newest first,
the paging envelope with a keyset cursor, the scopes each needs, and nobody else's."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.test_auth_api import bearer, token
from tests.teams.desk import ANN, BOB, HOSTILE, make_desk
from tests.web.conftest import sign_in

from amends.users.rules import Role, Scope


def test_no_credentials_no_notifications(anonymous: TestClient) -> None:
    assert anonymous.get("/api/v1/notifications").status_code == 401
    answer = anonymous.post("/api/v1/notifications/read", json={"all": True})
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthenticated"


def test_lists_ones_own_newest_first_in_the_paging_envelope(
    anonymous: TestClient, engine: Engine
) -> None:
    desk = make_desk(engine)
    ann = bearer(token(engine, ANN, Scope.READ))
    body = anonymous.get("/api/v1/notifications", headers=ann).json()
    assert [n["id"] for n in body["items"]] == desk.ann[::-1]
    assert body["items"][0]["message"] == HOSTILE
    assert body["items"][0]["case_id"] == desk.cases[0]
    assert body["items"][0]["read_at"] is None
    assert {k: body[k] for k in ("total", "limit", "offset", "unread", "next_before")} == {
        "total": 4,
        "limit": 50,
        "offset": 0,
        "unread": 4,
        "next_before": None,
    }
    bobs = anonymous.get("/api/v1/notifications", headers=bearer(token(engine, BOB, Scope.READ)))
    assert [n["id"] for n in bobs.json()["items"]] == desk.bob


def test_pages_with_before_and_filters_the_unread(anonymous: TestClient, engine: Engine) -> None:
    desk = make_desk(engine)
    ann = bearer(token(engine, ANN, Scope.READ, Scope.CASES))
    first = anonymous.get("/api/v1/notifications?limit=3", headers=ann).json()
    assert [n["id"] for n in first["items"]] == desk.ann[::-1][:3]
    assert first["next_before"] == desk.ann[::-1][2]
    rest = anonymous.get(
        f"/api/v1/notifications?limit=3&before={first['next_before']}", headers=ann
    ).json()
    assert [n["id"] for n in rest["items"]] == desk.ann[:1]
    assert rest["next_before"] is None
    marked = anonymous.post("/api/v1/notifications/read", json={"ids": desk.ann[:2]}, headers=ann)
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"marked": 2, "unread": 2}
    unread = anonymous.get("/api/v1/notifications?unread=true", headers=ann).json()
    assert [n["id"] for n in unread["items"]] == desk.ann[2:][::-1]
    assert (unread["total"], unread["unread"]) == (2, 2)
    # Someone else's id as a cursor is unknown, like a missing one; a bad one is refused.
    assert (
        anonymous.get(f"/api/v1/notifications?before={desk.bob[0]}", headers=ann).status_code == 404
    )
    assert anonymous.get("/api/v1/notifications?before=0", headers=ann).status_code == 422
    assert anonymous.get("/api/v1/notifications?limit=501", headers=ann).status_code == 422


def test_marks_only_ones_own(anonymous: TestClient, engine: Engine) -> None:
    desk = make_desk(engine)
    ann = bearer(token(engine, ANN, Scope.READ, Scope.CASES))
    bob = bearer(token(engine, BOB, Scope.READ, Scope.CASES))
    # Bob's ids in Ann's call are ignored: nothing of Bob's changes.
    answer = anonymous.post("/api/v1/notifications/read", json={"ids": desk.bob}, headers=ann)
    assert answer.json() == {"marked": 0, "unread": 4}
    assert anonymous.get("/api/v1/notifications", headers=bob).json()["unread"] == 1
    everything = anonymous.post("/api/v1/notifications/read", json={"all": True}, headers=ann)
    assert everything.json() == {"marked": 4, "unread": 0}
    listed = anonymous.get("/api/v1/notifications", headers=ann).json()
    assert all(n["read_at"] for n in listed["items"])
    assert anonymous.get("/api/v1/notifications", headers=bob).json()["unread"] == 1


def test_the_body_says_ids_or_all(anonymous: TestClient, engine: Engine) -> None:
    make_desk(engine)
    ann = bearer(token(engine, ANN, Scope.READ, Scope.CASES))
    for body in ({}, {"ids": [1], "all": True}, {"all": False}, {"ids": [0]}, {"ids": ["x"]}):
        answer = anonymous.post("/api/v1/notifications/read", json=body, headers=ann)
        assert answer.status_code == 422, body
        assert answer.json()["code"] == "invalid_input"


def test_reading_needs_read_and_marking_needs_cases_write(
    anonymous: TestClient, engine: Engine
) -> None:
    make_desk(engine)
    reader = bearer(token(engine, ANN, Scope.READ))
    answer = anonymous.post("/api/v1/notifications/read", json={"all": True}, headers=reader)
    assert answer.status_code == 403
    assert "cases:write" in answer.json()["detail"]
    feed = bearer(token(engine, BOB, Scope.FEEDBACK))
    assert anonymous.get("/api/v1/notifications", headers=feed).status_code == 403


def test_a_person_who_is_no_agent_gets_an_empty_list(client: TestClient, engine: Engine) -> None:
    make_desk(engine)  # the admin of `client` has no agent
    body = client.get("/api/v1/notifications").json()
    assert (body["items"], body["total"], body["unread"]) == ([], 0, 0)
    assert client.post("/api/v1/notifications/read", json={"all": True}).json() == {
        "marked": 0,
        "unread": 0,
    }


def test_a_browser_session_needs_its_csrf_header_to_mark(
    anonymous: TestClient, engine: Engine
) -> None:
    desk = make_desk(engine)
    web = anonymous
    me = sign_in(web, engine, ANN, role=Role.AGENT)
    assert web.get("/api/v1/notifications").json()["unread"] == 4
    refused = web.post("/api/v1/notifications/read", json={"ids": desk.ann})
    assert refused.status_code == 403
    done = web.post(
        "/api/v1/notifications/read", json={"ids": desk.ann}, headers={"X-CSRF-Token": me.csrf}
    )
    assert done.json() == {"marked": 4, "unread": 0}
