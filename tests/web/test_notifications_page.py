"""The notifications page: the person's own, newest first, unread ones marked in words, each
with its time, message (escaped) and case; mark one or all read with the session's CSRF token;
the unread count in the navigation; and an empty state that says how notifications arrive."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.teams.desk import ANN, BOB, HOSTILE, make_desk
from tests.web.conftest import csrf_of, sign_in

from amends.db import session_scope
from amends.teams import notifications
from amends.users.rules import Role


def rows(html: str) -> list[str]:
    found: list[tuple[str, str]] = re.findall(r'<tr id="n-(\d+)">(.*?)</tr>', html, flags=re.S)
    return found


def unread(engine: Engine, email: str) -> int:
    with session_scope(engine) as s:
        return notifications.count_unread(s, notifications.agent_by_email(s, email).id)


def test_signed_out_is_sent_to_sign_in(web: TestClient) -> None:
    answer = web.get("/notifications")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_lists_ones_own_newest_first_escaped_with_times_and_cases(
    web: TestClient, engine: Engine
) -> None:
    desk = make_desk(engine)
    sign_in(web, engine, ANN, role=Role.AGENT)
    page = web.get("/notifications")
    assert page.status_code == 200
    html = page.text
    found = rows(html)
    assert [int(i) for i, _ in found] == desk.ann[::-1]
    assert str(desk.bob[0]) not in [i for i, _ in found]
    first = found[0][1]
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in first
    assert f'<a href="/cases/{desk.cases[0]}">Case #{desk.cases[0]}</a>' in first
    assert "<time datetime=" in first
    # Unread is said in words, not by colour alone, and every unread row has its button.
    assert all("Unread" in row for _, row in found)
    assert sum("Mark read" in row for _, row in found) == 4
    assert "Mark all as read" in html
    assert 'href="/notifications" aria-current="page">Notifications (4' in html
    assert HOSTILE not in html


def test_mark_one_then_all_with_the_forms(web: TestClient, engine: Engine) -> None:
    desk = make_desk(engine)
    sign_in(web, engine, ANN, role=Role.AGENT)
    csrf = csrf_of(web.get("/notifications").text)
    done = web.post(f"/notifications/{desk.ann[0]}/read", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert done.headers["location"] == "/notifications?done=one"
    page = web.get(done.headers["location"]).text
    assert "Marked read." in page
    row = dict(rows(page))[str(desk.ann[0])]
    assert "Unread" not in row
    assert "Mark read" not in row
    assert "Read" in row
    assert "Notifications (3" in page
    unread_only = web.get("/notifications?show=unread").text
    assert [int(i) for i, _ in rows(unread_only)] == desk.ann[1:][::-1]

    every = web.post("/notifications/read", data={"csrf_token": csrf, "show": "unread"})
    assert every.headers["location"] == "/notifications?show=unread&done=all"
    after = web.get(every.headers["location"]).text
    assert "All your notifications are marked read." in after
    assert "No unread notifications." in after
    assert "Mark all as read" not in after
    assert 'href="/notifications">Notifications</a>' in web.get("/queue").text
    assert unread(engine, ANN) == 0


def test_forms_without_the_csrf_token_are_refused(web: TestClient, engine: Engine) -> None:
    desk = make_desk(engine)
    sign_in(web, engine, ANN, role=Role.AGENT)
    for path in ("/notifications/read", f"/notifications/{desk.ann[0]}/read"):
        for data in ({}, {"csrf_token": "forged"}):
            refused = web.post(path, data=data)
            assert refused.status_code == 403, (path, data)
    assert unread(engine, ANN) == 4


def test_someone_elses_notification_is_left_alone(web: TestClient, engine: Engine) -> None:
    desk = make_desk(engine)
    me = sign_in(web, engine, ANN, role=Role.AGENT)
    answer = web.post(f"/notifications/{desk.bob[0]}/read", data=me.form())
    assert answer.headers["location"] == "/notifications?done=none"
    assert unread(engine, BOB) == 1
    assert web.get(f"/notifications?before={desk.bob[0]}").status_code == 404
    assert web.post("/notifications/nope/read", data=me.form()).status_code == 404


def test_older_pages_follow_the_cursor(web: TestClient, engine: Engine) -> None:
    desk = make_desk(engine)
    sign_in(web, engine, ANN, role=Role.AGENT)
    oldest = web.get(f"/notifications?before={desk.ann[1]}").text
    assert [int(i) for i, _ in rows(oldest)] == desk.ann[:1]
    assert "Newest" in oldest
    assert 'rel="next"' not in oldest


def test_the_empty_state_says_how_notifications_arrive(web: TestClient, engine: Engine) -> None:
    make_desk(engine)
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)  # a person with no agent
    html = web.get("/notifications").text
    assert "No notifications" in html
    assert "SLA warning" in html
    assert "escalation" in html
    assert "You are not an agent" in html
    assert "Mark all as read" not in html
