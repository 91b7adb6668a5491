"""The case page's data: one timeline across email and X, the customer with their earlier case
and offers, the analysis in words, links, follow-ups; read in a fixed number of SELECTs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from amends.cases import service as cases
from amends.cases.models import Case, CaseEvent
from amends.cases.rules import CaseStatus
from amends.cases.view import CaseView, TimelineEntry, case_view
from amends.customers.rules import IdentityKind, IdentityRef
from amends.errors import NotFound
from amends.feedback.models import Feedback
from amends.feedback.rules import Channel, Direction
from amends.feedback.service import ingest
from amends.incidents import service as incidents
from amends.offers import service as offers
from amends.offers.rules import OfferStatus, RemedyKind
from amends.playbook.rules import Policy
from amends.playbook.service import active_policy, import_playbook
from amends.problems import service as problems
from amends.replies import service as replies
from amends.sources.base import Item
from amends.timers.flows import run_due

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

EARLIER = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
ANN = "ann@example.com"
EMAIL = IdentityRef(IdentityKind.EMAIL, "Kim@Example.com")
HANDLE = IdentityRef(IdentityKind.HANDLE, "@kimlee", platform="x")
TWEET = "@shop you charged me twice for my order and nobody answers. Refund the second payment!"
MAIL = "I was charged twice for my order. Refund the second payment please!"


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def take_in(session: Session, *items: Item, now: datetime) -> None:
    ingest(session, list(items), origin="test", fmt="feedback", now=now)


@dataclass(frozen=True)
class Desk:
    engine: Engine
    case_id: int
    earlier_id: int
    incident_id: int
    problem_id: int
    refused_id: int
    now: datetime


def build(session: Session, engine: Engine) -> Desk:
    """A customer with an earlier closed case (an offer accepted), then a public complaint on X
    and an email about it, a public and a private reply (the private one over the checker), an
    offer made and refused, an incident, a problem, and a follow-up sent after resolution."""
    import_playbook(session, PLAYBOOK, now=EARLIER - timedelta(days=1), actor=None)
    policy = active_policy(session)
    take_in(
        session,
        Item(
            Channel.EMAIL,
            "My parcel is two weeks late and nobody tells me where it is.",
            EARLIER,
            source_id="late-1",
            author_name="Kim Lee",
            identities=(EMAIL,),
            subject="Late parcel",
        ),
        now=EARLIER,
    )
    earlier = session.scalars(select(Case)).one()
    gift = offers.make_offer(
        session,
        earlier.id,
        kind=RemedyKind.GIFT,
        amount=Decimal(5),
        by=ANN,
        now=EARLIER + timedelta(hours=1),
        policy=policy,
    )
    offers.accept(session, gift.id, now=EARLIER + timedelta(hours=2))
    cases.transition(
        session,
        earlier.id,
        CaseStatus.CLOSED,
        actor=f"agent:{ANN}",
        now=EARLIER + timedelta(hours=3),
        policy=policy,
        reason="settled by the voucher",
    )

    take_in(
        session,
        Item(
            Channel.X,
            TWEET,
            at(0),
            source_id="tw-1",
            author_name="Kim Lee",
            author_handle="@kimlee",
            identities=(HANDLE, EMAIL),
            public=True,
            reach=1200,
            meta={"platform": "x", "url": "https://x.com/kimlee/status/1"},
        ),
        now=at(1),
    )
    take_in(
        session,
        Item(
            Channel.EMAIL,
            MAIL,
            at(15),
            source_id="mail-1",
            author_name="Kim Lee",
            thread_id="thread-1",
            identities=(EMAIL,),
            subject="Charged twice",
        ),
        now=at(16),
    )
    case = session.scalars(select(Case).where(Case.id != earlier.id)).one()
    cases.assign(session, case.id, agent_email=ANN, team_name=None, actor="system", now=at(17))
    cases.reply(
        session,
        case.id,
        "@kimlee We're sorry we charged you twice. We've sent you a DM to put it right today.",
        agent_email=ANN,
        now=at(30),
        policy=policy,
    )
    replies.send(
        session,
        case.id,
        "We're sorry you feel that way.",
        agent_email=ANN,
        now=at(40),
        policy=policy,
        public=False,
        override="Kim asked for a one-line note",
    )
    voucher = offers.make_offer(
        session,
        case.id,
        kind=RemedyKind.VOUCHER,
        amount=Decimal(10),
        by=ANN,
        now=at(50),
        policy=policy,
    )
    offers.refuse(session, voucher.id, now=at(60), reason="not worth my time")
    incident = incidents.open_incident(
        session,
        title="Double charges at checkout",
        now=at(70),
        actor="agent:lead@example.com",
        policy=policy,
        cases=[case.id],
    )
    problem = problems.open_problem(
        session, title="Payment retry charges twice", now=at(75), actor="agent:lead@example.com"
    )
    problems.link_cases(session, problem.id, [case.id], actor="agent:lead@example.com", now=at(75))
    behind = problems.open_problem(
        session, title="Card gateway times out", now=at(80), actor="agent:lead@example.com"
    )
    problems.link_incident(session, behind.id, incident.id)
    cases.transition(
        session,
        case.id,
        CaseStatus.RESOLVED,
        actor=f"agent:{ANN}",
        now=at(120),
        policy=policy,
        reason="refunded the second payment",
    )
    session.commit()
    run_due(engine, now=at(120) + timedelta(days=2, minutes=1))
    return Desk(
        engine,
        case.id,
        earlier.id,
        incident.id,
        problem.id,
        voucher.id,
        now=at(120) + timedelta(days=2, hours=1),
    )


@pytest.fixture
def desk(session: Session, engine: Engine) -> Desk:
    return build(session, engine)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        words = sql.lstrip().upper()
        if not words.startswith("BEGIN"):  # SQLite's transaction start (amends.db)
            seen.append(words)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def view_of(desk: Desk, case_id: int | None = None) -> tuple[CaseView, list[str]]:
    with Session(desk.engine) as fresh, statements(desk.engine) as seen:
        view = case_view(fresh, case_id or desk.case_id, now=desk.now)
        assert not fresh.new
        assert not fresh.dirty
        assert not fresh.deleted
    return view, seen


def in_order(entries: tuple[TimelineEntry, ...], wanted: list[str]) -> bool:
    """Whether `wanted` kinds appear in the timeline in this order (others may come between)."""
    kinds = iter(e.kind for e in entries)
    return all(any(k == w for k in kinds) for w in wanted)


def test_one_timeline_across_channels(desk: Desk) -> None:
    view, _ = view_of(desk)
    timeline = view.timeline
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)
    assert in_order(
        timeline,
        [
            "message",
            "message",
            "assigned",
            "reply",
            "status",
            "reply",
            "check_overridden",
            "offer_made",
            "offer_refused",
            "status",
            "followup_sent",
        ],
    )
    kinds = [e.kind for e in timeline]
    # A reply is shown once, as the message; its bookkeeping event is not repeated.
    assert "replied" not in kinds
    assert "opened" not in kinds
    assert kinds.count("reply") == 2

    tweet, mail = (e for e in timeline if e.kind == "message")
    assert tweet.message is not None
    assert mail.message is not None
    assert (tweet.message.channel, tweet.message.public, tweet.message.reach) == (
        Channel.X,
        True,
        1200,
    )
    assert tweet.message.author_handle == "@kimlee"
    assert tweet.message.url == "https://x.com/kimlee/status/1"
    assert tweet.actor == "customer"
    assert tweet.actor_name == "Kim Lee"
    assert (mail.message.channel, mail.message.public, mail.message.subject) == (
        Channel.EMAIL,
        False,
        "Charged twice",
    )
    assert mail.text == MAIL

    public, private = (e for e in timeline if e.kind == "reply")
    assert public.message is not None
    assert private.message is not None
    assert public.message.direction is Direction.OUT
    assert public.message.public
    assert not private.message.public
    assert public.actor == f"agent:{ANN}"
    assert public.actor_name == "Ann Agent"
    assert private.message.agent == ANN
    assert "non_apology" in private.message.checked
    assert public.message.analysis is None

    override = next(e for e in timeline if e.kind == "check_overridden")
    assert override.event is not None
    assert override.event.reason == "Kim asked for a one-line note"
    assert override.event.data["reply"] == private.message.feedback_id
    assert "Kim asked for a one-line note" in override.text
    assert override.actor_name == "Ann Agent"

    refused = next(e for e in timeline if e.kind == "offer_refused")
    assert "voucher 10 GBP" in refused.text
    assert "not worth my time" in refused.text
    assert refused.actor == "customer"
    acknowledged, resolved = (e for e in timeline if e.kind == "status")
    assert acknowledged.text == "status new → acknowledged (first reply)"
    assert resolved.text == "status acknowledged → resolved (refunded the second payment)"


def test_case_customer_offers_links_and_followups(desk: Desk) -> None:
    view, _ = view_of(desk)
    case = view.case
    assert (case.id, case.status, case.channel, case.public) == (
        desk.case_id,
        CaseStatus.RESOLVED,
        Channel.X,
        True,
    )
    assert case.team == "Payments"
    assert case.assignee is not None
    assert case.assignee.email == ANN
    first = next(d for d in case.deadlines if d.clock == "first_response")
    assert first.met_at == at(30)
    assert not first.running
    assert not first.breached
    assert view.public_and_private

    customer = view.customer
    assert customer.name is None or customer.name == "Kim Lee"
    assert customer.emails == ("Kim@Example.com",)
    handle = next(i for i in customer.identities if i.kind == "handle")
    assert (handle.value, handle.platform) == ("@kimlee", "x")
    assert [(c.id, c.status, c.subject) for c in customer.other_cases] == [
        (desk.earlier_id, CaseStatus.CLOSED, "Late parcel")
    ]
    assert customer.loyalty.tier == "repeat"
    assert customer.loyalty.earlier_cases == 1
    assert [(o.case_id, o.kind, o.amount, o.status) for o in customer.offers] == [
        (desk.case_id, RemedyKind.VOUCHER, Decimal(10), OfferStatus.REFUSED),
        (desk.earlier_id, RemedyKind.GIFT, Decimal(5), OfferStatus.ACCEPTED),
    ]
    assert [f.kind for f in customer.flags] == ["offer_cap"]
    assert "10 GBP" in customer.flags[0].text

    (offer,) = view.offers
    assert (offer.id, offer.status, offer.made_by, offer.reason) == (
        desk.refused_id,
        OfferStatus.REFUSED,
        ANN,
        "not worth my time",
    )
    assert offer.voucher is not None
    assert offer.voucher.state == "void"
    assert view.suggestion is None or view.suggestion.role == "agent"

    assert [(i.id, i.title, i.tier, i.status) for i in view.incidents] == [
        (desk.incident_id, "Double charges at checkout", "individual", "open")
    ]
    assert [(p.id, p.title, p.status, p.via_incident) for p in view.problems] == [
        (desk.problem_id, "Payment retry charges twice", "open", None),
        (desk.problem_id + 1, "Card gateway times out", "open", desk.incident_id),
    ]
    (followup,) = view.followups
    assert followup.status == "sent"
    assert followup.scale == "csat"
    assert followup.score is None


def test_analysis_with_reasons_in_words(desk: Desk, session: Session) -> None:
    view, _ = view_of(desk)
    analysis = view.analysis
    assert analysis is not None
    stored = session.get(Feedback, analysis.feedback_id)
    assert stored is not None
    assert stored.analysis is not None
    assert stored.direction is Direction.IN
    assert analysis.reasons == tuple(stored.analysis["reasons"])
    assert analysis.reasons
    assert analysis.priority == view.case.priority
    assert analysis.category == stored.category
    assert analysis.sentiment == stored.sentiment
    assert {e for e, _ in analysis.emotions} >= {"anger", "frustration"}
    tweet = next(e for e in view.timeline if e.kind == "message")
    assert tweet.message is not None
    assert tweet.message.analysis is not None
    assert any("public x post" in r for r in tweet.message.analysis.reasons)
    assert tweet.message.analysis.remedy_asked == "refund"


def test_to_dict_is_json(desk: Desk) -> None:
    view, _ = view_of(desk)
    plain = view.to_dict()
    again = json.loads(json.dumps(plain))
    assert again["case"]["status"] == "resolved"
    assert again["customer"]["offers"][0]["amount"] == "10.00"
    assert again["timeline"][0]["kind"] == "message"
    assert again["public_and_private"] is True


def test_reads_only_in_a_fixed_number_of_queries(desk: Desk, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(CaseEvent))
    session.rollback()  # SQLite in memory: one connection, one transaction at a time
    view, seen = view_of(desk)
    assert all(s.startswith("SELECT") for s in seen), seen
    first = len(seen)
    assert first <= 20
    assert session.scalar(select(func.count()).select_from(CaseEvent)) == before

    # More messages on the case: the same number of queries.
    policy: Policy = active_policy(session)
    more = [
        Item(
            Channel.EMAIL,
            f"Still waiting for the refund of the second payment ({n}).",
            view.now + timedelta(minutes=n),
            source_id=f"more-{n}",
            identities=(EMAIL,),
            thread_id="thread-1",
        )
        for n in range(1, 6)
    ]
    cases.reopen(
        session, desk.case_id, actor=f"agent:{ANN}", now=view.now, policy=policy, reason="again"
    )
    take_in(session, *more, now=view.now + timedelta(minutes=10))
    session.commit()
    session.close()
    later, seen = view_of(desk)
    assert len([e for e in later.timeline if e.kind == "message"]) == 7
    assert len(seen) == first


def test_unknown_case_is_not_found(desk: Desk) -> None:
    with Session(desk.engine) as fresh, pytest.raises(NotFound):
        case_view(fresh, desk.case_id + 1000, now=desk.now)
