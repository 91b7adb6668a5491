"""The problems pages: the list (recurring and open first) with cases, open and overdue actions;
one problem with its root cause, corrective actions, cases, and the complaint rate before and
after the fix as chart data, a table and a verdict in words; leads open problems, run topic
discovery, add and finish actions and mark the fix; agents read."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.conftest import FIXED_NOW
from tests.web.conftest import SignedIn, sign_in

from amends.db import session_scope
from amends.playbook.service import active_policy
from amends.problems import service as problems
from amends.users.rules import Role

HOSTILE = "<script>alert('x')</script>"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
BILLING = [
    "I was charged twice for my subscription this month, please fix it.",
    "You took the payment twice from my card for the same order.",
]
OTHER = ["My parcel is a week late and nobody answers.", "The app keeps crashing when I log in."]
MUSIC = [
    "The music in your store is far too loud, I could not think.",
    "Music in the shop was blasting so loud my ears hurt.",
    "Please turn the store music down, it is deafening.",
    "Why is the music so loud in the store? I left without buying.",
]
LIGHTS = [
    "The parking lot lights are broken, it is pitch dark at night.",
    "Your car park lights have been out for a week, it feels unsafe.",
    "No lights in the parking lot again tonight, fix them.",
    "The parking lot is dark, the lights are still broken.",
]


def lead(web: TestClient, engine: Engine) -> SignedIn:
    return sign_in(web, engine, "lead@example.com", role=Role.LEAD)


def complaints(client: TestClient, texts: list[tuple[str, datetime]], first: int = 0) -> None:
    items = [
        {
            "text": text,
            "email": f"p{first + n}@example.com",
            "author_name": f"Customer {first + n}",
            "received_at": at.isoformat(),
        }
        for n, (text, at) in enumerate(texts)
    ]
    answer = client.post("/api/v1/feedback", json=items)
    assert answer.status_code == 201, answer.text


def spread(texts: list[str], count: int, start: datetime, hours: int) -> list[tuple[str, datetime]]:
    return [(texts[i % len(texts)], start + timedelta(hours=hours * i)) for i in range(count)]


def open_problem(client: TestClient, **fields: Any) -> dict[str, Any]:
    made = client.post("/api/v1/problems", json=fields)
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def fix(engine: Engine, problem_id: int, at: datetime) -> None:
    """The fix went in at `at` (the page's button fixes it now)."""
    with session_scope(engine) as s:
        problems.mark_fixed(s, problem_id, now=at)


def chart_of(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="rate-data">(.*?)</script>', html, re.S)
    assert found, "the page carries no chart data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_empty_list_says_where_problems_come_from(web: TestClient, engine: Engine) -> None:
    sign_in(web, engine, "agent@example.com")
    page = web.get("/problems")
    assert page.status_code == 200
    assert "No problems yet" in page.text
    assert "topic discovery" in page.text
    assert "Ask a lead to open one or to run discovery." in page.text
    assert 'action="/problems/discover"' not in page.text
    lead(web, engine)
    mine = web.get("/problems").text
    assert 'action="/problems/discover"' in mine
    assert 'action="/problems"' in mine
    assert '<label for="discover-days">' in mine


def test_the_list_shows_status_cases_actions_and_the_recurring_flag(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    fixed_at = FIXED_NOW - timedelta(days=20)
    complaints(
        client,
        spread(BILLING, 6, fixed_at - timedelta(days=20), 70)
        + spread(OTHER, 6, fixed_at - timedelta(days=20), 71)
        + spread(BILLING, 5, FIXED_NOW - timedelta(days=10), 40)
        + spread(OTHER, 5, FIXED_NOW - timedelta(days=10), 41),
    )
    back = open_problem(client, title="Payments taken twice", category="billing")
    fix(engine, back["id"], fixed_at)
    with session_scope(engine) as s:
        flagged = problems.check_recurring(s, now=FIXED_NOW, policy=active_policy(s))
    assert [p.id for p in flagged] == [back["id"]]
    work = open_problem(client, title="Parcels late", cases=[1, 2])
    late = client.post(
        f"/api/v1/problems/{work['id']}/actions",
        json={"title": "Second depot", "owner": "ops@example.com", "due_at": "2026-10-01T00:00Z"},
    )
    assert late.status_code == 201
    client.post(
        f"/api/v1/problems/{work['id']}/actions",
        json={"title": "Track parcels", "owner": "ops@example.com", "due_at": "2027-01-01T00:00Z"},
    )
    open_problem(client, title="Quiet")
    sign_in(web, engine, "agent@example.com")
    page = web.get("/problems").text
    assert "1 recurring" in page
    # Recurring first, then open ones, newest first.
    order = [page.index(t) for t in ("Payments taken twice", "Quiet", "Parcels late")]
    assert order == sorted(order)
    assert "came back after its fix" in page
    row = page[page.index("Parcels late") : page.index("Parcels late") + 800]
    assert '<td class="num">2</td>' in row
    assert "2 open" in row
    assert "1 overdue" in row
    recurring = web.get("/problems?status=recurring").text
    assert "Payments taken twice" in recurring
    assert "Parcels late" not in recurring
    detail = web.get(f"/problems/{back['id']}").text
    assert "Recurring: the complaints came back after the fix" in detail
    assert "The complaints came back after the fix." in detail


def test_a_problem_shows_its_cause_actions_and_cases(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    complaints(client, spread(BILLING, 2, FIXED_NOW - timedelta(hours=5), 1))
    made = open_problem(
        client,
        title="Payments taken twice",
        category="billing",
        root_cause="The gateway retried captures.",
        owner="lea@example.com",
        cases=[1, 2],
    )
    pid = made["id"]
    for title, due in (("Idempotency keys", "2026-10-20T17:00Z"), ("Alerting", None)):
        body = {"title": title, "owner": "dev@example.com", "due_at": due}
        assert client.post(f"/api/v1/problems/{pid}/actions", json=body).status_code == 201
    sign_in(web, engine, "agent@example.com")
    html = web.get(f"/problems/{pid}").text
    assert "The gateway retried captures." in html
    assert "category “Billing and overcharges”" in html
    # An agent in no team sees their count, not the cases.
    assert 'href="/cases/1"' not in html
    assert "Its 2 cases belong to other teams, so they are not listed here." in html
    assert "1 action overdue" in html
    assert '<tr class="overdue">' in html
    assert '<span class="badge bad">overdue</span>' in html
    assert "2026-10-20" in html
    # Before a fix: the rate so far, and the chart waits for the fix.
    assert "So far: 2 of 2 complaints in the last 4 weeks (100.0%)" in html
    assert "Verification starts when the problem is marked fixed" in html
    assert 'id="rate-data"' not in html
    assert "<canvas" not in html
    assert "Leads add corrective actions" in html
    assert f'action="/problems/{pid}/actions"' not in html
    lead(web, engine)
    mine = web.get(f"/problems/{pid}").text
    assert 'href="/cases/1"' in mine
    assert 'href="/cases/2"' in mine
    assert f'action="/problems/{pid}/actions"' in mine


def test_a_lead_adds_an_action_and_marks_it_done(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    pid = open_problem(client, title="Parcels late", owner="carl@example.com")["id"]
    me = lead(web, engine)
    added = web.post(
        f"/problems/{pid}/actions",
        data=me.form(title="Open a second depot", owner="Ops@Example.com", due="2026-11-20"),
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"/problems/{pid}?done=action#actions"
    (action,) = client.get(f"/api/v1/problems/{pid}").json()["actions"]
    assert action["title"] == "Open a second depot"
    assert action["owner"] == "ops@example.com"
    assert action["due_at"] == "2026-11-20T23:59:00Z"
    assert action["status"] == "open"
    assert "Corrective action added." in web.get(f"/problems/{pid}?done=action").text
    done = web.post(f"/problems/{pid}/actions/{action['id']}", data=me.form(status="done"))
    assert done.status_code == 303
    (action,) = client.get(f"/api/v1/problems/{pid}").json()["actions"]
    assert action["status"] == "done"
    assert action["done_at"] is not None
    html = web.get(f"/problems/{pid}?done=action_done").text
    assert "Corrective action marked done." in html
    assert '<span class="badge good">done</span>' in html
    # Refused with the reason, and what was typed comes back.
    bad = web.post(
        f"/problems/{pid}/actions", data=me.form(title="Later", owner="ops@x.io", due="soon")
    )
    assert bad.status_code == 422
    assert "The due date must be a date like 2026-12-31." in bad.text
    assert 'value="Later"' in bad.text
    blank = web.post(f"/problems/{pid}/actions", data=me.form(title="No owner", owner=" "))
    assert blank.status_code == 422
    assert "A corrective action needs a title and an owner." in blank.text
    assert len(client.get(f"/api/v1/problems/{pid}").json()["actions"]) == 1
    other = open_problem(client, title="Another")["id"]
    wrong = web.post(f"/problems/{other}/actions/{action['id']}", data=me.form(status="done"))
    assert wrong.status_code == 404


def test_a_lead_marks_the_fix_and_the_chart_gets_its_series(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    complaints(
        client,
        spread(BILLING, 6, FIXED_NOW - timedelta(days=30), 100)
        + spread(OTHER, 6, FIXED_NOW - timedelta(days=30), 101),
    )
    pid = open_problem(client, title="Payments taken twice", category="billing")["id"]
    me = lead(web, engine)
    before = web.get(f"/problems/{pid}").text
    assert f'action="/problems/{pid}/fixed"' in before
    marked = web.post(f"/problems/{pid}/fixed", data=me.form())
    assert marked.status_code == 303
    shown = client.get(f"/api/v1/problems/{pid}").json()
    assert shown["status"] == "fixed"
    assert shown["fixed_at"] == "2026-11-02T10:00:00Z"
    html = web.get(marked.headers["location"]).text
    assert "Marked fixed" in html
    assert f'action="/problems/{pid}/fixed"' not in html
    chart = chart_of(html)
    assert chart["fixed_at"] == "2026-11-02"
    assert chart["fixed_week"] == "2026-11-02"  # a Monday: the week of the fix
    assert len(chart["weeks"]) == 12
    assert sum(w["complaints"] for w in chart["weeks"]) == 6
    assert sum(w["total"] for w in chart["weeks"]) == 12
    assert [w["after_fix"] for w in chart["weeks"]] == [False] * 11 + [True]
    assert '<canvas id="rate-chart" role="img" aria-label="' in html
    assert '<script src="/static/vendor/chart.umd.min.js" defer></script>' in html
    assert '<script src="/static/problems.js" defer></script>' in html
    assert "Too early to tell." in html
    assert "No complaints have arrived since the fix yet." in html
    assert "The numbers week by week" in html  # the table under the chart
    again = web.post(f"/problems/{pid}/fixed", data=me.form())
    assert again.status_code == 409
    assert f"Problem {pid} is fixed." in again.text
    js = web.get("/static/problems.js")
    assert js.status_code == 200
    assert "rate-data" in js.text


def test_the_verdict_says_in_words_that_the_fix_worked(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    fixed_at = FIXED_NOW - timedelta(days=10)
    start = fixed_at - timedelta(days=13)
    complaints(
        client,
        spread(BILLING, 30, start, 7)
        + spread(OTHER, 30, start, 9)
        + spread(OTHER, 28, fixed_at, 8)
        + [(BILLING[0], fixed_at + timedelta(days=2))]
        # in the week of the fix, a day before it
        + [(BILLING[1], fixed_at - timedelta(hours=30))],
    )
    pid = open_problem(client, title="Payments taken twice", category="billing")["id"]
    fix(engine, pid, fixed_at)
    sign_in(web, engine, "agent@example.com")
    html = web.get(f"/problems/{pid}").text
    assert "Fewer complaints since the fix, and the fall is significant." in html
    assert "31 of 61 complaints (50.8%) in the 28 days before the fix; 1 of 29 (3.4%) since." in (
        html
    )
    assert "A one-sided Fisher exact test: p = " in html
    chart = chart_of(html)
    assert chart["fixed_at"] == fixed_at.date().isoformat()
    assert chart["fixed_week"] == "2026-10-19"
    assert 0 < chart["fixed_offset"] < 1
    assert sum(w["complaints"] for w in chart["weeks"]) == 32
    fixed_week = next(w for w in chart["weeks"] if w["week"] == "2026-10-19")
    assert fixed_week["after_fix"] is True
    assert fixed_week["share"] is not None
    # the week of the fix is split at its moment: what came before is not drawn as "since"
    assert fixed_week["before_fix"] + fixed_week["since_fix"] == fixed_week["complaints"]
    assert fixed_week["before_fix"] == 1  # the day before the fix
    assert fixed_week["since_fix"] == 1  # two days after it
    assert sum(w["since_fix"] for w in chart["weeks"]) == 1
    assert sum(w["before_fix"] for w in chart["weeks"]) == 31
    row = f"fixed {fixed_at.date().isoformat()}: 1 before, 1 since"
    assert row in html


def test_agents_may_not_change_problems_and_forms_need_their_token(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    pid = open_problem(client, title="Parcels late")["id"]
    action = client.post(
        f"/api/v1/problems/{pid}/actions", json={"title": "Depot", "owner": "ops@x.io"}
    ).json()
    agent = sign_in(web, engine, "agent@example.com")
    for path, fields in (
        ("/problems", {"title": "Mine"}),
        ("/problems/discover", {"days": "30", "min_size": "5"}),
        (f"/problems/{pid}/actions", {"title": "More", "owner": "a@b.io"}),
        (f"/problems/{pid}/actions/{action['id']}", {"status": "done"}),
        (f"/problems/{pid}/fixed", {}),
        (f"/problems/{pid}/close", {}),
        (f"/problems/{pid}", {"title": "Renamed"}),
    ):
        refused = web.post(path, data=agent.form(**fields))
        assert refused.status_code == 403, path
        assert "only a lead or an admin may do this" in refused.text
    lead(web, engine)
    assert web.post(f"/problems/{pid}/fixed", data={}).status_code == 403
    assert web.post(f"/problems/{pid}/fixed", data={"csrf_token": "forged"}).status_code == 403
    no_token = web.post(f"/problems/{pid}/actions", data={"title": "x", "owner": "a@b.io"})
    assert no_token.status_code == 403
    shown = client.get(f"/api/v1/problems/{pid}").json()
    assert shown["status"] == "open"
    assert shown["title"] == "Parcels late"
    assert [a["status"] for a in shown["actions"]] == ["open"]
    assert len(client.get("/api/v1/problems").json()["items"]) == 1


def test_a_lead_opens_edits_and_closes_a_problem(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    complaints(client, spread(OTHER, 2, FIXED_NOW - timedelta(hours=5), 1))
    me = lead(web, engine)
    made = web.post(
        "/problems",
        data=me.form(
            title="Parcels late",
            root_cause="",
            category="delivery_delay",
            owner="Carl@Example.com",
            cases="1 2",
        ),
    )
    assert made.status_code == 303
    pid = int(made.headers["location"].split("/")[-1].split("?")[0])
    shown = client.get(f"/api/v1/problems/{pid}").json()
    assert shown["category"] == "delivery_delay"
    assert shown["owner"] == "carl@example.com"
    assert shown["cases"] == [1, 2]
    refused = web.post("/problems", data=me.form(title="Odd", category="weather"))
    assert refused.status_code == 422
    assert "&#39;weather&#39; is not a category." in refused.text
    edited = web.post(
        f"/problems/{pid}",
        data=me.form(
            title="Parcels late from the north depot",
            root_cause="The sorting line broke.",
            what_will_change="",
            owner="",
        ),
    )
    assert edited.status_code == 303
    shown = client.get(f"/api/v1/problems/{pid}").json()
    assert shown["title"] == "Parcels late from the north depot"
    assert shown["root_cause"] == "The sorting line broke."
    assert shown["owner"] is None
    closed = web.post(f"/problems/{pid}/close", data=me.form())
    assert closed.status_code == 303
    assert client.get(f"/api/v1/problems/{pid}").json()["status"] == "closed"
    assert "The problem is closed." in web.get(closed.headers["location"]).text


def test_discovery_from_the_page_proposes_problems_a_lead_confirms(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    texts = [
        (text, FIXED_NOW - timedelta(days=2, hours=k * 4 + i))
        for k, group in enumerate([MUSIC, LIGHTS])
        for i, text in enumerate(group * 2)
    ]
    complaints(client, texts)
    me = lead(web, engine)
    ran = web.post("/problems/discover", data=me.form(days="7", min_size="3"))
    assert ran.status_code == 303
    found = int(ran.headers["location"].split("found=")[1])
    assert found >= 2
    assert ran.headers["location"].startswith("/problems?status=proposed")
    listing = web.get(ran.headers["location"]).text
    assert f"Topic discovery proposed {found} problems, listed below." in listing
    proposed = client.get("/api/v1/problems?status=proposed").json()["items"]
    assert len(proposed) == found
    music = next(p for p in proposed if "music" in p["title"])
    assert music["title"] in listing
    page = web.get(f"/problems/{music['id']}").text
    assert "Proposed by topic discovery" in page
    assert "Typical complaints:" in page
    assert "music" in page.lower()
    assert f'action="/problems/{music["id"]}/confirm"' in page
    confirmed = web.post(f"/problems/{music['id']}/confirm", data=me.form())
    assert confirmed.status_code == 303
    assert client.get(f"/api/v1/problems/{music['id']}").json()["status"] == "open"
    bad = web.post("/problems/discover", data=me.form(days="0", min_size="3"))
    assert bad.status_code == 422
    assert "Days must be a whole number from 1 to 3650." in bad.text


def test_discovery_with_nothing_to_read_says_so(web: TestClient, engine: Engine) -> None:
    me = lead(web, engine)
    ran = web.post("/problems/discover", data=me.form(days="30", min_size="5"))
    assert ran.status_code == 303
    assert "found no new topic" in web.get(ran.headers["location"]).text


def test_titles_and_root_causes_are_escaped(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    pid = open_problem(
        client,
        title=f"Cause {HOSTILE}",
        root_cause=f"Because {HOSTILE}",
        what_will_change=f"Change {HOSTILE}",
    )["id"]
    client.post(f"/api/v1/problems/{pid}/actions", json={"title": HOSTILE, "owner": "a@b.io"})
    fix(engine, pid, datetime(2026, 10, 1, tzinfo=UTC))
    sign_in(web, engine, "agent@example.com")
    listing = web.get("/problems").text
    detail = web.get(f"/problems/{pid}").text
    for html in (listing, detail):
        assert "<script>alert" not in html
        assert f"Cause {ESCAPED}" in html
    assert f"Because {ESCAPED}" in detail
    assert f"Change {ESCAPED}" in detail
    assert chart_of(detail)["title"] == f"Cause {HOSTILE}"  # JSON, safe inside its block
    assert "\\u003cscript\\u003e" in detail


@pytest.mark.parametrize("path", ["/problems/424242", "/problems/x1"])
def test_an_unknown_problem_is_a_404_page(web: TestClient, engine: Engine, path: str) -> None:
    sign_in(web, engine, "agent@example.com")
    page = web.get(path)
    assert page.status_code == 404
    assert "Not found" in page.text
