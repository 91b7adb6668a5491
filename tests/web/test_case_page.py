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
from amends.offers import service as offers
from amends.offers.models import Offer
from amends.offers.rules import OfferStatus, RemedyKind
from amends.playbook.service import active_policy, import_playbook
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
