"""Spikes open incidents; incidents scale their public response, and resolving one writes to
every customer. Problems carry actions and are verified by the complaint rate. Through the CLI
and the API, on a real database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from amends.cli import app

runner = CliRunner()
NOW = datetime(2026, 11, 23, 15, 40, tzinfo=UTC)  # a Monday afternoon

PLAYBOOK = """
name: incident desk
teams:
  - name: Care
    lead: lea@example.com
    agents:
      - {name: Lea Lead, email: lea@example.com, capacity: 500}
default_team: Care
assignment: {auto: false}
sla:
  calendar: 24/7
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
incidents:
  min_count: 5
  min_ratio: 3
  keys: [category, channel]
  tiers:
    social_post: {customers: 8}
    blog_post: {customers: 30}
  contact: "reply to this post, or write to help@example.com"
problems:
  window: 14d
  recurring_window: 7d
  recurring_min: 3
"""

BILLING = [
    "I was charged twice for my subscription this month, please fix it.",
    "Fix this now, I got billed two times this month for one plan",
    "You took the payment twice from my card for the same order.",
    "Double charge on my account again, refund the second payment.",
]
OTHER = [
    "My parcel is a week late and nobody answers.",
    "The app keeps crashing when I log in.",
]


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def lines(*args: str) -> list[Any]:
    return [json.loads(line) for line in cli(*args).splitlines() if line.strip()]


@pytest.fixture
def desk(cli_env: Callable[[], Engine], tmp_path: Path) -> Callable[[], Engine]:
    book = tmp_path / "playbook.yaml"
    book.write_text(PLAYBOOK, encoding="utf-8")
    cli("playbook", "import", str(book), "--now", (NOW - timedelta(days=30)).isoformat())
    return cli_env


def ingest(tmp_path: Path, items: list[dict[str, Any]]) -> None:
    path = tmp_path / f"batch-{len(list(tmp_path.glob('batch-*')))}.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    cli("ingest", str(path), "--json", "--now", NOW.isoformat())


def complaint(text: str, n: int, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "text": text,
        "email": f"c{n}@example.com",
        "author_name": f"Customer {n}",
        "received_at": at.isoformat(),
        "channel": "email",
        **extra,
    }


def background(days: int = 21) -> list[dict[str, Any]]:
    """A complaint or two a day for three weeks: the normal level."""
    start = NOW - timedelta(days=days)
    items = []
    for d in range(days):
        for j, text in enumerate([BILLING[d % 4], OTHER[d % 2]]):
            items.append(complaint(text, 1000 + d * 2 + j, start + timedelta(days=d, hours=9 + j)))
    return items


def burst(count: int, *, start: datetime, first: int = 0) -> list[dict[str, Any]]:
    """`count` billing complaints from different customers within the last hour."""
    return [
        complaint(
            BILLING[i % 2] + f" (ref {first + i})",
            first + i,
            start + timedelta(minutes=2 * i),
            **(
                {"channel": "x", "handle": f"@user{first + i}", "reach": 5000} if i % 3 == 0 else {}
            ),
        )
        for i in range(count)
    ]


def test_a_burst_opens_one_incident_with_its_cases_and_tier(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path, background())
    quiet = lines("incidents", "detect", "--now", (NOW - timedelta(days=1)).isoformat(), "--json")
    assert quiet == []  # normal days raise nothing
    ingest(tmp_path, burst(12, start=NOW - timedelta(minutes=35)))
    found = lines("incidents", "detect", "--now", NOW.isoformat(), "--json")
    opened = [f for f in found if f.get("action") == "incident opened"]
    assert [f["key"] for f in opened] == ["category:billing"]
    assert "billing" in opened[0]["reason"]
    incident = lines("incidents", "show", str(opened[0]["incident_id"]), "--json")[0]
    assert incident["key"] == "category:billing"
    assert incident["customers"] >= 10
    assert incident["tier"] == "social_post"  # 8 customers or more, under 30
    assert len(incident["cases"]) >= 10
    kinds = [e["kind"] for e in incident["timeline"]]
    assert kinds[:2] == ["opened", "cases_added"]
    assert "tier" in kinds
    # The same spike a few minutes later is no second alarm.
    again = lines(
        "incidents", "detect", "--now", (NOW + timedelta(minutes=5)).isoformat(), "--json"
    )
    assert not [f for f in again if f.get("action") == "incident opened"]
    assert len(lines("incidents", "list", "--json")) == 1


def test_statements_scale_with_the_tier_and_pass_the_checker(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path, background() + burst(12, start=NOW - timedelta(minutes=35)))
    (found,) = [
        f
        for f in lines("incidents", "detect", "--now", NOW.isoformat(), "--json")
        if f.get("action") == "incident opened"
    ]
    iid = str(found["incident_id"])
    cli(
        "incidents",
        "update",
        iid,
        "Card payments were taken twice since 14:00.",
        "--change",
        "every payment now waits for one confirmation before it is charged",
        "--doing",
        "we are refunding every second payment today",
        "--as",
        "lea@example.com",
    )
    drafts = lines("incidents", "statements", iid, "--json")[0]
    assert list(drafts) == ["social_post"]
    post = drafts["social_post"]
    assert post["blocking"] is False
    assert len(post["text"]) <= 280
    assert "sorry" in post["text"].lower()
    bigger = lines("incidents", "statements", iid, "--tier", "press_release", "--json")[0]
    assert list(bigger) == ["social_post", "blog_post", "press_release"]
    for which in ("blog_post", "press_release"):
        text = bigger[which]["text"]
        assert bigger[which]["blocking"] is False
        assert "one confirmation before it is charged" in text  # what will change, everywhere
        assert "help@example.com" in text  # how to reach us
        assert "refunding every second payment" in text
    timeline = lines("incidents", "show", iid, "--json")[0]["timeline"]
    assert timeline[-1]["kind"] == "update"
    assert timeline[-1]["actor"] == "agent:lea@example.com"


def test_resolving_writes_to_every_customer_and_schedules_follow_ups(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path, burst(6, start=NOW - timedelta(minutes=30)))
    cases = sorted(c["id"] for c in lines("cases", "list", "--json", "--now", NOW.isoformat()))
    out = cli(
        "incidents", "open", "Double charges", *[a for c in cases for a in ("--case", str(c))]
    )
    iid = out.split("#")[1].split()[0]
    cli("incidents", "update", iid, "--change", "payments are confirmed once before charging")
    said = cli("incidents", "resolve", iid, "Fixed at 16:00", "--now", NOW.isoformat())
    assert f"{len(cases)} customers written to" in said
    after = lines("cases", "list", "--json", "--now", NOW.isoformat())
    assert {c["status"] for c in after} == {"resolved"}
    follow = lines("followups", "list", "--json")
    assert len(follow) == len(cases)
    history = lines("cases", "history", str(cases[0]), "--json")
    replied = [e for e in history if e["kind"] == "replied"]
    assert replied
    assert replied[0]["data"]["public"] is False
    assert "resolved already" in runner.invoke(app, ["incidents", "resolve", iid]).output


def test_problems_are_verified_by_the_complaint_rate_and_flagged_when_they_return(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    fixed_at = NOW - timedelta(days=10)
    before = [
        complaint(BILLING[i % 2], 100 + i, fixed_at - timedelta(days=13) + timedelta(hours=7 * i))
        for i in range(30)
    ] + [
        complaint(OTHER[i % 2], 200 + i, fixed_at - timedelta(days=13) + timedelta(hours=9 * i))
        for i in range(30)
    ]
    after = [
        complaint(OTHER[i % 2], 300 + i, fixed_at + timedelta(hours=8 * i)) for i in range(28)
    ] + [complaint(BILLING[0], 400, fixed_at + timedelta(days=2))]
    ingest(tmp_path, before + after)
    cli(
        "problems",
        "open",
        "Payments taken twice",
        "--category",
        "billing",
        "--change",
        "payments are confirmed once",
        "--owner",
        "lea@example.com",
    )
    (problem,) = lines("problems", "list", "--json")
    pid = str(problem["id"])
    cli(
        "problems",
        "action",
        "add",
        pid,
        "Add an idempotency key to card captures",
        "--owner",
        "lea@example.com",
        "--due",
        (NOW + timedelta(days=3)).isoformat(),
    )
    cli("problems", "fixed", pid, "--now", fixed_at.isoformat())
    verdict = lines("problems", "verify", pid, "--json", "--now", NOW.isoformat())[0]
    assert verdict["before"] >= 25
    assert verdict["after"] <= 2
    assert verdict["verdict"] == "fixed"
    assert verdict["p_value"] < 0.05
    shown = lines("problems", "show", pid, "--json", "--now", NOW.isoformat())[0]
    assert shown["actions"][0]["owner"] == "lea@example.com"
    assert sum(w["complaints"] for w in shown["weekly"]) >= 25
    # The charges come back: the next detection run flags the cause as recurring.
    back = [complaint(BILLING[i % 2], 500 + i, NOW - timedelta(hours=30 - i)) for i in range(12)]
    ingest(tmp_path, back)
    cli("incidents", "detect", "--now", NOW.isoformat())
    assert lines("problems", "list", "--json")[0]["status"] == "recurring"


def test_trends_report(desk: Callable[[], Engine], tmp_path: Path) -> None:
    ingest(tmp_path, background(days=14))
    cli("incidents", "open", "Something broke")
    found = json.loads(cli("report", "trends", "--json", "--weeks", "4", "--now", NOW.isoformat()))
    assert len(found["weeks"]) == 4
    by_category = found["volume_by_category"]
    assert sum(by_category.pop("(all)").values()) == 28  # two complaints a day for 14 days
    assert sum(sum(weeks.values()) for weeks in by_category.values()) == 28
    assert sum(by_category["billing"].values()) > 0
    assert sum(found["volume_by_channel"]["email"].values()) == 28
    assert [i["title"] for i in found["incidents"]] == ["Something broke"]
    text = cli("report", "trends", "--weeks", "4", "--now", NOW.isoformat())
    assert "billing" in text
    assert "Something broke" in text


def test_incidents_and_problems_over_the_api(client: TestClient) -> None:
    opened = client.post("/api/v1/incidents", json={"title": "Login outage"})
    assert opened.status_code == 201
    iid = opened.json()["id"]
    assert client.post("/api/v1/incidents", json={"title": ""}).status_code == 422
    assert client.post(f"/api/v1/incidents/{iid}/cases", json={"cases": [99999]}).status_code == 404
    up = client.post(
        f"/api/v1/incidents/{iid}/updates",
        json={"what_will_change": "sessions now survive a restart", "agent": "lea@example.com"},
    )
    assert up.status_code == 200
    drafts = client.get(f"/api/v1/incidents/{iid}/statements?tier=blog_post").json()
    assert "Sessions now survive a restart." in drafts["blog_post"]["text"]
    assert client.get("/api/v1/incidents/424242").status_code == 404
    made = client.post(
        "/api/v1/problems", json={"title": "Sessions lost on deploy", "terms": ["logged", "out"]}
    )
    assert made.status_code == 201
    pid = made.json()["id"]
    action = client.post(
        f"/api/v1/problems/{pid}/actions", json={"title": "Sticky sessions", "owner": "ops@x.io"}
    )
    assert action.status_code == 201
    done = client.post(f"/api/v1/problem-actions/{action.json()['id']}", json={"status": "done"})
    assert done.json()["status"] == "done"
    assert client.get(f"/api/v1/problems/{pid}/verification").status_code == 409  # not fixed
    fixed = client.post(f"/api/v1/problems/{pid}/fixed")
    assert fixed.json()["status"] == "fixed"
    assert client.get(f"/api/v1/problems/{pid}").json()["verification"]["verdict"] == "too early"
    linked = client.post(f"/api/v1/problems/{pid}/links", json={"incident_id": iid})
    assert linked.status_code == 200
    assert client.get(f"/api/v1/incidents/{iid}").json()["problem_id"] == pid
    trends = client.get("/api/v1/reports/trends?weeks=2")
    assert trends.status_code == 200
    assert len(trends.json()["weeks"]) == 2
    resolved = client.post(f"/api/v1/incidents/{iid}/resolve", json={})
    assert resolved.json() == {
        "replied": 0,
        "resolved": 0,
        "already_closed": 0,
        "left_open": [],
    }
    assert client.post(f"/api/v1/incidents/{iid}/resolve", json={}).status_code == 409


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


def test_discovery_proposes_problems_from_uncategorised_complaints(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    items = [
        complaint(text, 700 + 10 * k + i, NOW - timedelta(days=2, hours=k * 4 + i))
        for k, texts in enumerate([MUSIC, LIGHTS])
        for i, text in enumerate(texts * 2)
    ]
    ingest(tmp_path, items)
    dry = lines(
        "problems",
        "discover",
        "--days",
        "7",
        "--min-size",
        "3",
        "--dry-run",
        "--json",
        "--now",
        NOW.isoformat(),
    )
    assert len(dry) >= 2
    assert lines("problems", "list", "--json") == []  # a dry run proposes nothing
    labels = " | ".join(t["label"] for t in dry)
    assert "music" in labels
    assert "light" in labels or "parking" in labels
    found = lines(
        "problems", "discover", "--days", "7", "--min-size", "3", "--json", "--now", NOW.isoformat()
    )
    proposed = lines("problems", "list", "--json", "--status", "proposed")
    assert len(proposed) == len(found)
    exported = {row["id"]: row["text"] for row in lines("export", "feedback", "--format", "jsonl")}
    music = next(p for p in proposed if "music" in p["title"])
    assert music["examples"]
    assert all("music" in exported[i].lower() for i in music["examples"])
    cli("problems", "update", str(music["id"]), "--confirm", "--owner", "lea@example.com")
    assert lines("problems", "show", str(music["id"]), "--json")[0]["status"] == "open"


def test_api_bodies_too_large_or_not_json_are_refused(client: TestClient) -> None:
    big = client.post(
        "/api/v1/check",
        content=b'{"text": "' + b"a" * (11 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413
    assert big.json()["code"] == "payload_too_large"
    plain = client.post("/api/v1/check", content=b"hello", headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    broken = client.post(
        "/api/v1/check", content=b'{"text": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == "malformed_request"
    naive = client.post("/api/v1/problems", json={"title": "Late"}).json()["id"]
    late = client.post(
        f"/api/v1/problems/{naive}/actions",
        json={"title": "Fix", "owner": "a@b.io", "due_at": "2026-12-01T10:00:00"},
    )
    assert late.status_code == 422  # a due time needs its zone


def test_a_case_is_in_one_open_incident_at_a_time(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path, burst(2, start=NOW - timedelta(minutes=30)))
    first, second = sorted(
        c["id"] for c in lines("cases", "list", "--json", "--now", NOW.isoformat())
    )
    cli("incidents", "open", "One", "--case", str(first))
    cli("incidents", "open", "Two")
    refused = runner.invoke(app, ["incidents", "add-cases", "2", str(first), str(second)])
    assert refused.exit_code == 1
    assert "in open incident 1" in refused.output
