"""The incidents pages: the list (open first), one incident with its tier and why, its cases
(another team's counted, not listed), the drafted statements and the timeline; leads open,
update and resolve incidents, which tells every customer; agents read."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.conftest import FIXED_NOW
from tests.web.conftest import SignedIn, sign_in

from amends.users.rules import Role

PLAYBOOK = """
name: web incidents
teams:
  - name: Payments
    categories: [billing, refunds]
    lead: lea@example.com
    agents:
      - {name: Lea Lead, email: lea@example.com}
      - {name: Ann Agent, email: ann@example.com}
  - name: Care
    lead: carl@example.com
    agents:
      - {name: Carl Care, email: carl@example.com}
default_team: Care
sla:
  calendar: 24/7
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
incidents:
  tiers:
    social_post: {customers: 3, reach: 20000}
    blog_post: {customers: 50}
  contact: "reply to this post, or write to help@example.com"
"""
HOSTILE = "<script>alert('x')</script>"
BILLING = [
    "I was charged twice for my subscription this month, please fix it.",
    "You took the payment twice from my card for the same order.",
    "Double charge on my account again, refund the second payment.",
]
LATE = ["My parcel is a week late and nobody answers.", "Where is my delivery? It is days late."]


@pytest.fixture
def cases(client: TestClient) -> dict[str, list[int]]:
    """Three billing cases (team Payments) and two late parcels (team Care), by category."""
    put = client.put(
        "/api/v1/playbook", content=PLAYBOOK, headers={"Content-Type": "application/yaml"}
    )
    assert put.status_code == 200, put.text
    items = [
        {
            "text": text,
            "email": f"c{n}@example.com",
            "author_name": f"Customer {n}",
            "received_at": (FIXED_NOW - timedelta(minutes=50 - n)).isoformat(),
        }
        for n, text in enumerate(BILLING + LATE)
    ]
    assert client.post("/api/v1/feedback", json=items).status_code == 201
    by: dict[str, list[int]] = {}
    for row in client.get("/api/v1/cases").json()["items"]:
        by.setdefault(row["category"], []).append(row["id"])
    assert sorted(len(v) for v in by.values()) == [2, 3], by
    return {k: sorted(v) for k, v in by.items()}


def open_incident(client: TestClient, title: str, case_ids: list[int]) -> dict[str, Any]:
    made = client.post("/api/v1/incidents", json={"title": title, "cases": case_ids})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def lead(web: TestClient, engine: Engine) -> SignedIn:
    return sign_in(web, engine, "lead@example.com", role=Role.LEAD)


def test_signed_out_goes_to_sign_in(web: TestClient) -> None:
    page = web.get("/incidents")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


def test_empty_list_says_how_incidents_open(web: TestClient, engine: Engine) -> None:
    sign_in(web, engine, "agent@example.com")
    page = web.get("/incidents")
    assert page.status_code == 200
    assert "No incidents yet" in page.text
    assert "similar complaints spike" in page.text
    assert "A lead can also open one by hand" in page.text
    assert 'action="/incidents"' not in page.text  # agents get no form


def test_empty_list_gives_a_lead_the_form(web: TestClient, engine: Engine) -> None:
    lead(web, engine)
    page = web.get("/incidents")
    assert "You can also open one by hand below" in page.text
    assert 'action="/incidents"' in page.text
    assert '<label for="incident-title">' in page.text


def test_the_list_puts_open_incidents_first_and_filters_by_status(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    billing = open_incident(client, "Payments taken twice", cases["billing"])
    late = open_incident(client, "Parcels late", cases["delivery_delay"])
    assert client.post(f"/api/v1/incidents/{late['id']}/resolve", json={}).status_code == 200
    newest = open_incident(client, "Quiet one", [])
    sign_in(web, engine, "agent@example.com")
    page = web.get("/incidents").text
    order = [page.index(t) for t in ("Quiet one", "Payments taken twice", "Parcels late")]
    assert order == sorted(order)  # open ones (newest first), then the resolved
    row = page[page.index("Payments taken twice") - 400 : page.index("Parcels late")]
    assert "Social post" in row  # three customers: the playbook's social-post tier
    assert re.search(r'<td class="num">3</td>\s*<td class="num">3</td>', row)
    assert f'href="/incidents/{billing["id"]}"' in page
    assert f'href="/incidents/{newest["id"]}"' in page
    resolved = web.get("/incidents?status=resolved").text
    assert "Parcels late" in resolved
    assert "Payments taken twice" not in resolved
    opened = web.get("/incidents?status=open").text
    assert "Parcels late" not in opened
    assert "Quiet one" in opened
    assert web.get("/incidents?status=nonsense&page=x").status_code == 200


def test_an_incident_shows_its_tier_cases_statements_and_timeline(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    made = open_incident(client, "Payments taken twice", cases["billing"])
    iid = made["id"]
    client.post(
        f"/api/v1/incidents/{iid}/updates",
        json={
            "text": "Card captures paused at 10:05.",
            "what_will_change": "every payment now waits for one confirmation",
            "agent": "lea@example.com",
        },
    )
    lead(web, engine)
    page = web.get(f"/incidents/{iid}")
    assert page.status_code == 200
    html = page.text
    assert "Tier: Social post" in html
    assert "reaches the social post tier, which starts at 3 customers" in html
    assert "The blog post tier starts at 50 customers" in html
    for case_id in cases["billing"]:
        assert f'href="/cases/{case_id}"' in html
    # The drafted social post, read-only, with a copy button the script turns on.
    assert '<textarea id="text-social_post" class="statement-text" readonly' in html
    post = re.search(r'id="text-social_post"[^>]*>(.*?)</textarea>', html, re.S)
    assert post is not None
    assert "sorry" in post.group(1).lower()
    assert "help@example.com" in post.group(1)
    assert 'data-copy="text-social_post"' in html
    assert '<script src="/static/incidents.js" defer></script>' in html
    assert "passes the checker" in html
    # The timeline, newest first.
    assert "Update; set what will change" in html
    assert "Card captures paused at 10:05." in html
    assert html.index("Update; set") < html.index("3 cases added by hand")
    assert "Opened by hand" in html
    # Leads get the forms.
    assert f'action="/incidents/{iid}/updates"' in html
    assert f'action="/incidents/{iid}/resolve"' in html
    assert "3 open cases" in html
    js = web.get("/static/incidents.js")
    assert js.status_code == 200
    assert "clipboard" in js.text


def test_a_larger_tier_can_be_previewed(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    iid = open_incident(client, "Payments taken twice", cases["billing"])["id"]
    sign_in(web, engine, "agent@example.com")
    html = web.get(f"/incidents/{iid}?tier=press_release").text
    for which in ("social_post", "blog_post", "press_release"):
        assert f'id="text-{which}"' in html
    assert "A preview for the press release tier" in html
    small = open_incident(client, "Nobody yet", [])["id"]
    quiet = web.get(f"/incidents/{small}").text
    assert "nothing is published" in quiet
    assert "statement-text" not in quiet


def test_an_agent_sees_only_the_cases_of_their_team(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    iid = open_incident(client, "Everything at once", cases["billing"] + cases["delivery_delay"])[
        "id"
    ]
    sign_in(web, engine, "ann@example.com", team="Payments")
    html = web.get(f"/incidents/{iid}").text
    for case_id in cases["billing"]:
        assert f'href="/cases/{case_id}"' in html
    for case_id in cases["delivery_delay"]:
        assert f'href="/cases/{case_id}"' not in html
    assert "Cases (5)" in html
    assert "And 2 cases of other teams, not listed here." in html
    assert f'action="/incidents/{iid}/resolve"' not in html
    assert "A lead posts updates and resolves the incident." in html


def test_a_lead_posts_an_update_and_sets_the_facts(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    iid = open_incident(client, "Payments taken twice", cases["billing"])["id"]
    me = lead(web, engine)
    sent = web.post(
        f"/incidents/{iid}/updates",
        data=me.form(
            text="Refunds go out tonight.",
            what_happened="",
            who_is_affected="",
            what_we_are_doing="We are refunding every second payment",
            what_will_change="",
        ),
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/incidents/{iid}?done=update"
    shown = client.get(f"/api/v1/incidents/{iid}").json()
    assert shown["what_we_are_doing"] == "We are refunding every second payment"
    last = shown["timeline"][-1]
    assert last["actor"] == "agent:lead@example.com"
    assert last["text"] == "Refunds go out tonight."
    assert last["data"] == {"what_we_are_doing": "We are refunding every second payment"}
    page = web.get(sent.headers["location"]).text
    assert "Update posted." in page
    assert "We are refunding every second payment" in page
    # Nothing to say: the form comes back with the reason.
    empty = web.post(
        f"/incidents/{iid}/updates",
        data=me.form(
            text="",
            what_happened="",
            who_is_affected="",
            what_we_are_doing="We are refunding every second payment",
            what_will_change="",
        ),
    )
    assert empty.status_code == 422
    assert '<p class="alert" role="alert">An update needs text or a field to change.</p>' in (
        empty.text
    )


def test_a_lead_resolves_and_every_customer_is_told(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    iid = open_incident(client, "Parcels late", cases["delivery_delay"])["id"]
    client.post(
        f"/api/v1/incidents/{iid}/updates",
        json={"what_will_change": "parcels now leave from two depots"},
    )
    me = lead(web, engine)
    done = web.post(f"/incidents/{iid}/resolve", data=me.form(text="Depot back at 16:00"))
    assert done.status_code == 303
    assert done.headers["location"] == f"/incidents/{iid}?done=resolved"
    assert client.get(f"/api/v1/incidents/{iid}").json()["status"] == "resolved"
    for case_id in cases["delivery_delay"]:
        assert client.get(f"/api/v1/cases/{case_id}").json()["status"] == "resolved"
    page = web.get(done.headers["location"]).text
    assert "The incident is resolved." in page
    assert "2 customers were told" in page
    assert "No case was left open." in page
    assert "Depot back at 16:00" in page
    assert f'action="/incidents/{iid}/resolve"' not in page
    again = web.post(f"/incidents/{iid}/resolve", data=me.form(text=""))
    assert again.status_code == 409
    assert f"Incident {iid} is resolved already." in again.text


def test_a_lead_opens_an_incident_by_hand(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    me = lead(web, engine)
    first, second = cases["delivery_delay"]
    made = web.post("/incidents", data=me.form(title="Depot closed", cases=f"#{first}, {second}"))
    assert made.status_code == 303
    iid = int(made.headers["location"].split("/")[-1].split("?")[0])
    shown = client.get(f"/api/v1/incidents/{iid}").json()
    assert shown["title"] == "Depot closed"
    assert shown["cases"] == [first, second]
    assert shown["opened_by"] == "agent:lead@example.com"
    assert "The incident is open." in web.get(made.headers["location"]).text
    bad = web.post("/incidents", data=me.form(title="Another", cases="12, twelve"))
    assert bad.status_code == 422
    assert "&#39;twelve&#39; is not a case number." in bad.text
    assert 'value="Another"' in bad.text  # what was typed comes back
    missing = web.post("/incidents", data=me.form(title="Ghosts", cases="424242"))
    assert missing.status_code == 404
    assert "Case 424242 not found." in missing.text
    assert len(client.get("/api/v1/incidents").json()["items"]) == 1


def test_agents_may_not_change_incidents(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    iid = open_incident(client, "Parcels late", cases["delivery_delay"])["id"]
    me = sign_in(web, engine, "carl@example.com", team="Care")
    for path, fields in (
        ("/incidents", {"title": "Mine"}),
        (f"/incidents/{iid}/updates", {"text": "hello"}),
        (f"/incidents/{iid}/resolve", {}),
    ):
        refused = web.post(path, data=me.form(**fields))
        assert refused.status_code == 403, path
        assert "only a lead or an admin may do this" in refused.text
    shown = client.get(f"/api/v1/incidents/{iid}").json()
    assert shown["status"] == "open"
    assert [e["kind"] for e in shown["timeline"]] == ["opened", "cases_added"]
    assert len(client.get("/api/v1/incidents").json()["items"]) == 1


def test_a_form_without_its_csrf_token_is_refused(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    iid = open_incident(client, "Parcels late", cases["delivery_delay"])["id"]
    lead(web, engine)
    missing = web.post(f"/incidents/{iid}/resolve", data={"text": "no token"})
    assert missing.status_code == 403
    forged = web.post(f"/incidents/{iid}/resolve", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert web.post("/incidents", data={"title": "No token"}).status_code == 403
    assert client.get(f"/api/v1/incidents/{iid}").json()["status"] == "open"
    assert len(client.get("/api/v1/incidents").json()["items"]) == 1


def test_titles_and_updates_are_escaped(
    client: TestClient, web: TestClient, engine: Engine, cases: dict[str, list[int]]
) -> None:
    iid = open_incident(client, f"Outage {HOSTILE}", cases["billing"])["id"]
    client.post(
        f"/api/v1/incidents/{iid}/updates",
        json={"text": f"Update {HOSTILE}", "what_happened": f"It broke {HOSTILE}"},
    )
    sign_in(web, engine, "agent@example.com")
    escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    for html in (web.get("/incidents").text, web.get(f"/incidents/{iid}").text):
        assert "<script>alert" not in html
        assert f"Outage {escaped}" in html
    detail = web.get(f"/incidents/{iid}").text
    assert f"Update {escaped}" in detail
    assert f"It broke {escaped}" in detail  # in the facts and in the drafted statement


def test_an_unknown_incident_is_a_404_page(web: TestClient, engine: Engine) -> None:
    sign_in(web, engine, "agent@example.com")
    for path in ("/incidents/424242", "/incidents/abc", "/incidents/0"):
        page = web.get(path)
        assert page.status_code == 404, path
        assert "Not found" in page.text
