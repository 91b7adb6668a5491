"""Cases, the queue, the playbook and follow-ups through the REST API, as an integration or
an agent's tool drives them. The app's clock stands at FIXED_NOW (Monday 2 November 2026,
10:00 UTC); complaints arrive just before it, so deadlines are measured from real moments.
Without an imported playbook the built-in default is in force: Monday to Friday 9 to 5 UTC,
P1 counts round the clock (first response 1h), P3 gets 8 business hours to a first answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import FIXED_NOW

FIRE = "It caught fire in my kitchen!"  # P1 (safety)
REFUND = "You charged me twice for my order, please refund the second payment."  # P3
PARCEL = "My parcel never arrived and nobody answers."  # P3, another matter

PLAYBOOK = """# The desk's playbook: comments are kept.
name: api desk
calendars:
  office:
    timezone: UTC
    hours: {mon: "09:00-17:00", tue: "09:00-17:00", wed: "09:00-17:00", thu: "09:00-17:00",
            fri: "09:00-17:00"}
teams:
  - name: Care
    lead: lead@example.com
    agents:
      - {name: Lea Lead, email: lead@example.com}
      - {name: Ann Agent, email: ann@example.com}
default_team: Care
sla:
  calendar: office
  targets:
    P1: {first_response: 1h, next_response: 2h, resolution: 1d, calendar: 24/7}
    P2: {first_response: 4h, next_response: 8h, resolution: 24h}
    P3: {first_response: 8h, next_response: 8h, resolution: 40h}
    P4: {first_response: 16h, next_response: 16h, resolution: 80h}
follow_up: {delay: 1d, survey: nps, expires_after: 7d}
"""


def iso(moment: datetime) -> str:
    """How the API writes a UTC moment."""
    return moment.isoformat().replace("+00:00", "Z")


def ago(**delta: float) -> datetime:
    return FIXED_NOW - timedelta(**delta)


def complain(
    client: TestClient, text: str, *, email: str, received: datetime, **extra: Any
) -> dict[str, Any]:
    """POST one complaint; the API's answer (feedback ids, cases opened)."""
    r = client.post(
        "/api/v1/feedback",
        json={"text": text, "email": email, "received_at": received.isoformat(), **extra},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def case_of(client: TestClient, feedback_id: int) -> dict[str, Any]:
    fb = client.get(f"/api/v1/feedback/{feedback_id}").json()
    case: dict[str, Any] = client.get(f"/api/v1/cases/{fb['case_id']}").json()
    return case


def open_case(client: TestClient, text: str, *, email: str, received: datetime) -> dict[str, Any]:
    answer = complain(client, text, email=email, received=received)
    assert answer["cases_opened"] == 1, answer
    return case_of(client, answer["feedback_ids"][0])


def deadline(row: dict[str, Any], clock: str) -> dict[str, Any]:
    return next(d for d in row["deadlines"] if d["clock"] == clock)


def put_playbook(client: TestClient, text: str, media: str = "application/yaml") -> Any:
    return client.put(
        "/api/v1/playbook",
        content=text.encode("utf-8"),
        headers={"Content-Type": media, "X-Amends-Agent": "ops@example.com"},
    )


# ---- the queue -------------------------------------------------------------------------------


def test_queue_orders_by_priority_then_nearest_deadline_and_leaves_out_waiting_cases(
    client: TestClient,
) -> None:
    later = open_case(client, REFUND, email="later@example.com", received=ago(minutes=15))
    sooner = open_case(client, PARCEL, email="sooner@example.com", received=ago(minutes=45))
    urgent = open_case(client, FIRE, email="fire@example.com", received=ago(hours=2))
    waiting = open_case(client, REFUND, email="wait@example.com", received=ago(hours=1))
    assert [c["priority"] for c in (later, sooner, urgent, waiting)] == ["P3", "P3", "P1", "P3"]
    r = client.post(
        f"/api/v1/cases/{waiting['id']}/replies",
        json={"text": "Which card was it?", "waiting": True},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "waiting_on_customer"

    queue = client.get("/api/v1/queue").json()
    assert queue["total"] == 3
    assert [row["id"] for row in queue["items"]] == [urgent["id"], sooner["id"], later["id"]]
    rows = {row["id"]: row for row in queue["items"]}

    # P1 counts round the clock: 08:00 + 1h, already an hour late at 10:00.
    fire = rows[urgent["id"]]
    assert deadline(fire, "first_response") == {
        "clock": "first_response",
        "due": iso(ago(hours=1)),
        "met_at": None,
        "breached": True,
    }
    assert deadline(fire, "resolution")["due"] == iso(ago(hours=2) + timedelta(days=1))
    assert not deadline(fire, "resolution")["breached"]
    assert fire["breached"] is True
    assert fire["next_due_at"] == iso(ago(hours=1))
    # P3: 8 business hours from Monday 09:15 (7h45m on Monday) ends Tuesday 09:15.
    parcel = rows[sooner["id"]]
    assert deadline(parcel, "first_response")["due"] == iso(FIXED_NOW + timedelta(hours=23.25))
    assert parcel["next_due_at"] == deadline(parcel, "first_response")["due"]
    assert parcel["breached"] is False
    assert rows[later["id"]]["next_due_at"] == iso(FIXED_NOW + timedelta(hours=23, minutes=45))

    everything = client.get("/api/v1/queue", params={"include_waiting": "true"}).json()
    assert everything["total"] == 4
    paused = next(row for row in everything["items"] if row["id"] == waiting["id"])
    assert paused["paused_at"] == iso(FIXED_NOW)
    assert paused["next_due_at"] is None  # a paused case has no running deadline
    assert [row["id"] for row in everything["items"]][-1] == waiting["id"]


def test_queue_pages_and_filters(client: TestClient) -> None:
    for n in range(3):
        open_case(client, REFUND, email=f"p{n}@example.com", received=ago(minutes=10 * (n + 1)))
    first = client.get("/api/v1/queue", params={"limit": 2}).json()
    second = client.get("/api/v1/queue", params={"limit": 2, "offset": 2}).json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    ids = [row["id"] for row in first["items"] + second["items"]]
    assert ids == [3, 2, 1]  # the earliest arrival has the nearest deadline
    assert client.get("/api/v1/queue", params={"team": "Nobody"}).status_code == 404
    assert client.get("/api/v1/queue", params={"limit": 0}).status_code == 422


# ---- the lifecycle -----------------------------------------------------------------------------


def test_status_changes_follow_the_lifecycle_and_reopening_needs_a_reason(
    client: TestClient,
) -> None:
    case = open_case(client, REFUND, email="kim@example.com", received=ago(minutes=30))
    url = f"/api/v1/cases/{case['id']}/status"
    resolved = client.post(url, json={"status": "resolved", "reason": "refunded"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] == iso(FIXED_NOW)
    assert resolved.json()["next_due_at"] is None
    assert client.get("/api/v1/queue").json()["total"] == 0

    refused = client.post(url, json={"status": "waiting_on_customer"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert "cannot become" in refused.json()["detail"]

    no_reason = client.post(url, json={"status": "in_progress"})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json()["detail"]
    blank = client.post(url, json={"status": "in_progress", "reason": "   "})
    assert blank.status_code == 422
    assert client.get(f"/api/v1/cases/{case['id']}").json()["status"] == "resolved"

    reopened = client.post(url, json={"status": "in_progress", "reason": "refund bounced"})
    assert reopened.status_code == 200
    body = reopened.json()
    assert (body["status"], body["reopened_count"], body["resolved_at"]) == (
        "in_progress",
        1,
        None,
    )
    assert deadline(body, "resolution")["met_at"] is None
    assert client.get("/api/v1/queue").json()["total"] == 1

    bad = client.post(url, json={"status": "finished"})
    assert bad.status_code == 422
    assert client.post("/api/v1/cases/999/status", json={"status": "closed"}).status_code == 404

    events = client.get(f"/api/v1/cases/{case['id']}/events").json()
    assert events[0]["kind"] == "opened"
    changes = [
        (e["from_value"], e["to_value"], e["reason"]) for e in events if e["kind"] == "status"
    ]
    assert changes == [
        ("new", "resolved", "refunded"),
        ("resolved", "in_progress", "refund bounced"),
    ]
    assert {e["actor"] for e in events if e["kind"] == "status"} == {"api"}
    assert client.get("/api/v1/cases/999/events").status_code == 404


def test_assigning_to_an_agent_and_to_an_unknown_one(client: TestClient) -> None:
    assert put_playbook(client, PLAYBOOK).status_code == 200
    case = open_case(client, REFUND, email="kim@example.com", received=ago(minutes=30))
    url = f"/api/v1/cases/{case['id']}/assign"
    unknown = client.post(url, json={"assignee": "nobody@example.com"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"
    assert client.post(url, json={}).status_code == 422  # neither agent nor team

    given = client.post(
        url,
        json={"assignee": "Ann@Example.com", "agent": "lead@example.com", "reason": "billing"},
    )
    assert given.status_code == 200, given.text
    assert (given.json()["assignee"], given.json()["team"]) == ("ann@example.com", "Care")
    mine = client.get("/api/v1/queue", params={"agent": "ann@example.com"}).json()
    assert [row["id"] for row in mine["items"]] == [case["id"]]
    event = client.get(f"/api/v1/cases/{case['id']}/events").json()[-1]
    assert (event["kind"], event["to_value"], event["actor"], event["reason"]) == (
        "assigned",
        "ann@example.com",
        "agent:lead@example.com",
        "billing",
    )


def test_a_persons_reply_keeps_the_first_response_promise_an_automatic_one_does_not(
    client: TestClient,
) -> None:
    assert put_playbook(client, PLAYBOOK).status_code == 200
    case = open_case(client, REFUND, email="kim@example.com", received=ago(minutes=30))
    url = f"/api/v1/cases/{case['id']}/replies"
    auto = client.post(url, json={"text": "We got your message.", "automated": True})
    assert auto.status_code == 201, auto.text
    row = auto.json()
    assert row["status"] == "new"
    assert row["first_responded_at"] is None
    assert deadline(row, "first_response")["met_at"] is None
    assert row["next_due_at"] == deadline(row, "first_response")["due"]

    person = client.post(url, json={"text": "Refunding now, sorry.", "agent": "ann@example.com"})
    assert person.status_code == 201
    row = person.json()
    assert row["status"] == "acknowledged"
    assert row["first_responded_at"] == iso(FIXED_NOW)
    assert deadline(row, "first_response") == {
        "clock": "first_response",
        "due": case["first_response_due"],
        "met_at": iso(FIXED_NOW),
        "breached": False,
    }
    assert row["next_due_at"] == row["resolution_due"]  # only resolution still runs

    kinds = [e["kind"] for e in client.get(f"/api/v1/cases/{case['id']}/events").json()]
    assert kinds.count("auto_acknowledged") == 1
    assert kinds.count("replied") == 1
    stranger = client.post(url, json={"text": "Hi", "agent": "nobody@example.com"})
    assert stranger.status_code == 404
    assert client.post(url, json={"text": ""}).status_code == 422


def test_merge_folds_one_customers_cases_and_split_moves_feedback_out(
    client: TestClient,
) -> None:
    refund = complain(client, REFUND, email="kim@example.com", received=ago(hours=1))
    again = complain(
        client, "And you charged me twice again, refund it!", email="kim@example.com",
        received=ago(minutes=50),
    )  # fmt: skip
    parcel = complain(client, PARCEL, email="kim@example.com", received=ago(minutes=40))
    keep = case_of(client, refund["feedback_ids"][0])
    assert case_of(client, again["feedback_ids"][0])["id"] == keep["id"]  # the same matter
    gone = case_of(client, parcel["feedback_ids"][0])
    assert gone["id"] != keep["id"]
    other = open_case(client, REFUND, email="someone@example.com", received=ago(minutes=5))

    foreign = client.post(f"/api/v1/cases/{keep['id']}/merge", json={"absorb": other["id"]})
    assert foreign.status_code == 409
    itself = client.post(f"/api/v1/cases/{keep['id']}/merge", json={"absorb": keep["id"]})
    assert itself.status_code == 422

    merged = client.post(
        f"/api/v1/cases/{keep['id']}/merge",
        json={"absorb": gone["id"], "reason": "one conversation"},
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == keep["id"]
    absorbed = client.get(f"/api/v1/cases/{gone['id']}").json()
    assert (absorbed["status"], absorbed["merged_into_id"]) == ("closed", keep["id"])
    on_keep = client.get("/api/v1/feedback", params={"case_id": keep["id"]}).json()
    feedback_ids = sorted(f["id"] for f in on_keep["items"])
    assert feedback_ids == sorted(
        refund["feedback_ids"] + again["feedback_ids"] + parcel["feedback_ids"]
    )
    twice = client.post(f"/api/v1/cases/{keep['id']}/merge", json={"absorb": gone["id"]})
    assert twice.status_code == 409

    split_url = f"/api/v1/cases/{keep['id']}/split"
    everything = client.post(split_url, json={"feedback_ids": feedback_ids})
    assert everything.status_code == 422
    assert "leave feedback" in everything.json()["detail"]
    stray = client.post(split_url, json={"feedback_ids": other_ids(client, other["id"])})
    assert stray.status_code == 422
    assert client.post(split_url, json={"feedback_ids": []}).status_code == 422

    split = client.post(
        split_url, json={"feedback_ids": parcel["feedback_ids"], "reason": "another matter"}
    )
    assert split.status_code == 201, split.text
    new = split.json()
    assert new["id"] not in (keep["id"], gone["id"])
    assert (new["status"], new["customer_id"]) == ("new", keep["customer_id"])
    assert new["opened_at"] == iso(ago(minutes=40))
    assert {d["clock"] for d in new["deadlines"]} == {"first_response", "resolution"}
    moved = client.get(f"/api/v1/feedback/{parcel['feedback_ids'][0]}").json()
    assert moved["case_id"] == new["id"]
    events = client.get(f"/api/v1/cases/{keep['id']}/events").json()
    assert [e["kind"] for e in events if e["kind"] in ("merged", "split")] == ["merged", "split"]
    assert events[-1]["data"]["into"] == new["id"]


def other_ids(client: TestClient, case_id: int) -> list[int]:
    items = client.get("/api/v1/feedback", params={"case_id": case_id}).json()["items"]
    return [f["id"] for f in items]


# ---- the playbook ----------------------------------------------------------------------------


def test_playbook_import_export_and_versions(client: TestClient) -> None:
    default = client.get("/api/v1/playbook").json()
    assert default["version"] is None
    assert default["document"]["name"] == "default"
    assert client.get("/api/v1/playbook/versions").json() == []

    first = put_playbook(client, PLAYBOOK)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "version": 1,
        "name": "api desk",
        "imported_by": "ops@example.com",
        "imported_at": iso(FIXED_NOW),
    }
    assert put_playbook(client, PLAYBOOK).json()["version"] == 1  # the same text: no new one
    exported = client.get("/api/v1/playbook/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    assert exported.text == PLAYBOOK  # as written, comment and all

    changed = PLAYBOOK.replace("survey: nps", "survey: csat")
    second = put_playbook(client, changed, media="text/yaml; charset=utf-8")
    assert second.json()["version"] == 2
    active = client.get("/api/v1/playbook").json()
    assert active["version"] == 2
    assert active["document"]["follow_up"]["survey"] == "csat"
    assert active["document"]["teams"][0]["lead"] == "lead@example.com"
    assert client.get("/api/v1/playbook/export").text == changed
    assert client.get("/api/v1/playbook/export", params={"version": 1}).text == PLAYBOOK
    assert client.get("/api/v1/playbook/export", params={"version": 9}).status_code == 404
    assert [v["version"] for v in client.get("/api/v1/playbook/versions").json()] == [2, 1]
    # The teams and agents it names now exist.
    case = open_case(client, REFUND, email="kim@example.com", received=ago(minutes=5))
    given = client.post(f"/api/v1/cases/{case['id']}/assign", json={"team": "care"})
    assert given.json()["team"] == "Care"
    given = client.post(f"/api/v1/cases/{case['id']}/assign", json={"assignee": "lead@example.com"})
    assert given.json()["assignee"] == "lead@example.com"


def test_playbook_as_json_is_accepted(client: TestClient) -> None:
    doc = client.get("/api/v1/playbook").json()["document"]
    doc["name"] = "from json"
    r = client.put("/api/v1/playbook", json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    assert client.get("/api/v1/playbook").json()["document"]["name"] == "from json"


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (PLAYBOOK.replace("  targets:", "  warn_at: 2\n  targets:"), "sla.warn_at"),
        (PLAYBOOK.replace("first_response: 8h", "first_response: soon"), "sla.targets.P3"),
        (PLAYBOOK.replace("default_team: Care", "default_team: Nobody"), "Nobody"),
        (PLAYBOOK + "surprise: 1\n", "surprise"),
        ("sla: [unclosed\n", "line 2, column 1"),
    ],
)  # fmt: skip
def test_an_invalid_playbook_is_refused_naming_the_place(
    client: TestClient, text: str, place: str
) -> None:
    r = put_playbook(client, text)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input"
    assert place in r.json()["detail"]
    assert client.get("/api/v1/playbook/versions").json() == []
    assert client.get("/api/v1/playbook").json()["version"] is None


def test_playbook_upload_checks_type_and_size(client: TestClient) -> None:
    wrong = put_playbook(client, PLAYBOOK, media="text/html")
    assert wrong.status_code == 415
    assert wrong.json()["code"] == "unsupported_media_type"
    assert client.put("/api/v1/playbook", content=PLAYBOOK.encode()).status_code == 415
    huge = PLAYBOOK + "# " + "x" * 1_000_000 + "\n"
    too_big = put_playbook(client, huge)
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "payload_too_large"
    latin1 = client.put(
        "/api/v1/playbook",
        content=PLAYBOOK.replace("api desk", "café").encode("latin-1"),
        headers={"Content-Type": "application/yaml"},
    )
    assert latin1.status_code == 422
    assert "UTF-8" in latin1.json()["detail"]
    assert client.get("/api/v1/playbook/versions").json() == []


# ---- follow-ups ------------------------------------------------------------------------------


def test_resolving_schedules_a_follow_up_listed_by_the_api(client: TestClient) -> None:
    assert put_playbook(client, PLAYBOOK).status_code == 200
    first = open_case(client, REFUND, email="kim@example.com", received=ago(minutes=30))
    second = open_case(client, PARCEL, email="jo@example.com", received=ago(minutes=20))
    assert client.get("/api/v1/followups").json() == []
    for case in (first, second):
        r = client.post(f"/api/v1/cases/{case['id']}/status", json={"status": "resolved"})
        assert r.status_code == 200
    rows = client.get("/api/v1/followups").json()
    assert [r["case_id"] for r in rows] == [second["id"], first["id"]]  # newest first
    row = rows[0]
    assert row["status"] == "scheduled"
    assert row["scale"] == "nps"  # from the playbook in force
    assert row["due_at"] == iso(FIXED_NOW + timedelta(days=1))
    assert (row["sent_at"], row["answered_at"], row["score"]) == (None, None, None)
    # Reopening before it goes out cancels it; resolving again schedules a fresh one.
    url = f"/api/v1/cases/{first['id']}/status"
    client.post(url, json={"status": "in_progress", "reason": "not fixed"})
    client.post(url, json={"status": "resolved"})
    mine = [r for r in client.get("/api/v1/followups").json() if r["case_id"] == first["id"]]
    assert [r["status"] for r in mine] == ["scheduled", "cancelled"]
    paged = client.get("/api/v1/followups", params={"status": "scheduled", "limit": 1}).json()
    assert len(paged) == 1
    assert paged[0]["status"] == "scheduled"


def test_a_resolved_case_folded_into_a_new_one_keeps_its_resolution(client: TestClient) -> None:
    old = open_case(client, REFUND, email="kim@example.com", received=ago(hours=30))
    done = client.post(
        f"/api/v1/cases/{old['id']}/status", json={"status": "resolved", "reason": "refunded"}
    )
    assert done.status_code == 200, done.text
    resolved_at = client.get(f"/api/v1/cases/{old['id']}").json()["resolved_at"]
    new = open_case(client, PARCEL, email="kim@example.com", received=ago(minutes=5))
    assert new["id"] != old["id"]
    # the customer came back about the same matter: the old case is folded into the new one
    merged = client.post(f"/api/v1/cases/{new['id']}/merge", json={"absorb": old["id"]})
    assert merged.status_code == 200, merged.text
    folded = client.get(f"/api/v1/cases/{old['id']}").json()
    assert (folded["status"], folded["merged_into_id"]) == ("closed", new["id"])
    assert folded["resolved_at"] == resolved_at
    # the other way round, the resolved case cannot take one in: it is reopened first
    other = open_case(client, PARCEL, email="lee@example.com", received=ago(hours=3))
    client.post(f"/api/v1/cases/{other['id']}/status", json={"status": "resolved", "reason": "ok"})
    late = open_case(client, REFUND, email="lee@example.com", received=ago(minutes=1))
    refused = client.post(f"/api/v1/cases/{other['id']}/merge", json={"absorb": late["id"]})
    assert refused.status_code == 409
    assert "reopen it first" in refused.json()["detail"]
