"""The customer's survey page in a real browser: the question, a press of a score button, the
thanks, and the answer in the database; complaint text with markup shows as text."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.cases.rules import CaseStatus
from amends.customers.models import Customer
from amends.feedback.rules import Channel
from amends.followups import service as followups
from amends.followups.models import FollowUp, FollowUpStatus, SurveyScale
from tests.browser.conftest import LiveServer
from tests.conftest import FIXED_NOW

SENT_AT = FIXED_NOW - timedelta(days=1)
HOSTILE = 'Refund <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> please'


@pytest.fixture
def live_clock() -> Callable[[], datetime]:
    return lambda: FIXED_NOW


def survey_link(session: Session, *, subject: str) -> tuple[int, int, str]:
    """A resolved case whose check-in went out yesterday; its id, the follow-up's id and the
    signed token of its survey link. Committed, so that the server sees it."""
    customer = Customer(name="Kim Lee", created_at=SENT_AT - timedelta(days=5))
    session.add(customer)
    session.flush()
    case = Case(
        customer_id=customer.id,
        status=CaseStatus.RESOLVED,
        subject=subject,
        channel=Channel.EMAIL,
        public=False,
        opened_at=SENT_AT - timedelta(days=3),
        updated_at=SENT_AT - timedelta(days=2),
        resolved_at=SENT_AT - timedelta(days=2),
    )
    session.add(case)
    session.flush()
    row = FollowUp(
        case_id=case.id,
        status=FollowUpStatus.SENT,
        scale=SurveyScale.CSAT,
        nonce=secrets.token_urlsafe(16),
        to_addr="kim@example.com",
        due_at=SENT_AT,
        sent_at=SENT_AT,
        expires_at=SENT_AT + timedelta(days=7),
        created_at=SENT_AT - timedelta(days=2),
    )
    session.add(row)
    session.flush()
    token = followups.sign(session, row, now=SENT_AT, secret=None)
    session.commit()
    return case.id, row.id, token


def test_a_customer_answers_the_survey_with_one_press(
    session: Session, live_server: LiveServer, page: Page, console_errors: list[str]
) -> None:
    case_id, followup_id, token = survey_link(session, subject="Charged twice for one order")

    page.goto(f"/survey/{token}")
    expect(page.get_by_role("heading", name="Is it sorted?")).to_be_visible()
    expect(page.locator("main em")).to_have_text("Charged twice for one order")
    scores = page.locator('button[name="score"]')
    expect(scores).to_have_text(["1", "2", "3", "4", "5"])

    page.get_by_label("Anything to add?").fill("Sorted, thanks.")
    page.get_by_role("button", name="4", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("open again")
    expect(page.locator('button[name="score"]')).to_have_count(0)

    answered = session.execute(
        select(FollowUp.status, FollowUp.score, FollowUp.comment, FollowUp.answered_at).where(
            FollowUp.id == followup_id
        )
    ).one()
    assert tuple(answered) == (FollowUpStatus.ANSWERED, 4, "Sorted, thanks.", FIXED_NOW)
    assert session.scalar(select(Case.status).where(Case.id == case_id)) is CaseStatus.CLOSED
    assert console_errors == []


def test_markup_in_the_complaint_shows_as_text_and_never_runs(
    session: Session, live_server: LiveServer, page: Page, console_errors: list[str]
) -> None:
    _, _, token = survey_link(session, subject=HOSTILE)

    page.goto(f"/survey/{token}")
    expect(page.get_by_role("heading", name="Is it sorted?")).to_be_visible()
    expect(page.locator("main em")).to_have_text(HOSTILE)
    expect(page.get_by_text("<script>window.__pwned=1</script>")).to_be_visible()
    expect(page.locator("main script, main img")).to_have_count(0)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert console_errors == []
