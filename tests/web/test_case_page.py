"""The case page: one timeline across channels, the customer, the analysis in words, the
composer with the reply checker, offers and their approval, status and assignment; who may
open and change a case, and that every form needs its CSRF token."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.conftest import FIXED_NOW
from tests.web.conftest import sign_in

from amends.cases.models import Case, CaseEvent
from amends.cases.rules import CaseStatus
from amends.customers.rules import IdentityKind, IdentityRef
from amends.db import session_scope
from amends.feedback.models import Feedback
from amends.feedback.rules import Channel, Direction
from amends.feedback.service import ingest
from amends.incidents import service as incidents
from amends.offers import service as offers
from amends.offers.models import Offer
from amends.offers.rules import OfferStatus, RemedyKind
from amends.playbook.service import active_policy, import_playbook
from amends.problems import service as problems
from amends.problems.models import ProblemStatus
from amends.sources.base import Item
from amends.users.rules import Role

PLAYBOOK = """
name: case page desk
teams:
  - name: Payments
    categories: [billing, refunds]
    lead: lead@example.com
    agents:
      - {name: Lea Lead, email: lead@example.com}
      - {name: Ann Agent, email: ann@example.com}
  - name: Care
    lead: carl@example.com
    agents:
      - {name: Carl Care, email: carl@example.com}
default_team: Care
assignment: {auto: false}
sla:
  calendar: 24/7
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
compensation:
  currency: GBP
  monthly_budget: 100
  amounts: {1: 0, 2: 5, 3: 15, 4: 40}
  caps: {agent: 20, lead: 150}
  voucher_expires_after: 30d
follow_up: {delay: 2d, survey: csat, expires_after: 7d}
"""

ANN = "ann@example.com"  # an agent of Payments, which owns billing
LEAD = "lead@example.com"  # leads Payments
CARL = "carl@example.com"  # an agent of Care
START = FIXED_NOW - timedelta(minutes=30)  # the complaint; the page is read at FIXED_NOW
EMAIL = IdentityRef(IdentityKind.EMAIL, "Kim@Example.com")
HANDLE = IdentityRef(IdentityKind.HANDLE, "@kimlee", platform="x")
TWEET = (
    "@shop you charged me twice for my order <script>alert('x')</script> and nobody answers. "
    "Refund the second payment!"
)
MAIL = "I was charged twice for my order. Refund the second payment please!"
DEFENSIVE = "@kimlee Our records show the payment went through once. This is not our fault."


@dataclass(frozen=True)
class Desk:
    case_id: int  # the public complaint on X, with an email about it
    earlier_id: int  # the customer's earlier case about a late parcel


def take_in(engine: Engine, item: Item) -> None:
    with session_scope(engine) as s:
        ingest(s, [item], origin="test", fmt="feedback", now=item.received_at)


@pytest.fixture
def desk(engine: Engine) -> Desk:
    with session_scope(engine) as s:
        import_playbook(s, PLAYBOOK, now=START - timedelta(days=40), actor=None)
    take_in(
        engine,
        Item(
            Channel.EMAIL,
            "My parcel is two weeks late and nobody tells me where it is.",
            START - timedelta(days=20),
            source_id="late-1",
            author_name="Kim Lee",
            identities=(EMAIL,),
            subject="Late parcel",
        ),
    )
    take_in(
        engine,
        Item(
            Channel.X,
            TWEET,
            START,
            source_id="tw-1",
            author_name="Kim Lee",
            author_handle="@kimlee",
            identities=(HANDLE, EMAIL),
            public=True,
            reach=1200,
            meta={"platform": "x", "url": "javascript:alert(1)"},
        ),
    )
    take_in(
        engine,
        Item(
            Channel.EMAIL,
            MAIL,
            START + timedelta(minutes=10),
            source_id="mail-1",
            author_name="Kim Lee",
            thread_id="thread-1",
            identities=(EMAIL,),
            subject="Charged twice",
        ),
    )
    with session_scope(engine) as s:
        earlier, case = s.scalars(select(Case).order_by(Case.id)).all()
        from amends.cases import service as cases

        cases.assign(s, case.id, agent_email=ANN, team_name=None, actor="system", now=START)
        return Desk(case.id, earlier.id)


def case_row(engine: Engine, case_id: int) -> Case:
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        s.expunge(case)
        return case


def events(engine: Engine, case_id: int, kind: str) -> list[CaseEvent]:
    with session_scope(engine) as s:
        rows = list(
            s.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
                .order_by(CaseEvent.id)
            )
        )
        s.expunge_all()
        return rows


def textarea(page: str, which: str) -> str:
    found = re.search(rf'<textarea id="reply-{which}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no {which} composer on the page"
    return html.unescape(found.group(1))


def composer_data(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="composer-data">(.*?)</script>', page)
    assert found
    data: dict[str, object] = json.loads(found.group(1))
    return data


# ---- reading the case -------------------------------------------------------------------------


def test_public_complaint_page(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}")
    assert page.status_code == 200
    text = page.text
    assert f"<title>#{desk.case_id} @shop you charged me twice" in text
    # The head: id, status, priority with its reasons, owner, channel, exposure, live clocks.
    assert f"#{desk.case_id}</span>" in text
    assert '<span class="badge status new">new</span>' in text
    assert re.search(r'<span class="prio p\d">P\d</span>', text)
    assert "Why P" in text
    assert "public x post" in text
    assert "Payments" in text
    assert "Ann Agent" in text
    assert "1,200 followers" in text
    first_due = re.search(r'<time class="countdown" datetime="([^"]+)"', text)
    assert first_due
    assert datetime.fromisoformat(first_due.group(1)) > FIXED_NOW
    assert "First response" in text
    assert "due in " in text
    # One timeline across both channels, oldest first.
    x_at = text.index('<span class="channel">X</span>')
    mail_at = text.index('<span class="channel">Email</span>')
    assert x_at < mail_at
    assert MAIL in text
    assert "Charged twice" in text
    assert "from the customer" in text
    # Each message's analysis, in words.
    assert text.count('<details class="analysis">') == 2
    assert "Sentiment" in text
    assert "Severity signals" in text
    assert "<q>charged me twice</q>" in text
    assert "Remedy asked" in text
    # The customer across channels, their other case linked, how they rank.
    assert "Kim Lee" in text
    assert "Kim@Example.com" in text
    assert "@kimlee" in text
    assert f'<a href="/cases/{desk.earlier_id}">#{desk.earlier_id} Late parcel</a>' in text
    assert '<span class="badge tier repeat">repeat</span>' in text
    # Public and private composers side by side, pre-filled with drafts.
    assert '<div class="composers two">' in text
    public, private = textarea(text, "public"), textarea(text, "private")
    assert public.startswith("@kimlee")
    assert len(public) <= 280
    assert "Kim" in private
    assert "At most 280 characters here." in text
    assert "Posted in public on X, as a reply to @kimlee" in text
    assert "Sent privately, by a direct message." in text
    data = composer_data(text)
    assert data["caseId"] == desk.case_id
    assert data["composers"] == {
        "public": {"public": True, "channel": "x", "limit": 280},
        "private": {"public": False, "channel": None, "limit": None},
    }
    assert '<script src="/static/composer.js" defer></script>' in text
    # The suggested offer with its reasons.
    assert "Suggested:" in text
    assert "asked for a refund" in text


def test_markup_in_the_complaint_is_text(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, ANN)
    text = web.get(f"/cases/{desk.case_id}").text
    assert "<script>alert(" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    # A link an import brought is shown only when it is a web address.
    assert "javascript:" not in text
    assert "Open the original" not in text


def test_static_files_are_served(web: TestClient) -> None:
    for name, kind in (("composer.js", "javascript"), ("case.css", "text/css")):
        answer = web.get(f"/static/{name}")
        assert answer.status_code == 200
        assert kind in answer.headers["content-type"]
    script = web.get("/static/composer.js").text
    assert "innerHTML" not in script
    assert "X-CSRF-Token" in script


def test_a_private_case_has_one_composer(web: TestClient, engine: Engine, desk: Desk) -> None:
    take_in(
        engine,
        Item(
            Channel.EMAIL,
            "The app logs me out every time I open it. Please fix it.",
            START,
            source_id="app-1",
            author_name="Sam Roe",
            identities=(IdentityRef(IdentityKind.EMAIL, "sam@example.com"),),
            subject="Logged out",
        ),
    )
    with session_scope(engine) as s:
        case_id = s.scalars(select(Case.id).order_by(Case.id.desc())).first()
    sign_in(web, engine, LEAD, role=Role.LEAD)
    text = web.get(f"/cases/{case_id}").text
    assert 'id="reply-public"' not in text
    assert "Sam" in textarea(text, "private")
    assert "Sent privately, by email." in text
    assert '<div class="composers">' in text


def test_signed_out_goes_to_sign_in(web: TestClient, desk: Desk) -> None:
    answer = web.get(f"/cases/{desk.case_id}")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next=%2Fcases%2F{desk.case_id}"


def test_unknown_case_is_not_found(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, LEAD, role=Role.LEAD)
    answer = web.get("/cases/999999")
    assert answer.status_code == 404
    assert "case 999999 not found" in answer.text


# ---- replying ---------------------------------------------------------------------------------


def test_defensive_reply_is_refused_with_its_findings(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    ann = sign_in(web, engine, ANN)
    answer = web.post(
        f"/cases/{desk.case_id}/reply", data=ann.form(text=DEFENSIVE, public="public")
    )
    assert answer.status_code == 422
    text = answer.text
    assert "Not sent: the checker found" in text
    assert '<li class="finding sev-block">' in text
    assert "defensive" in text
    assert "<q>Our records show</q>" in text
    assert "Drop the defence" in text
    assert 'name="override"' in text
    # What the agent wrote stays in the composer.
    assert textarea(text, "public") == DEFENSIVE
    case = case_row(engine, desk.case_id)
    assert case.status is CaseStatus.NEW
    assert case.first_responded_at is None
    with session_scope(engine) as s:
        sent = s.scalars(select(Feedback.id).where(Feedback.direction == Direction.OUT)).all()
    assert sent == []


def test_good_reply_is_sent_and_the_first_response_is_met(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    ann = sign_in(web, engine, ANN)
    drafted = textarea(web.get(f"/cases/{desk.case_id}").text, "public")
    answer = web.post(f"/cases/{desk.case_id}/reply", data=ann.form(text=drafted, public="public"))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/cases/{desk.case_id}?done=first_on_time"
    case = case_row(engine, desk.case_id)
    assert case.status is CaseStatus.ACKNOWLEDGED
    assert case.first_responded_at == FIXED_NOW
    with session_scope(engine) as s:
        reply = s.scalars(select(Feedback).where(Feedback.direction == Direction.OUT)).one()
        assert reply.public
        assert reply.meta["agent"] == ANN
        assert reply.text == drafted.strip()

    page = web.get(answer.headers["location"]).text
    assert "Reply sent — first response on time." in page
    assert '<span class="badge status acknowledged">acknowledged</span>' in page
    assert re.search(r'<li class="clock met">\s*<span class="clock-name">First response', page)
    assert '<span class="badge good clock-state">met</span>' in page
    assert "our reply" in page
    # The public reply is out: its composer starts empty and says so.
    assert textarea(page, "public") == ""
    assert "A public reply went out 2026-11-02 10:00 UTC" in page


def test_a_private_reply_first_does_not_acknowledge_a_public_complaint(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    ann = sign_in(web, engine, ANN)
    drafted = textarea(web.get(f"/cases/{desk.case_id}").text, "private")
    answer = web.post(f"/cases/{desk.case_id}/reply", data=ann.form(text=drafted, public="private"))
    assert answer.headers["location"].endswith("?done=private_first")
    case = case_row(engine, desk.case_id)
    assert case.status is CaseStatus.NEW
    assert case.first_responded_at is None


def test_override_with_a_reason_sends_and_records_it(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    ann = sign_in(web, engine, ANN)
    reason = "Kim asked us to quote <the> record"
    answer = web.post(
        f"/cases/{desk.case_id}/reply",
        data=ann.form(text=DEFENSIVE, public="public", override=reason),
    )
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("?done=overridden")
    (event,) = events(engine, desk.case_id, "check_overridden")
    assert event.reason == reason
    assert event.actor == f"agent:{ANN}"
    assert "defensive" in event.data["rules"]
    assert case_row(engine, desk.case_id).status is CaseStatus.ACKNOWLEDGED
    page = web.get(answer.headers["location"]).text
    assert "Reply sent over the checker" in page
    assert "Kim asked us to quote &lt;the&gt; record" in page
    assert '<span class="badge warn">check overridden</span>' in page


def test_an_empty_override_keeps_it_blocked(web: TestClient, engine: Engine, desk: Desk) -> None:
    ann = sign_in(web, engine, ANN)
    answer = web.post(
        f"/cases/{desk.case_id}/reply",
        data=ann.form(text=DEFENSIVE, public="public", override="   "),
    )
    assert answer.status_code == 422
    assert case_row(engine, desk.case_id).first_responded_at is None


def test_an_empty_reply_is_refused_in_words(web: TestClient, engine: Engine, desk: Desk) -> None:
    ann = sign_in(web, engine, ANN)
    answer = web.post(f"/cases/{desk.case_id}/reply", data=ann.form(text="  ", public="public"))
    assert answer.status_code == 422
    assert '<p class="alert" role="alert">A reply needs text.</p>' in answer.text


def test_someone_who_is_no_agent_cannot_send(web: TestClient, engine: Engine, desk: Desk) -> None:
    boss = sign_in(web, engine, "boss@example.com", role=Role.ADMIN)
    page = web.get(f"/cases/{desk.case_id}").text
    assert "you are not an agent of any team yet" in page
    answer = web.post(
        f"/cases/{desk.case_id}/reply",
        data=boss.form(text=textarea(page, "public"), public="public"),
    )
    assert answer.status_code == 422
    assert "boss@example.com is not an agent of any team yet" in answer.text
    assert case_row(engine, desk.case_id).first_responded_at is None


# ---- who may open and change it --------------------------------------------------------------


def test_another_teams_agent_gets_403(web: TestClient, engine: Engine, desk: Desk) -> None:
    carl = sign_in(web, engine, CARL)
    page = web.get(f"/cases/{desk.case_id}")
    assert page.status_code == 403
    assert "Not yours to open" in page.text
    assert MAIL not in page.text
    posts = {
        "reply": {"text": "Sorry, Kim.", "public": "private"},
        "status": {"status": "in_progress"},
        "assign": {"to": f"agent:{CARL}"},
        "offers": {"kind": "voucher", "amount": "5"},
    }
    for action, fields in posts.items():
        answer = web.post(f"/cases/{desk.case_id}/{action}", data=carl.form(**fields))
        assert answer.status_code == 403, action
    case = case_row(engine, desk.case_id)
    assert (case.status, case.team_id is not None) == (CaseStatus.NEW, True)
    with session_scope(engine) as s:
        assert s.scalars(select(Offer.id)).all() == []
        assert s.scalars(select(Feedback.id).where(Feedback.direction == Direction.OUT)).all() == []


def test_forms_without_the_csrf_token_are_refused(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}").text
    drafted = textarea(page, "public")
    for token in (None, "not-the-token"):
        fields = {"text": drafted, "public": "public"}
        if token is not None:
            fields["csrf_token"] = token
        answer = web.post(f"/cases/{desk.case_id}/reply", data=fields)
        assert answer.status_code == 403
        assert "did not come from this desk" in answer.text
    for action, fields in (
        ("status", {"status": "in_progress"}),
        ("assign", {"to": "team:Care"}),
        ("offers", {"kind": "voucher", "amount": "5"}),
    ):
        assert web.post(f"/cases/{desk.case_id}/{action}", data=fields).status_code == 403
    case = case_row(engine, desk.case_id)
    assert case.status is CaseStatus.NEW
    assert case.first_responded_at is None


# ---- offers -----------------------------------------------------------------------------------


def test_making_the_suggested_offer(web: TestClient, engine: Engine, desk: Desk) -> None:
    ann = sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}").text
    buttons = re.findall(
        r'name="kind" value="([a-z_]+)">\s*<input type="hidden" name="amount" value="([^"]*)">',
        page,
    )
    assert ("voucher", "15") in buttons
    # The draft's sign of apology is promised only once the offer is made.
    assert "This draft promises a voucher worth GBP 15" in page
    answer = web.post(f"/cases/{desk.case_id}/offers", data=ann.form(kind="voucher", amount="15"))
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("?done=offer_made")
    with session_scope(engine) as s:
        offer = s.scalars(select(Offer)).one()
        assert (offer.kind, offer.amount, offer.status, offer.made_by) == (
            RemedyKind.VOUCHER,
            Decimal(15),
            OfferStatus.MADE,
            ANN,
        )
        assert offer.voucher is not None
        code = offer.voucher.code
    page = web.get(answer.headers["location"]).text
    assert "Offer made." in page
    assert "This draft promises" not in page
    assert f'<code class="code">{code}</code>' in page
    assert "offer 1: voucher 15 GBP made" in page
    # A second click gives the customer nothing twice.
    again = web.post(f"/cases/{desk.case_id}/offers", data=ann.form(kind="voucher", amount="15"))
    assert again.status_code == 409
    assert "already gives this customer the same" in again.text
    with session_scope(engine) as s:
        assert len(s.scalars(select(Offer)).all()) == 1


def test_an_offer_over_the_cap_waits_for_a_lead(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    ann = sign_in(web, engine, ANN)
    answer = web.post(
        f"/cases/{desk.case_id}/offers",
        data=ann.form(kind="voucher", amount="30", note="three weeks of trouble"),
    )
    assert answer.headers["location"].endswith("?done=offer_pending")
    page = web.get(answer.headers["location"]).text
    assert "waits for a lead&#39;s approval" in page
    assert "three weeks of trouble" in page
    assert "Approve offer" not in page
    with session_scope(engine) as s:
        offer_id = s.scalars(select(Offer.id)).one()
    # An agent may not approve it, even by posting the form.
    refused = web.post(f"/offers/{offer_id}/approve", data=ann.form())
    assert refused.status_code == 403

    lead = sign_in(web, engine, LEAD, role=Role.LEAD)
    page = web.get(f"/cases/{desk.case_id}").text
    assert f'action="/offers/{offer_id}/approve"' in page
    assert f"Approve offer {offer_id}" in page
    assert web.post(f"/offers/{offer_id}/approve", data={}).status_code == 403  # no CSRF
    answer = web.post(f"/offers/{offer_id}/approve", data=lead.form())
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/cases/{desk.case_id}?done=offer_approved"
    with session_scope(engine) as s:
        offer = s.get(Offer, offer_id)
        assert offer is not None
        assert (offer.status, offer.approved_by) == (OfferStatus.MADE, LEAD)
    page = web.get(answer.headers["location"]).text
    assert "Offer approved" in page
    assert f"approved by {LEAD}" in page
    # Approving twice says why it cannot.
    again = web.post(f"/offers/{offer_id}/approve", data=lead.form())
    assert again.status_code == 409
    assert "it cannot be approved" in again.text


def test_a_bad_amount_is_refused_in_words(web: TestClient, engine: Engine, desk: Desk) -> None:
    ann = sign_in(web, engine, ANN)
    answer = web.post(f"/cases/{desk.case_id}/offers", data=ann.form(kind="voucher", amount="lots"))
    assert answer.status_code == 422
    assert "Amount: not a number" in answer.text
    with session_scope(engine) as s:
        assert s.scalars(select(Offer.id)).all() == []


def test_past_offers_and_their_outcome(web: TestClient, engine: Engine, desk: Desk) -> None:
    with session_scope(engine) as s:
        policy = active_policy(s)
        refused = offers.make_offer(
            s,
            desk.earlier_id,
            kind=RemedyKind.GIFT,
            amount=Decimal(5),
            by=ANN,
            now=START - timedelta(days=19),
            policy=policy,
        )
        offers.refuse(s, refused.id, now=START - timedelta(days=18), reason="not worth <b>it</b>")
    sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}").text
    assert '<li class="offer-line refused">' in page
    assert '<span class="badge bad">refused</span>' in page
    assert f'on <a href="/cases/{desk.earlier_id}">case #{desk.earlier_id}</a>' in page
    assert "not worth &lt;b&gt;it&lt;/b&gt;" in page
    assert "Offers capped" in page


# ---- status and owner -------------------------------------------------------------------------


def test_status_changes(web: TestClient, engine: Engine, desk: Desk) -> None:
    ann = sign_in(web, engine, ANN)
    url = f"/cases/{desk.case_id}/status"
    # A public complaint is resolved only after a private reply.
    refused = web.post(url, data=ann.form(status="resolved"))
    assert refused.status_code == 409
    assert "record a private reply before resolving it" in refused.text
    # Acknowledging is by replying.
    assert web.post(url, data=ann.form(status="acknowledged")).status_code == 422
    assert web.post(url, data=ann.form(status="nonsense")).status_code == 422

    answer = web.post(url, data=ann.form(status="waiting_on_customer", reason="asked for IBAN"))
    assert answer.headers["location"].endswith("?done=status")
    assert case_row(engine, desk.case_id).status is CaseStatus.WAITING_ON_CUSTOMER
    page = web.get(answer.headers["location"]).text
    assert "waiting on the customer" in page
    assert "asked for IBAN" in page

    # Nobody has answered this case: closing it says why.
    assert web.post(url, data=ann.form(status="closed")).status_code == 422
    assert case_row(engine, desk.case_id).status is CaseStatus.WAITING_ON_CUSTOMER
    web.post(url, data=ann.form(status="closed", reason="a duplicate of another case"))
    assert case_row(engine, desk.case_id).status is CaseStatus.CLOSED
    page = web.get(f"/cases/{desk.case_id}").text
    assert "Reopen the case" in page
    assert 'id="reply-private"' not in page  # closed: reopen it to reply
    assert web.post(url, data=ann.form(status="reopen")).status_code == 422
    answer = web.post(url, data=ann.form(status="reopen", reason="Kim wrote back"))
    assert answer.status_code == 303
    case = case_row(engine, desk.case_id)
    assert (case.status, case.reopened_count) == (CaseStatus.IN_PROGRESS, 1)


def test_resolving_after_both_replies(web: TestClient, engine: Engine, desk: Desk) -> None:
    ann = sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}").text
    for which in ("public", "private"):
        sent = web.post(
            f"/cases/{desk.case_id}/reply",
            data=ann.form(text=textarea(page, which), public=which),
        )
        assert sent.status_code == 303, which
    answer = web.post(f"/cases/{desk.case_id}/status", data=ann.form(status="resolved"))
    assert answer.status_code == 303
    page = web.get(answer.headers["location"]).text
    assert '<span class="badge status resolved">resolved</span>' in page
    assert "follow-up" in page.lower()


def test_assignment(web: TestClient, engine: Engine, desk: Desk) -> None:
    ann = sign_in(web, engine, ANN)
    url = f"/cases/{desk.case_id}/assign"
    page = web.get(f"/cases/{desk.case_id}").text
    # Agents of Ann's own team, and every team's queue; not agents of other teams.
    assert f'value="agent:{LEAD}"' in page
    assert 'value="team:Care"' in page
    assert f'value="agent:{CARL}"' not in page

    answer = web.post(url, data=ann.form(to=f"agent:{LEAD}"))
    assert answer.headers["location"].endswith("?done=assigned")
    assert "Lea Lead" in web.get(answer.headers["location"]).text
    (event,) = [e for e in events(engine, desk.case_id, "assigned") if e.to_value == LEAD]
    assert event.actor == f"agent:{ANN}"

    assert "Assign to me" in web.get(f"/cases/{desk.case_id}").text
    web.post(url, data=ann.form(to=f"agent:{ANN}"))
    assert case_row(engine, desk.case_id).assignee_id is not None

    refused = web.post(url, data=ann.form(to=f"agent:{CARL}"))
    assert refused.status_code == 403
    assert "works in a team you are not in" in refused.text
    assert web.post(url, data=ann.form(to="")).status_code == 422

    # Handed to another team's queue: Ann no longer works it.
    answer = web.post(url, data=ann.form(to="team:Care"))
    assert answer.headers["location"] == "/queue"
    assert web.get(f"/cases/{desk.case_id}").status_code == 403

    lead = sign_in(web, engine, LEAD, role=Role.LEAD)
    answer = web.post(url, data=lead.form(to=f"agent:{CARL}"))
    assert answer.status_code == 303
    page = web.get(f"/cases/{desk.case_id}").text
    assert "Carl Care" in page


def test_countdown_says_overdue_in_words(web: TestClient, engine: Engine, desk: Desk) -> None:
    with session_scope(engine) as s:
        case = s.get(Case, desk.case_id)
        assert case is not None
        case.first_response_due = FIXED_NOW - timedelta(minutes=5)
        case.next_due_at = case.first_response_due
    sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}").text
    assert "overdue by 5m" in page
    assert re.search(r'<li class="clock running breached">\s*<span class="clock-name">First', page)
    assert '<span class="badge bad clock-state">breached</span>' in page


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(40, "40s"), (300, "5m"), (4320, "1h 12m"), (-300, "5m"), (2 * 86400 + 3 * 3600, "2d 3h")],
)
def test_span_words(seconds: float, words: str) -> None:
    from amends.web.pages.case import span_words

    assert span_words(seconds) == words


# ---- the customer's answer to an offer -------------------------------------------------------


def make_offer(engine: Engine, case_id: int, kind: RemedyKind, amount: int | None) -> int:
    with session_scope(engine) as s:
        offer = offers.make_offer(
            s,
            case_id,
            kind=kind,
            amount=Decimal(amount) if amount is not None else None,
            by=ANN,
            now=START,
            policy=active_policy(s),
        )
        return offer.id


def offer_answers(page: str, case_id: int, offer_id: int) -> set[str]:
    """The answers the page offers to record for one offer."""
    found = re.findall(
        rf'action="/cases/{case_id}/offers/{offer_id}/(accept|refuse|withdraw)"', page
    )
    return set(found)


def test_the_customers_answer_is_recorded(web: TestClient, engine: Engine, desk: Desk) -> None:
    taken = make_offer(engine, desk.case_id, RemedyKind.VOUCHER, 15)
    declined = make_offer(engine, desk.case_id, RemedyKind.GIFT, 10)
    ann = sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}").text
    for offer_id in (taken, declined):
        assert offer_answers(page, desk.case_id, offer_id) == {"accept", "refuse", "withdraw"}
        assert f'<label for="refuse-reason-{offer_id}">' in page
        assert f'<label for="withdraw-reason-{offer_id}">' in page
    forms = re.findall(
        rf'<form method="post" action="/cases/{desk.case_id}/offers/\d+/\w+"[^>]*>\s*'
        rf'<input type="hidden" name="csrf_token" value="{ann.csrf}">',
        page,
    )
    assert len(forms) == 6

    url = f"/cases/{desk.case_id}/offers"
    answer = web.post(f"{url}/{taken}/accept", data=ann.form())
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/cases/{desk.case_id}?done=offer_accepted"
    assert web.get(f"/api/v1/offers/{taken}").json()["status"] == "accepted"

    reason = "wanted <b>cash</b>, not a gift"
    answer = web.post(f"{url}/{declined}/refuse", data=ann.form(reason=reason))
    assert answer.headers["location"] == f"/cases/{desk.case_id}?done=offer_refused"
    read = web.get(f"/api/v1/offers/{declined}").json()
    assert (read["status"], read["reason"]) == ("refused", reason)
    (event,) = events(engine, desk.case_id, "offer_refused")
    assert (event.actor, event.reason) == (f"agent:{ANN}", reason)

    page = web.get(answer.headers["location"]).text
    assert "Recorded: the customer refused the offer; its voucher is void." in page
    assert '<li class="offer-line accepted">' in page
    assert '<li class="offer-line refused">' in page
    assert "wanted &lt;b&gt;cash&lt;/b&gt;, not a gift" in page
    assert "<b>cash</b>" not in page
    assert "answered 2026-11-02 10:00 UTC" in page
    # Answered offers take no other answer.
    assert offer_answers(page, desk.case_id, taken) == set()
    assert offer_answers(page, desk.case_id, declined) == set()
    again = web.post(f"{url}/{taken}/refuse", data=ann.form())
    assert again.status_code == 409
    assert '<p class="alert" role="alert">Offer' in again.text
    assert "it cannot be refused" in again.text
    assert web.get(f"/api/v1/offers/{taken}").json()["status"] == "accepted"


def test_withdrawing_an_offer_needs_a_reason(web: TestClient, engine: Engine, desk: Desk) -> None:
    made = make_offer(engine, desk.case_id, RemedyKind.VOUCHER, 15)
    waiting = make_offer(engine, desk.case_id, RemedyKind.GIFT, 30)  # over Ann's cap
    ann = sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}").text
    # An offer that waits for a lead has not reached the customer: it can only be taken back.
    assert offer_answers(page, desk.case_id, waiting) == {"withdraw"}

    url = f"/cases/{desk.case_id}/offers/{made}/withdraw"
    refused = web.post(url, data=ann.form(reason="  "))
    assert refused.status_code == 422
    assert "Say why the offer is withdrawn." in refused.text
    assert web.get(f"/api/v1/offers/{made}").json()["status"] == "made"

    answer = web.post(url, data=ann.form(reason="made on the wrong case"))
    assert answer.headers["location"] == f"/cases/{desk.case_id}?done=offer_withdrawn"
    read = web.get(f"/api/v1/offers/{made}").json()
    assert (read["status"], read["reason"]) == ("withdrawn", "made on the wrong case")
    with session_scope(engine) as s:
        offer = s.get(Offer, made)
        assert offer is not None
        assert offer.voucher is not None
        assert offer.voucher.voided_at == FIXED_NOW
    answer = web.post(
        f"/cases/{desk.case_id}/offers/{waiting}/withdraw", data=ann.form(reason="too much")
    )
    assert answer.status_code == 303
    assert web.get(f"/api/v1/offers/{waiting}").json()["status"] == "withdrawn"
    page = web.get(answer.headers["location"]).text
    assert "Offer withdrawn; its voucher is void." in page
    # Both, on the case and among the customer's past offers.
    assert page.count('<li class="offer-line withdrawn">') == 4
    assert "withdrawn 2026-11-02 10:00 UTC" in page


def test_only_the_cases_people_answer_its_offers(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    mine = make_offer(engine, desk.case_id, RemedyKind.VOUCHER, 15)
    other = make_offer(engine, desk.earlier_id, RemedyKind.GIFT, 5)
    carl = sign_in(web, engine, CARL)
    for answer in ("accept", "refuse", "withdraw"):
        sent = web.post(
            f"/cases/{desk.case_id}/offers/{mine}/{answer}", data=carl.form(reason="no")
        )
        assert sent.status_code == 403, answer
    # Carl works the earlier case, but not through the address of a case he does not work.
    assert (
        web.post(f"/cases/{desk.case_id}/offers/{other}/accept", data=carl.form()).status_code
        == 403
    )
    ann = sign_in(web, engine, ANN)
    # An offer of another case, named through this one: not found here.
    wrong = web.post(f"/cases/{desk.case_id}/offers/{other}/accept", data=ann.form())
    assert wrong.status_code == 404
    assert "text/html" in wrong.headers["content-type"]
    with session_scope(engine) as s:
        assert {o.status for o in s.scalars(select(Offer))} == {OfferStatus.MADE}


# ---- problems and incidents ---------------------------------------------------------------------


def open_problem(engine: Engine, title: str, status: ProblemStatus = ProblemStatus.OPEN) -> int:
    with session_scope(engine) as s:
        row = problems.open_problem(s, title=title, now=START, actor="agent:lead@example.com")
        row.status = status
        return row.id


def open_incident(engine: Engine, title: str, *, cases: tuple[int, ...] = ()) -> int:
    with session_scope(engine) as s:
        row = incidents.open_incident(
            s, title=title, now=START, actor="agent:lead@example.com", policy=active_policy(s)
        )
        if cases:
            incidents.add_cases(
                s,
                row.id,
                cases,
                how="hand",
                actor="agent:lead@example.com",
                now=START,
                policy=active_policy(s),
            )
        return row.id


def test_a_lead_links_the_case_to_a_problem(web: TestClient, engine: Engine, desk: Desk) -> None:
    charged = open_problem(engine, "Card payments <taken> twice")
    proposed = open_problem(engine, "Maybe the app", ProblemStatus.PROPOSED)
    closed = open_problem(engine, "Old courier", ProblemStatus.CLOSED)
    lead = sign_in(web, engine, LEAD, role=Role.LEAD)
    page = web.get(f"/cases/{desk.case_id}").text
    assert '<label for="link-problem">Link to a problem</label>' in page
    assert '<select id="link-problem" name="problem" required>' in page
    assert f'<option value="{charged}">#{charged} Card payments &lt;taken&gt; twice (open)' in page
    assert f'<option value="{proposed}">' not in page
    assert f'<option value="{closed}">' not in page

    url = f"/cases/{desk.case_id}/problems"
    answer = web.post(url, data=lead.form(problem=str(charged)))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/cases/{desk.case_id}?done=problem_linked"
    assert web.get(f"/api/v1/problems/{charged}").json()["cases"] == [desk.case_id]
    page = web.get(answer.headers["location"]).text
    assert "Case linked to the problem." in page
    assert f'<a href="/problems/{charged}">Card payments &lt;taken&gt; twice</a>' in page
    assert f'<option value="{charged}">' not in page  # linked already

    again = web.post(url, data=lead.form(problem=f"#{charged}"))
    assert again.status_code == 409
    assert f"is linked to problem {charged} already" in again.text
    for number, status in ((proposed, 409), (closed, 409), (99999, 404)):
        refused = web.post(url, data=lead.form(problem=str(number)))
        assert refused.status_code == status, number
        assert '<p class="alert" role="alert">' in refused.text
    for problem_id in (proposed, closed):
        assert web.get(f"/api/v1/problems/{problem_id}").json()["cases"] == []


def test_a_lead_adds_the_case_to_an_incident(web: TestClient, engine: Engine, desk: Desk) -> None:
    outage = open_incident(engine, "Payments down")
    over = open_incident(engine, "Last week's outage")
    with session_scope(engine) as s:
        from amends.incidents.models import Incident
        from amends.incidents.rules import IncidentStatus

        resolved = s.get(Incident, over)
        assert resolved is not None
        resolved.status = IncidentStatus.RESOLVED
    lead = sign_in(web, engine, LEAD, role=Role.LEAD)
    page = web.get(f"/cases/{desk.case_id}").text
    assert '<label for="link-incident">Add to an incident</label>' in page
    assert f'<option value="{outage}">#{outage} Payments down (tier: individual)' in page
    assert f'<option value="{over}">' not in page

    url = f"/cases/{desk.case_id}/incidents"
    refused = web.post(url, data=lead.form(incident=str(over)))
    assert refused.status_code == 409
    assert f"Incident {over} is resolved: add the case to an open one." in refused.text
    answer = web.post(url, data=lead.form(incident=str(outage)))
    assert answer.headers["location"] == f"/cases/{desk.case_id}?done=incident_linked"
    assert web.get(f"/api/v1/incidents/{outage}").json()["cases"] == [desk.case_id]
    assert web.get(f"/api/v1/incidents/{over}").json()["cases"] == []
    page = web.get(answer.headers["location"]).text
    assert "Case added to the incident." in page
    assert f'<a href="/incidents/{outage}">Payments down</a>' in page
    assert "linked by hand" in page
    # A case is in one open incident at a time: the form gives way to where it is.
    assert 'id="link-incident"' not in page
    assert f'In open incident <a href="/incidents/{outage}">#{outage}</a>' in page
    another = open_incident(engine, "Another spike")
    refused = web.post(url, data=lead.form(incident=str(another)))
    assert refused.status_code == 409
    assert f"in open incident {outage}; remove it there first" in refused.text


def test_only_leads_link_problems_and_incidents(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    problem = open_problem(engine, "Card payments taken twice")
    incident = open_incident(engine, "Payments down")
    ann = sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}").text
    assert "link-problem" not in page
    assert "link-incident" not in page
    for action, field, number in (
        ("problems", "problem", problem),
        ("incidents", "incident", incident),
    ):
        answer = web.post(f"/cases/{desk.case_id}/{action}", data=ann.form(**{field: str(number)}))
        assert answer.status_code == 403, action
        assert "only a lead or an admin may" in answer.text
    assert web.get(f"/api/v1/problems/{problem}").json()["cases"] == []
    assert web.get(f"/api/v1/incidents/{incident}").json()["cases"] == []
    # The API draws the same line.
    api = web.post(
        f"/api/v1/problems/{problem}/links",
        json={"cases": [desk.case_id]},
        headers={"X-CSRF-Token": ann.csrf},
    )
    assert api.status_code == 403

    boss = sign_in(web, engine, "boss@example.com", role=Role.ADMIN)
    assert 'id="link-problem"' in web.get(f"/cases/{desk.case_id}").text
    answer = web.post(f"/cases/{desk.case_id}/problems", data=boss.form(problem=str(problem)))
    assert answer.status_code == 303


# ---- merging ----------------------------------------------------------------------------------


def test_merging_into_the_customers_other_case(web: TestClient, engine: Engine, desk: Desk) -> None:
    lead = sign_in(web, engine, LEAD, role=Role.LEAD)
    page = web.get(f"/cases/{desk.case_id}").text
    assert '<label for="merge-into">Number of the case to keep</label>' in page
    assert f"#{desk.earlier_id} Late parcel (new)" in page
    assert re.search(
        rf'<form method="post" action="/cases/{desk.case_id}/merge" class="merge-form">\s*'
        rf'<input type="hidden" name="csrf_token" value="{lead.csrf}">',
        page,
    )
    url = f"/cases/{desk.case_id}/merge"
    itself = web.post(url, data=lead.form(into=str(desk.case_id)))
    assert itself.status_code == 422
    assert "A case cannot be merged into itself." in itself.text

    answer = web.post(url, data=lead.form(into=f"#{desk.earlier_id}", reason="one <matter>"))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/cases/{desk.earlier_id}?done=merged"
    merged = web.get(f"/api/v1/cases/{desk.case_id}").json()
    assert (merged["merged_into_id"], merged["status"]) == (desk.earlier_id, "closed")
    (event,) = events(engine, desk.case_id, "merged")
    assert (event.actor, event.reason) == (f"agent:{LEAD}", "one <matter>")
    page = web.get(answer.headers["location"]).text
    assert "The other case was merged into this one" in page
    assert MAIL in page  # the merged case's messages moved here
    # The merged case says where it went, and offers no more merging or linking.
    page = web.get(f"/cases/{desk.case_id}").text
    assert f'Merged into <a href="/cases/{desk.earlier_id}">case #{desk.earlier_id}</a>' in page
    assert 'id="merge-into"' not in page
    assert 'id="link-problem"' not in page
    again = web.post(url, data=lead.form(into=str(desk.earlier_id)))
    assert again.status_code == 409
    assert "was already merged" in again.text
    # nor are links made to it by a form posted anyway: they belong on the case it went into
    pid = open_problem(engine, "Parcels late")
    link = web.post(f"/cases/{desk.case_id}/problems", data=lead.form(problem=str(pid)))
    assert link.status_code == 409
    assert f"was merged into case {desk.earlier_id}" in link.text


def test_an_agent_merges_only_into_a_case_they_work(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    ann = sign_in(web, engine, ANN)
    page = web.get(f"/cases/{desk.case_id}").text
    # The customer's other open case is Care's: Ann may not merge into it, nor learn of it here.
    assert 'id="merge-into"' not in page
    url = f"/cases/{desk.case_id}/merge"
    refused = web.post(url, data=ann.form(into=str(desk.earlier_id)))
    assert refused.status_code == 403
    assert f"Case {desk.earlier_id} belongs to another team." in refused.text
    assert web.get(f"/api/v1/cases/{desk.case_id}").json()["merged_into_id"] is None
    # Carl works the earlier case but not this one.
    carl = sign_in(web, engine, CARL)
    assert web.post(url, data=carl.form(into=str(desk.earlier_id))).status_code == 403

    with session_scope(engine) as s:
        from amends.cases import service as cases

        cases.assign(s, desk.earlier_id, agent_email=ANN, team_name=None, actor="system", now=START)
    ann = sign_in(web, engine, ANN)
    assert 'id="merge-into"' in web.get(f"/cases/{desk.case_id}").text
    answer = web.post(url, data=ann.form(into=str(desk.earlier_id)))
    assert answer.status_code == 303
    assert web.get(f"/api/v1/cases/{desk.case_id}").json()["merged_into_id"] == desk.earlier_id


def test_only_cases_of_one_customer_merge(web: TestClient, engine: Engine, desk: Desk) -> None:
    take_in(
        engine,
        Item(
            Channel.EMAIL,
            "I was charged twice as well. Please refund me.",
            START,
            source_id="sam-1",
            author_name="Sam Roe",
            identities=(IdentityRef(IdentityKind.EMAIL, "sam@example.com"),),
            subject="Charged twice too",
        ),
    )
    with session_scope(engine) as s:
        sams = s.scalars(select(Case.id).order_by(Case.id.desc())).first()
    lead = sign_in(web, engine, LEAD, role=Role.LEAD)
    assert f"#{sams} " not in web.get(f"/cases/{desk.case_id}").text
    refused = web.post(f"/cases/{desk.case_id}/merge", data=lead.form(into=str(sams)))
    assert refused.status_code == 409
    assert "Only cases of one customer can be merged." in refused.text
    assert web.get(f"/api/v1/cases/{desk.case_id}").json()["merged_into_id"] is None


# ---- what every new form refuses ----------------------------------------------------------------


def test_new_forms_without_the_csrf_token_are_refused(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    offer = make_offer(engine, desk.case_id, RemedyKind.VOUCHER, 15)
    problem = open_problem(engine, "Card payments taken twice")
    incident = open_incident(engine, "Payments down")
    sign_in(web, engine, LEAD, role=Role.LEAD)
    posts = {
        f"offers/{offer}/accept": {},
        f"offers/{offer}/refuse": {"reason": "no"},
        f"offers/{offer}/withdraw": {"reason": "wrong case"},
        "problems": {"problem": str(problem)},
        "incidents": {"incident": str(incident)},
        "merge": {"into": str(desk.earlier_id)},
    }
    for action, fields in posts.items():
        for token in (None, "not-the-token"):
            data = dict(fields) if token is None else {**fields, "csrf_token": token}
            answer = web.post(f"/cases/{desk.case_id}/{action}", data=data)
            assert answer.status_code == 403, (action, token)
            assert "did not come from this desk" in answer.text
    assert web.get(f"/api/v1/offers/{offer}").json()["status"] == "made"
    assert web.get(f"/api/v1/problems/{problem}").json()["cases"] == []
    assert web.get(f"/api/v1/incidents/{incident}").json()["cases"] == []
    assert web.get(f"/api/v1/cases/{desk.case_id}").json()["merged_into_id"] is None


BAD_IDS = ("0", "-1", "99999999999", "abc")


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids_in_the_address_are_a_page_not_a_crash(
    web: TestClient, engine: Engine, desk: Desk, bad: str
) -> None:
    offer = make_offer(engine, desk.case_id, RemedyKind.VOUCHER, 15)
    lead = sign_in(web, engine, LEAD, role=Role.LEAD)
    for path in (
        f"/cases/{bad}/merge",
        f"/cases/{bad}/problems",
        f"/cases/{bad}/incidents",
        f"/cases/{bad}/offers/{offer}/accept",
        f"/cases/{desk.case_id}/offers/{bad}/accept",
        f"/cases/{desk.case_id}/offers/{bad}/refuse",
        f"/cases/{desk.case_id}/offers/{bad}/withdraw",
    ):
        answer = web.post(path, data=lead.form(into="1", problem="1", incident="1"))
        assert 400 <= answer.status_code < 500, path
        assert "text/html" in answer.headers["content-type"], path
    assert web.get(f"/api/v1/offers/{offer}").json()["status"] == "made"


@pytest.mark.parametrize("bad", [*BAD_IDS, "", "#", "1.5"])
def test_bad_numbers_in_a_form_are_refused_in_words(
    web: TestClient, engine: Engine, desk: Desk, bad: str
) -> None:
    open_problem(engine, "Card payments taken twice")
    open_incident(engine, "Payments down")
    lead = sign_in(web, engine, LEAD, role=Role.LEAD)
    for action, field in (("merge", "into"), ("problems", "problem"), ("incidents", "incident")):
        answer = web.post(f"/cases/{desk.case_id}/{action}", data=lead.form(**{field: bad}))
        assert answer.status_code == 422, (action, bad)
        assert "text/html" in answer.headers["content-type"]
        assert '<p class="alert" role="alert">' in answer.text
        assert "is not the number of" in answer.text or "Choose " in answer.text
    assert web.get(f"/api/v1/cases/{desk.case_id}").json()["merged_into_id"] is None
