"""The web desk in a real browser, on the demo's data: sign in, open the top case of the queue,
type a defensive reply and see it marked, fix it, send it, and see the case acknowledged with
its first-response clock stopped; an agent cannot open another team's case; markup in a
complaint is shown as text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from amends.cases.models import Case
from amends.cases.rules import CaseStatus
from amends.config import Settings
from amends.db import session_scope, utcnow
from amends.demo import load_demo
from amends.feedback.service import IngestLimits
from amends.teams.models import Team

DEFENSIVE = "As per our policy, you should have read the terms. It is not our fault."


@pytest.fixture
def demo_password(engine: Engine) -> str:
    """The demo desk, loaded as `amends demo` loads it; the password its accounts share."""
    loaded = load_demo(
        engine,
        count=30,
        now=utcnow(),
        settings=Settings(database_url="sqlite://"),
        limits=IngestLimits(100_000, "US"),
    )
    return loaded.password


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/queue$"))


def test_answer_the_top_case_of_the_queue(
    page: Page, demo_password: str, console_errors: list[str]
) -> None:
    sign_in(page, "priya@example.com", demo_password)
    # The most urgent case nobody has answered yet.
    page.get_by_label("Status").select_option("new")
    page.get_by_role("button", name="Filter").click()
    top = page.locator("table.queue tbody tr").first.locator("a").first
    top.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    first_response = page.locator(".clock", has_text="First response")
    expect(first_response.locator("time.countdown")).to_have_text(re.compile(r"due in|overdue"))

    # A public complaint is acknowledged by a public reply; a private one by its only composer.
    composer = page.locator("form#composer-public")
    if composer.count() == 0:
        composer = page.locator("form#composer-private")
    box = composer.locator("textarea")
    draft = box.input_value()
    assert draft, "the composer starts from the draft"

    box.fill(DEFENSIVE)
    status = composer.locator(".check-status")
    expect(status).to_contain_text("block")
    marks = composer.locator(".hl-backdrop mark.sev-block")
    expect(marks.first).to_be_visible()
    assert "fault" in " ".join(marks.all_text_contents()) or marks.count() >= 1
    expect(composer.locator(".findings")).to_contain_text("blames customer")

    box.fill(draft)
    expect(status).not_to_contain_text("block")
    composer.get_by_role("button", name=re.compile("^Send")).click()

    expect(page.locator(".notice")).to_be_visible()
    expect(page.locator(".case-head .badge.status")).to_have_text(re.compile("acknowledged", re.I))
    met = page.locator(".clock.met", has_text="First response")
    expect(met).to_be_visible()
    expect(met.locator("time.countdown")).to_have_count(0)
    assert console_errors == []


def test_an_agent_cannot_open_another_teams_case(
    page: Page, demo_password: str, engine: Engine, console_errors: list[str]
) -> None:
    with session_scope(engine) as s:
        deliveries = s.scalar(
            select(Case.id)
            .join(Team, Case.team_id == Team.id)
            .where(Team.name == "Deliveries", Case.status != CaseStatus.CLOSED)
            .limit(1)
        )
    assert deliveries is not None, "the demo has Deliveries cases"
    sign_in(page, "tom@example.com", demo_password)
    links = page.locator("table.queue tbody a").all_inner_texts()
    assert all(not t.startswith(f"#{deliveries} ") for t in links)
    answer = page.goto(f"/cases/{deliveries}")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not yours to open")
    # The browser reports the 403 itself; nothing else may go wrong on the page.
    assert all("403" in e for e in console_errors)


def test_markup_in_a_complaint_is_shown_as_text(
    page: Page, demo_password: str, console_errors: list[str]
) -> None:
    hostile = 'Refund me <script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    sign_in(page, "priya@example.com", demo_password)
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    sent = page.request.post(
        "/api/v1/feedback",
        data={"text": hostile, "email": "mallory@example.com", "author_name": "Mallory"},
        headers={"X-CSRF-Token": csrf},
    )
    assert sent.ok, sent.text()
    page.get_by_label("Search").fill("mallory")
    page.get_by_role("button", name="Filter").click()
    page.locator("table.queue tbody a").first.click()
    expect(page.locator(".timeline")).to_contain_text("<script>window.__pwned=1</script>")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator(".timeline script, .timeline img").count() == 0
    assert console_errors == []
