"""Drafting, checking and sending replies on real cases, through the CLI and the API."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from amends.cli import app
from amends.models import CaseEvent, ReplyFinding
from amends.replies.checker import ReplyContext, check_reply

runner = CliRunner()
NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)

PLAYBOOK = """
name: replies desk
teams:
  - name: Care
    lead: lea@example.com
    agents:
      - {name: Lea Lead, email: lea@example.com, capacity: 50}
      - {name: Sam Agent, email: sam@example.com, capacity: 50}
default_team: Care
assignment: {auto: false}
sla:
  calendar: 24/7
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
checker:
  rules:
    missing_apology: {severity: block}
compensation:
  currency: GBP
  sign_of_apology_from: 3
  amounts: {3: 15, 4: 40}
  remedies:
    billing: [refund, voucher]
    delivery_delay: [refund, replacement, discount]
"""

DELAY = "My parcel still hasn't arrived after two weeks and nobody answers my emails."


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


@pytest.fixture
def desk(cli_env: Callable[[], Engine], tmp_path: Path) -> Callable[[], Engine]:
    book = tmp_path / "playbook.yaml"
    book.write_text(PLAYBOOK, encoding="utf-8")
    cli("playbook", "import", str(book), "--now", NOW.isoformat())
    return cli_env


def ingest(tmp_path: Path, items: list[dict[str, Any]]) -> None:
    path = tmp_path / f"batch-{len(list(tmp_path.glob('batch-*')))}.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    cli("ingest", str(path), "--json", "--now", NOW.isoformat())


def cases() -> list[dict[str, Any]]:
    out = cli("cases", "list", "--json", "--now", NOW.isoformat())
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def first_response(case: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in case["deadlines"] if d["clock"] == "first_response")
    return found


def draft(case_id: int) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        cli("draft", str(case_id), "--json", "--now", NOW.isoformat())
    )
    return found


def complaint(text: str, *, name: str, email: str, **extra: Any) -> dict[str, Any]:
    return {
        "text": text,
        "author_name": name,
        "email": email,
        "received_at": NOW.isoformat(),
        "channel": "email",
        **extra,
    }


def test_drafts_are_personal_pass_the_checker_and_differ_between_customers(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(
        tmp_path,
        [
            complaint(DELAY, name="Siobhán Kelly", email="siobhan@example.com"),
            complaint(DELAY, name="Marcus Webb", email="marcus@example.com"),
        ],
    )
    first, second = (draft(c["id"]) for c in sorted(cases(), key=lambda c: c["id"]))
    for d, name in ((first, "Siobhán"), (second, "Marcus")):
        assert d["public"] is None  # an email complaint needs no public reply
        assert d["blocking"] is False
        assert not [f for f in d["findings"] if f["severity"] == "block"]
        assert d["private"].startswith(("Hi", "Hello", "Dear", name))
        assert name in d["private"]
        assert "your parcel still hasn't arrived" in d["private"]  # their words, turned to them
    assert first["private"].replace("Siobhán", "X") != second["private"].replace("Marcus", "X")


def test_a_public_complaint_gets_a_short_public_reply_without_private_details(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(
        tmp_path,
        [
            {
                "text": "@shop you charged me twice for order 99812345, email me at "
                "kim.lee@example.com. Refund it now!",
                "handle": "@kimlee",
                "channel": "x",
                "received_at": NOW.isoformat(),
            }
        ],
    )
    (case,) = cases()
    d = draft(case["id"])
    public = d["public"]
    assert public is not None
    assert public.startswith("@kimlee ")
    assert len(public) <= 280
    assert "99812345" not in public
    assert "kim.lee@example.com" not in public
    assert "direct message" in public
    recheck = check_reply(public, ReplyContext(public=True, channel="x"))
    assert "private_details_in_public" not in {f.rule.value for f in recheck.findings}
    assert d["offer"]["fix"] == "refund"  # they asked for it and billing allows it
    assert "refund" in d["private"]


def test_options_when_there_is_no_single_fix(desk: Callable[[], Engine], tmp_path: Path) -> None:
    ingest(tmp_path, [complaint(DELAY, name="Ines Ruiz", email="ines@example.com")])
    (case,) = cases()
    d = draft(case["id"])
    if d["offer"]["fix"] is None:
        assert len(d["offer"]["options"]) >= 2
        assert " or " in d["private"]


def test_sending_stops_on_a_blocking_finding_unless_overridden(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path, [complaint(DELAY, name="Ines Ruiz", email="ines@example.com")])
    (case,) = cases()
    cid = str(case["id"])
    when = ("--now", NOW.isoformat())
    defensive = "Our records show the parcel was delivered. You should have checked your porch."
    result = runner.invoke(
        app, ["cases", "reply", cid, defensive, "--as", "sam@example.com", *when]
    )
    assert result.exit_code == 1
    assert "defensive" in result.output
    assert "blames_customer" in result.output
    assert cases()[0]["status"] == "new"  # nothing was sent
    out = cli(
        "cases",
        "reply",
        cid,
        defensive,
        "--as",
        "sam@example.com",
        "--override",
        "customer asked for the carrier's record",
        *when,
    )
    assert "reply" in out
    history = [
        json.loads(line)
        for line in cli("cases", "history", cid, "--json").splitlines()
        if line.strip()
    ]
    overridden = [e for e in history if e["kind"] == "check_overridden"]
    assert overridden
    assert overridden[0]["reason"] == "customer asked for the carrier's record"
    eng = desk()
    with eng.connect() as conn:
        rules = set(conn.scalars(select(ReplyFinding.rule)))
        assert {"defensive", "blames_customer"} <= rules
        kinds = set(conn.scalars(select(CaseEvent.kind)))
        assert "check_overridden" in kinds


def test_a_public_case_needs_a_public_reply_to_be_acknowledged_and_a_private_one_to_resolve(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(
        tmp_path,
        [
            {
                "text": "@shop my order arrived smashed",
                "handle": "@bo",
                "channel": "x",
                "received_at": NOW.isoformat(),
            }
        ],
    )
    (case,) = cases()
    cid = str(case["id"])
    when = ("--now", NOW.isoformat())
    private = "I'm sorry your order arrived smashed; that's on us. A new one ships today. Thanks."
    cli("cases", "reply", cid, private, "--private", "--as", "sam@example.com", *when)
    assert cases()[0]["status"] == "new"
    assert first_response(cases()[0])["met_at"] is None
    public = "@bo We're sorry your order arrived smashed - that's on us. Please DM us. Thanks."
    cli("cases", "reply", cid, public, "--as", "sam@example.com", *when)
    assert cases()[0]["status"] == "acknowledged"
    assert first_response(cases()[0])["met_at"] is not None
    cli("cases", "resolve", cid, "--as", "sam@example.com", *when)


def test_resolving_a_public_case_without_a_private_reply_is_refused(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(
        tmp_path,
        [
            {
                "text": "@shop app crashes",
                "handle": "@cy",
                "channel": "x",
                "received_at": NOW.isoformat(),
            }
        ],
    )
    (case,) = cases()
    result = runner.invoke(app, ["cases", "resolve", str(case["id"]), "--now", NOW.isoformat()])
    assert result.exit_code == 1
    assert "private reply" in result.output


def test_check_command_reads_files_and_sets_the_exit_status(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(
        "Hi Ana, I'm sorry we charged you twice - our mistake. I've refunded it today. Thanks.",
        encoding="utf-8",
    )
    said = tmp_path / "complaint.txt"
    said.write_text("You charged me twice!", encoding="utf-8")
    out = cli("check", str(good), "--customer-name", "Ana", "--complaint-file", str(said), "--json")
    assert json.loads(out) == {"blocking": False, "findings": []}
    bad = tmp_path / "bad.txt"
    bad.write_text("Dear valued customer, here is a voucher!!!", encoding="utf-8")
    result = runner.invoke(app, ["check", str(bad), "--json"])
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert found["blocking"] is True
    assert {"form_letter", "hostile_tone", "perk_without_apology"} <= {
        f["rule"] for f in found["findings"]
    }
    piped = runner.invoke(app, ["check", "-"], input="Sorry, that's on us. Thanks!")
    assert piped.exit_code == 0
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Désolé".encode("latin-1"))
    wrong = runner.invoke(app, ["check", str(latin)])
    assert wrong.exit_code == 2
    assert "not UTF-8" in wrong.output
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    assert "empty" in runner.invoke(app, ["check", str(empty)]).output
    tweet = tmp_path / "tweet.txt"
    tweet.write_text("Sorry, that's on us. " + "We will fix it today. " * 14, encoding="utf-8")
    long = runner.invoke(app, ["check", str(tweet), "--public", "--channel", "x", "--json"])
    assert "too_long_for_channel" in {f["rule"] for f in json.loads(long.stdout)["findings"]}


def test_the_api_checks_drafts_and_gates_replies(client: TestClient) -> None:
    found = client.post(
        "/api/v1/check",
        json={"text": "We're sorry you feel that way.", "complaint": "You lost my parcel"},
    )
    assert found.status_code == 200
    body = found.json()
    assert body["blocking"] is True
    assert "non_apology" in {f["rule"] for f in body["findings"]}
    assert client.post("/api/v1/check", json={"text": ""}).status_code == 422
    assert client.post("/api/v1/check", json={"text": "x", "tone": "warm"}).status_code == 422
    sent = client.post(
        "/api/v1/feedback",
        json={
            "text": DELAY,
            "email": "ines@example.com",
            "author_name": "Ines Ruiz",
            "channel": "email",
        },
    )
    assert sent.status_code in (200, 201), sent.text
    case_id = client.get("/api/v1/cases").json()["items"][0]["id"]
    drafted = client.get(f"/api/v1/cases/{case_id}/draft")
    assert drafted.status_code == 200
    d = drafted.json()
    assert d["blocking"] is False
    assert "Ines" in d["private"]
    blocked = client.post(
        f"/api/v1/cases/{case_id}/replies", json={"text": "The courier lost it, not us."}
    )
    assert blocked.status_code == 422
    assert blocked.json()["code"] == "reply_blocked"
    assert "blame_shifting" in {f["rule"] for f in blocked.json()["findings"]}
    ok = client.post(f"/api/v1/cases/{case_id}/replies", json={"text": d["private"]})
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "acknowledged"
    assert client.get("/api/v1/cases/999999/draft").status_code == 404
