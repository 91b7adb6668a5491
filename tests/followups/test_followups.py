"""The follow-up loop as a customer and an operator live it: a case is resolved, `tick` mails
the customer a survey link (to a real SMTP server), the link's page asks without recording,
and the answer closes the case or reopens it and tells its owner. Time moves only by --now and
the app's clock."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from amends.api.app import create_app
from amends.cli import app
from amends.config import get_settings
from amends.models import Agent, Notification, OutboundMail
from tests.conftest import admin_token
from tests.outbound.servers import SmtpRecorder, free_port

runner = CliRunner()
PUBLIC_URL = "https://help.example.org"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026 (UTC; London keeps GMT then). The 2nd is a Monday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


PLAYBOOK = """
name: follow-up desk
calendars:
  office:
    timezone: Europe/London
    hours: {mon: "09:00-17:00", tue: "09:00-17:00", wed: "09:00-17:00", thu: "09:00-17:00",
            fri: "09:00-17:00"}
teams:
  - name: Payments
    categories: [billing, refunds]
    lead: lead@example.com
    agents:
      - {name: Lea Lead, email: lead@example.com, capacity: 5}
      - {name: Ann Agent, email: ann@example.com, capacity: 5}
default_team: Payments
sla:
  calendar: office
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h, calendar: 24/7}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
follow_up: {delay: 2d, survey: csat, expires_after: 7d, close_without_answer: true}
"""
DELAY = timedelta(days=2)
EXPIRES = timedelta(days=7)
BILLING = "You charged me twice for my order, please refund the second payment."


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def json_lines(*args: str) -> list[Any]:
    return [json.loads(line) for line in cli(*args, "--json").splitlines() if line.strip()]


@dataclass
class Desk:
    """The desk under test: its database, its SMTP server, and its web pages."""

    engine: Engine
    smtp: SmtpRecorder
    web: TestClient
    moment: list[datetime]  # the web app's clock
    inbox: Path

    def now(self, when: datetime) -> None:
        self.moment[0] = when

    def ingest(self, item: dict[str, Any], *, now: datetime) -> int:
        """Ingest one complaint; the id of the case it opened."""
        path = self.inbox / f"batch-{len(list(self.inbox.iterdir()))}.jsonl"
        path.write_text(json.dumps(item) + "\n", encoding="utf-8")
        summary = json.loads(
            cli("ingest", str(path), "--json", "--now", now.isoformat()).splitlines()[-1]
        )
        assert summary["cases_opened"] == 1, summary
        cases = json_lines("cases", "list")
        return max(c["id"] for c in cases)

    def case(self, case_id: int) -> dict[str, Any]:
        found: dict[str, Any] = json_lines("cases", "show", str(case_id))[0]
        return found

    def followup(self, case_id: int) -> dict[str, Any]:
        rows = [f for f in json_lines("followups", "list") if f["case_id"] == case_id]
        assert len(rows) == 1, rows
        return rows[0]

    def tick(self, now: datetime) -> dict[str, Any]:
        stats: dict[str, Any] = json_lines("tick", "--now", now.isoformat())[0]
        return stats

    def mails_to(self, address: str) -> list[Any]:
        return [
            m
            for m, (_, rcpts) in zip(self.smtp.messages, self.smtp.envelopes, strict=True)
            if address in rcpts
        ]

    def notifications(self, case_id: int) -> list[tuple[str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Notification.kind, Agent.email)
                .join(Agent, Agent.id == Notification.agent_id)
                .where(Notification.case_id == case_id)
                .order_by(Notification.id)
            ).all()
        return [(kind, email) for kind, email in rows]


LINK = re.compile(re.escape(PUBLIC_URL) + r"/survey/([A-Za-z0-9_.\-]+)")


def token_in(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found.group(1)


@pytest.fixture
def desk(
    cli_env: Callable[[], Engine], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Desk]:
    handler = SmtpRecorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("AMENDS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AMENDS_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("AMENDS_SMTP_TIMEOUT", "5")
    monkeypatch.setenv("AMENDS_MAIL_FROM", "Care <care@example.org>")
    monkeypatch.setenv("AMENDS_PUBLIC_URL", PUBLIC_URL + "/")  # a trailing slash is tolerated
    get_settings.cache_clear()
    book = tmp_path / "playbook.yaml"
    book.write_text(PLAYBOOK, encoding="utf-8")
    cli("playbook", "import", str(book), "--now", at(2, 8).isoformat())
    inbox = tmp_path / "in"
    inbox.mkdir()
    engine = cli_env()
    moment = [at(2, 9)]
    web_app = create_app(get_settings(), engine=engine, clock=lambda: moment[0])
    try:
        with TestClient(web_app) as web:
            web.headers["Authorization"] = f"Bearer {admin_token(engine)}"
            yield Desk(engine, handler, web, moment, inbox)
    finally:
        controller.stop()
        get_settings.cache_clear()


def complaint(
    when: datetime, *, email: str | None = "kim@example.com", **extra: Any
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "text": BILLING,
        "author_name": "Kim Lee",
        "received_at": when.isoformat(),
        "channel": "email",
        **extra,
    }
    if email is not None:
        item["email"] = email
    return item


PRIVATE_REPLY = (
    "I'm sorry we charged you twice; that was our mistake. I've refunded the second charge "
    "today. Thank you for telling us."
)


def resolved_and_sent(desk: Desk, item: dict[str, Any]) -> tuple[int, datetime]:
    """Ingest on Monday morning, resolve at 11:00, tick just past the follow-up's delay.
    Returns the case id and when the follow-up went out."""
    case_id = desk.ingest(item, now=at(2, 10))
    if item.get("channel") == "x":  # a public complaint is resolved after a private reply
        cli(
            "cases",
            "reply",
            str(case_id),
            PRIVATE_REPLY,
            "--private",
            "--as",
            "ann@example.com",
            "--now",
            at(2, 10, 30).isoformat(),
        )
    cli("cases", "resolve", str(case_id), "--as", "ann@example.com", "--now", at(2, 11).isoformat())
    assert desk.tick(at(2, 11) + DELAY - timedelta(minutes=1))["by_kind"] == {}  # not yet
    stats = desk.tick(at(2, 11) + DELAY + timedelta(minutes=1))
    assert stats["by_kind"].get("followup.send") == 1
    return case_id, at(2, 11) + DELAY


def ask(desk: Desk, token: str) -> str:
    page = desk.web.get(f"/survey/{token}")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    return page.text


def answer(desk: Desk, token: str, score: int | str, **form: str) -> Any:
    return desk.web.post(f"/survey/{token}", data={"score": str(score), **form})


def buttons(page: str) -> list[int]:
    return [int(v) for v in re.findall(r'<button type="submit" name="score" value="(\d+)"', page)]


# ---- the loop ---------------------------------------------------------------------------------


def test_resolving_sends_a_check_in_mail_whose_page_asks_without_recording(desk: Desk) -> None:
    case_id, sent_at = resolved_and_sent(desk, complaint(at(2, 9, 30)))
    mails = desk.mails_to("kim@example.com")
    assert len(mails) == 1
    mail = mails[0]
    assert mail["To"] == "kim@example.com"
    assert f"case {case_id}" in mail["Subject"]
    body = mail.get_content()
    assert body.startswith("Hi Kim,")
    token = token_in(body)
    assert f"{PUBLIC_URL}/survey/{token}" in body  # no doubled slash from the configured URL
    row = desk.followup(case_id)
    assert row["status"] == "sent"
    assert row["by_mail"] is True
    assert row["sent_at"] == sent_at.isoformat()
    assert row["scale"] == "csat"

    # A mail scanner (or the customer) opening the link only sees the question.
    desk.now(sent_at + timedelta(hours=1))
    for _ in range(2):
        page = ask(desk, token)
        assert "Is it sorted?" in page
        assert buttons(page) == [1, 2, 3, 4, 5]
        assert 'method="post"' in page
    assert desk.followup(case_id)["status"] == "sent"
    assert desk.followup(case_id)["score"] is None
    assert desk.case(case_id)["status"] == "resolved"
    # The check-in is sent once: ticking again sends nothing more.
    assert desk.tick(sent_at + timedelta(hours=2))["by_kind"] == {}
    assert len(desk.mails_to("kim@example.com")) == 1


def test_a_bad_answer_reopens_the_case_and_tells_its_owner_once(desk: Desk) -> None:
    case_id, sent_at = resolved_and_sent(desk, complaint(at(2, 9, 30)))
    token = token_in(desk.mails_to("kim@example.com")[0].get_content())
    assignee = desk.case(case_id)["assignee"]
    assert assignee in ("ann@example.com", "lead@example.com")

    desk.now(sent_at + timedelta(hours=3))
    page = answer(desk, token, 1, comment="Still charged twice.")
    assert page.status_code == 200
    assert "open again" in page.text

    case = desk.case(case_id)
    assert case["status"] == "in_progress"
    assert case["reopened_count"] == 1
    assert any(d["clock"] == "resolution" and d["met_at"] is None for d in case["deadlines"])
    history = json_lines("cases", "history", str(case_id))
    reopen = [e for e in history if e["to"] == "in_progress"]
    assert len(reopen) == 1
    assert reopen[0]["from"] == "resolved"
    assert reopen[0]["actor"] == "customer"
    assert reopen[0]["reason"] == "unhappy with the fix: CSAT 1"
    answered = [e for e in history if e["kind"] == "survey_answered"]
    assert [e["data"]["score"] for e in answered] == [1]
    row = desk.followup(case_id)
    assert (row["status"], row["score"]) == ("answered", 1)
    assert row["answered_at"] == (sent_at + timedelta(hours=3)).isoformat()

    notes = desk.notifications(case_id)
    assert {kind for kind, _ in notes} == {"bad_survey"}
    assert {email for _, email in notes} == {assignee, "lead@example.com"}
    # The owners hear by mail on the next tick; the customer gets no thank-you.
    desk.tick(sent_at + timedelta(hours=3, minutes=1))
    for email in {assignee, "lead@example.com"}:
        told = desk.mails_to(email)
        assert len(told) == 1
        assert f"case #{case_id} reopened" in told[0]["Subject"]
        assert "CSAT 1" in told[0]["Subject"]
    assert len(desk.mails_to("kim@example.com")) == 1  # only the check-in

    # A second press (even of another score) changes nothing.
    again = answer(desk, token, 5)
    assert again.status_code == 200
    assert "open again" in again.text
    assert desk.case(case_id)["status"] == "in_progress"
    assert desk.case(case_id)["reopened_count"] == 1
    assert desk.followup(case_id)["score"] == 1
    assert len(desk.notifications(case_id)) == len(notes)
    assert ask(desk, token).count("<button") == 0  # the page now thanks instead of asking


def test_a_good_answer_closes_the_case_and_thanks_the_customer(desk: Desk) -> None:
    case_id, sent_at = resolved_and_sent(desk, complaint(at(2, 9, 30), email="jo@example.com"))
    token = token_in(desk.mails_to("jo@example.com")[0].get_content())
    desk.now(sent_at + timedelta(days=1))
    page = answer(desk, token, 5)
    assert page.status_code == 200
    assert "Thank you" in page.text
    assert "open again" not in page.text
    case = desk.case(case_id)
    assert case["status"] == "closed"
    assert case["reopened_count"] == 0
    assert desk.followup(case_id)["score"] == 5
    assert desk.notifications(case_id) == []
    desk.tick(sent_at + timedelta(days=1, minutes=1))
    mails = desk.mails_to("jo@example.com")
    assert [m["Subject"] for m in mails][1:] == ["Thank you"]
    assert mails[1].get_content().startswith("Hi Kim,")
    # The expiry timer was cancelled: a week later nothing fires for this case.
    assert desk.tick(sent_at + EXPIRES + timedelta(hours=1))["by_kind"] == {}


def test_a_tampered_or_foreign_link_is_not_found(desk: Desk) -> None:
    case_id, sent_at = resolved_and_sent(desk, complaint(at(2, 9, 30)))
    token = token_in(desk.mails_to("kim@example.com")[0].get_content())
    desk.now(sent_at + timedelta(hours=1))
    payload, _, signature = token.rpartition(".")

    def swap(text: str) -> str:  # a full character changed (a final one may only carry padding)
        return ("X" if text[0] != "X" else "Y") + text[1:]

    tampered = (f"{swap(payload)}.{signature}", f"{payload}.{swap(signature)}", signature)
    overlong = token + "x" * 600
    for bad in (*tampered, "not-a-token", token.replace(".", "x", 1), overlong):
        page = desk.web.get(f"/survey/{bad}")
        assert page.status_code == 404
        assert "Link not found" in page.text
        posted = answer(desk, bad, 1)
        assert posted.status_code == 404
        assert "Link not found" in posted.text
    assert desk.followup(case_id)["status"] == "sent"
    assert desk.case(case_id)["status"] == "resolved"


def test_an_expired_link_is_gone_and_the_unanswered_case_closes(desk: Desk) -> None:
    case_id, sent_at = resolved_and_sent(desk, complaint(at(2, 9, 30)))
    token = token_in(desk.mails_to("kim@example.com")[0].get_content())
    expiry = sent_at + EXPIRES
    # Past its expiry the link is refused even before a tick has run ...
    desk.now(expiry)
    assert desk.web.get(f"/survey/{token}").status_code == 410
    # ... and the tick closes the case for want of an answer.
    assert desk.tick(expiry + timedelta(minutes=1))["by_kind"] == {"followup.expire": 1}
    row = desk.followup(case_id)
    assert row["status"] == "expired"
    case = desk.case(case_id)
    assert case["status"] == "closed"
    closing = [e for e in json_lines("cases", "history", str(case_id)) if e["to"] == "closed"]
    assert closing[0]["reason"] == "no answer to the follow-up"
    desk.now(expiry + timedelta(hours=1))
    page = desk.web.get(f"/survey/{token}")
    assert page.status_code == 410
    assert "This link has expired" in page.text
    late = answer(desk, token, 1)
    assert late.status_code == 410
    assert desk.case(case_id)["status"] == "closed"
    assert desk.case(case_id)["reopened_count"] == 0
    assert desk.followup(case_id)["score"] is None


@pytest.mark.parametrize("score", ["0", "6", "11", "-1", "five", ""])
def test_a_score_off_the_scale_is_refused_and_nothing_recorded(desk: Desk, score: str) -> None:
    case_id, sent_at = resolved_and_sent(desk, complaint(at(2, 9, 30)))
    token = token_in(desk.mails_to("kim@example.com")[0].get_content())
    desk.now(sent_at + timedelta(hours=1))
    page = answer(desk, token, score)
    assert page.status_code == 422
    assert "text/html" in page.headers["content-type"]
    assert "Please pick a score" in page.text
    assert desk.followup(case_id)["status"] == "sent"
    assert desk.case(case_id)["status"] == "resolved"
    assert buttons(ask(desk, token)) == [1, 2, 3, 4, 5]  # the customer can still answer


def test_nps_survey_asks_zero_to_ten_and_promoters_close_detractors_reopen(
    desk: Desk, tmp_path: Path
) -> None:
    book = tmp_path / "nps.yaml"
    book.write_text(PLAYBOOK.replace("survey: csat", "survey: nps"), encoding="utf-8")
    assert "version 2" in cli("playbook", "import", str(book), "--now", at(2, 8).isoformat())
    promoter = desk.ingest(complaint(at(2, 9), email="pro@example.com"), now=at(2, 9, 5))
    detractor = desk.ingest(complaint(at(2, 9), email="det@example.com"), now=at(2, 9, 5))
    for case_id in (promoter, detractor):
        cli("cases", "resolve", str(case_id), "--now", at(2, 11).isoformat())
    assert desk.tick(at(4, 11, 1))["by_kind"] == {"followup.send": 2}
    desk.now(at(4, 12))
    tokens = {
        email: token_in(desk.mails_to(email)[0].get_content())
        for email in ("pro@example.com", "det@example.com")
    }
    page = ask(desk, tokens["pro@example.com"])
    assert buttons(page) == list(range(11))
    assert "recommend" in page
    assert desk.followup(promoter)["scale"] == "nps"

    assert answer(desk, tokens["pro@example.com"], 9).status_code == 200
    assert answer(desk, tokens["det@example.com"], 6).status_code == 200
    assert desk.case(promoter)["status"] == "closed"
    detracted = desk.case(detractor)
    assert (detracted["status"], detracted["reopened_count"]) == ("in_progress", 1)
    reasons = [e["reason"] for e in json_lines("cases", "history", str(detractor))]
    assert "unhappy with the fix: NPS 6" in reasons
    assert [k for k, _ in desk.notifications(detractor)][:1] == ["bad_survey"]
    assert desk.notifications(promoter) == []


def test_a_customer_without_email_gets_a_link_for_an_agent_to_pass_on(desk: Desk) -> None:
    item = {
        "text": "@shop you charged me twice and nobody answers my DMs",
        "handle": "@bram",
        "channel": "x",
        "received_at": at(2, 9, 30).isoformat(),
    }
    case_id, sent_at = resolved_and_sent(desk, item)
    row = desk.followup(case_id)
    assert row["status"] == "sent"
    assert row["by_mail"] is False
    assert desk.smtp.raw == []  # nothing was mailed, and nothing waits in the outbox
    with desk.engine.connect() as conn:
        assert conn.execute(select(OutboundMail.id)).all() == []
    history = json_lines("cases", "history", str(case_id))
    assert [e["to"] for e in history if e["kind"] == "followup_sent"] == ["link"]

    link = cli("followups", "link", str(row["id"]), "--now", sent_at.isoformat()).strip()
    assert link.startswith(f"{PUBLIC_URL}/survey/")
    token = token_in(link)
    desk.now(sent_at + timedelta(hours=1))
    assert buttons(ask(desk, token)) == [1, 2, 3, 4, 5]
    assert answer(desk, token, 4).status_code == 200
    assert desk.case(case_id)["status"] == "closed"
    desk.tick(sent_at + timedelta(hours=2))
    assert desk.smtp.raw == []  # no address: no thank-you mail either
    # Once answered, there is no link left to pass on.
    refused = runner.invoke(app, ["followups", "link", str(row["id"])])
    assert refused.exit_code == 1
    assert "answered" in refused.output


def test_the_survey_page_escapes_the_case_subject(desk: Desk) -> None:
    subject = "<script>alert('x')</script> double charge"
    _, sent_at = resolved_and_sent(desk, complaint(at(2, 9, 30), subject=subject))
    token = token_in(desk.mails_to("kim@example.com")[0].get_content())
    desk.now(sent_at + timedelta(hours=1))
    page = ask(desk, token)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; double charge" in page


def test_a_bad_answer_about_a_merged_case_reopens_the_case_it_lives_on(desk: Desk) -> None:
    first, sent_at = resolved_and_sent(desk, complaint(at(2, 9, 30)))
    token = token_in(desk.mails_to("kim@example.com")[0].get_content())
    # Kim writes again about the same charge; the agent folds the old case into the new one.
    later = sent_at + timedelta(hours=1)
    second = desk.ingest(complaint(later, text="Charged twice AGAIN."), now=later)
    assert second != first
    cli("cases", "merge", str(second), str(first), "--now", later.isoformat())
    cli("cases", "resolve", str(second), "--now", (later + timedelta(hours=1)).isoformat())
    desk.now(later + timedelta(hours=2))
    page = answer(desk, token, 1)
    assert page.status_code == 200, page.text
    assert "open again" in page.text
    survivor = desk.case(second)
    assert (survivor["status"], survivor["reopened_count"]) == ("in_progress", 1)
    merged = desk.case(first)
    assert (merged["status"], merged["merged_into"]) == ("closed", second)
    assert ("bad_survey", "lead@example.com") in desk.notifications(second)
