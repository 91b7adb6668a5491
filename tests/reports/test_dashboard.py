"""The dashboard's series over a small desk whose figures can be worked out by hand.

The window is three UTC days, D0 = Monday 2026-10-26 .. D2; `now` is the window's end.

  case  team     opened     first answer     resolved          due: first / resolution
  c1    Billing  D0 09:00   D0 10:00 (1h)    D1 09:00 (24h)    D0 11:00 met / D1 09:00 met
  c2    Returns  D0 15:00   D0 18:00 (3h)    -, reopened once  D0 17:00 late / D2 15:00 late
  c3    Billing  D1 10:00   D1 12:00 (2h)    D1 16:00 (6h)     D1 14:00 met / D1 18:00 met
  c4    Billing  D0 20:00   -                -                 D2 20:00 paused before: running
  c6    Billing  D-6        before           D2 12:00 (192h)   - / D2 13:00 in its breaches
  c5    Billing  merged into c1: left out everywhere
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.cases.rules import CaseStatus
from amends.customers.models import Customer
from amends.errors import InvalidInput
from amends.feedback.models import Feedback
from amends.feedback.rules import Channel, Direction
from amends.followups.models import FollowUp, FollowUpStatus, SurveyScale
from amends.offers.models import Offer
from amends.offers.rules import OfferStatus, RemedyKind
from amends.playbook.service import active_policy
from amends.replies import service as replies
from amends.replies.models import ReplyFinding
from amends.reports.dashboard import Dashboard, Series, dashboard
from amends.teams.models import Agent, Team

D0 = datetime(2026, 10, 26, tzinfo=UTC)  # a Monday
D1 = D0 + timedelta(days=1)
D2 = D0 + timedelta(days=2)
END = D0 + timedelta(days=3)
H = timedelta(hours=1)
LABELS = ("2026-10-26", "2026-10-27", "2026-10-28")
_ids = count(1)


class Desk:
    """The rows above, and the handles the tests need."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.customer = Customer(name="Ana", created_at=D0 - timedelta(days=30))
        self.billing = Team(name="Billing", created_at=D0 - timedelta(days=30))
        self.returns = Team(name="Returns", created_at=D0 - timedelta(days=30))
        session.add_all([self.customer, self.billing, self.returns])
        session.flush()
        self.sam = Agent(
            name="Sam", email="sam@example.com", team_id=self.billing.id, created_at=D0
        )
        self.lea = Agent(
            name="Lea", email="lea@example.com", team_id=self.returns.id, created_at=D0
        )
        session.add_all([self.sam, self.lea])
        session.flush()

    def case(self, team: Team, opened_at: datetime, **values: Any) -> Case:
        values.setdefault("status", CaseStatus.IN_PROGRESS)
        row = Case(
            customer_id=self.customer.id,
            subject="a complaint",
            channel=Channel.EMAIL,
            public=False,
            team_id=team.id,
            opened_at=opened_at,
            updated_at=opened_at,
            **values,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def feedback(
        self,
        at: datetime,
        channel: Channel = Channel.EMAIL,
        *,
        case: Case | None = None,
        direction: Direction = Direction.IN,
        **values: Any,
    ) -> Feedback:
        source_id = f"item-{next(_ids)}"
        row = Feedback(
            direction=direction,
            channel=channel,
            source_key=f"{channel.value}:{source_id}",
            source_id=source_id,
            customer_id=self.customer.id,
            case_id=case.id if case else None,
            text="words",
            public=False,
            received_at=at,
            ingested_at=at,
            **values,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def reply(self, case: Case, agent: Agent, at: datetime, *rules: str) -> Feedback:
        row = self.feedback(at, case=case, direction=Direction.OUT, meta={"agent": agent.email})
        for rule in rules:
            self.finding(row, agent, rule)
        return row

    def finding(
        self, reply: Feedback, agent: Agent | None, rule: str, *, overridden: bool = False
    ) -> None:
        assert reply.case_id is not None
        self.session.add(
            ReplyFinding(
                feedback_id=reply.id,
                case_id=reply.case_id,
                agent_id=agent.id if agent else None,
                at=reply.received_at,
                rule=rule,
                severity="block" if overridden else "warn",
                overridden=overridden,
            )
        )

    def offer(
        self,
        case: Case,
        kind: RemedyKind,
        amount: str,
        status: OfferStatus,
        made_at: datetime | None,
        currency: str = "GBP",
    ) -> None:
        self.session.add(
            Offer(
                case_id=case.id,
                customer_id=self.customer.id,
                kind=kind,
                amount=Decimal(amount),
                currency=currency,
                status=status,
                made_by="sam@example.com",
                created_at=made_at or D0,
                made_at=made_at,
            )
        )

    def survey(
        self, case: Case, scale: SurveyScale, score: int | None, answered_at: datetime
    ) -> None:
        self.session.add(
            FollowUp(
                case_id=case.id,
                status=FollowUpStatus.ANSWERED if score is not None else FollowUpStatus.SENT,
                scale=scale,
                nonce=f"nonce-{next(_ids)}",
                due_at=answered_at - H,
                sent_at=answered_at - H,
                answered_at=answered_at if score is not None else None,
                score=score,
                created_at=answered_at - H,
            )
        )


@pytest.fixture
def desk(session: Session) -> Desk:
    d = Desk(session)
    billing, returns = d.billing, d.returns
    c1 = d.case(
        billing,
        D0 + 9 * H,
        status=CaseStatus.RESOLVED,
        first_response_due=D0 + 11 * H,
        first_responded_at=D0 + 10 * H,
        resolution_due=D1 + 9 * H,
        resolved_at=D1 + 9 * H,
    )
    c2 = d.case(
        returns,
        D0 + 15 * H,
        first_response_due=D0 + 17 * H,
        first_responded_at=D0 + 18 * H,
        resolution_due=D2 + 15 * H,
        reopened_count=1,
    )
    c3 = d.case(
        billing,
        D1 + 10 * H,
        status=CaseStatus.CLOSED,
        first_response_due=D1 + 14 * H,
        first_responded_at=D1 + 12 * H,
        resolution_due=D1 + 18 * H,
        resolved_at=D1 + 16 * H,
        closed_at=D1 + 17 * H,
    )
    d.case(
        billing,
        D0 + 20 * H,
        status=CaseStatus.WAITING_ON_CUSTOMER,
        first_response_due=D2 + 20 * H,
        paused_at=D2 + 10 * H,
    )
    d.case(
        billing,
        D0 + 9 * H,
        status=CaseStatus.CLOSED,
        merged_into_id=c1.id,
        first_response_due=D0 + 10 * H,
        first_responded_at=D0 + 9 * H + 30 * timedelta(minutes=1),
        closed_at=D0 + 12 * H,
        reopened_count=1,
    )
    c6 = d.case(
        billing,
        D2 + 12 * H - timedelta(days=8),
        status=CaseStatus.RESOLVED,
        resolution_due=D2 + 13 * H,
        resolved_at=D2 + 12 * H,
        breaches=["resolution"],
    )
    d.offer(c6, RemedyKind.GIFT, "1", OfferStatus.MADE, D0 - H)  # made before the window

    # Incoming feedback, and what volume leaves out.
    d.feedback(D0 + 9 * H, case=c1, category="billing", sentiment=-0.5)
    d.feedback(D0 + 15 * H, Channel.X, case=c2, category="billing", sentiment=-0.1)
    d.feedback(D1 + 10 * H, case=c3, category="delivery_delay", sentiment=0.2)
    d.feedback(D1 + 11 * H)  # praise: no case, no category, no sentiment
    d.feedback(D1 + 12 * H, case=c3, automated=True, sentiment=0.9)
    d.feedback(D0 - timedelta(seconds=1), case=c1, sentiment=0.9)
    d.feedback(END, Channel.CHAT, case=c1, category="billing")  # the end is exclusive
    d.feedback(END + 2 * timedelta(days=1), Channel.CHAT, case=c3)

    # Surveys: good, neutral, bad, good; an unanswered one.
    d.survey(c1, SurveyScale.CSAT, 5, D1 + 12 * H)
    d.survey(c3, SurveyScale.NPS, 8, D1 + 20 * H)
    d.survey(c2, SurveyScale.CSAT, 2, D0 + 23 * H)
    d.survey(c3, SurveyScale.NPS, 9, D2 + 8 * H)
    d.survey(c1, SurveyScale.CSAT, None, D2 + 9 * H)

    # Offers: perks and a fix, in two currencies; one still waiting for approval.
    d.offer(c1, RemedyKind.VOUCHER, "20.00", OfferStatus.ACCEPTED, D0 + 12 * H)
    d.offer(c2, RemedyKind.DISCOUNT, "15.50", OfferStatus.REFUSED, D0 + 19 * H)
    d.offer(c3, RemedyKind.REFUND, "100.00", OfferStatus.MADE, D1 + 13 * H)
    d.offer(c3, RemedyKind.GIFT, "10.25", OfferStatus.MADE, D1 + 13 * H)
    d.offer(c3, RemedyKind.GIFT, "5.00", OfferStatus.REDEEMED, D1 + 14 * H)
    d.offer(c1, RemedyKind.VOUCHER, "50.00", OfferStatus.PENDING_APPROVAL, None)
    d.offer(c2, RemedyKind.VOUCHER, "7.00", OfferStatus.MADE, D2 + 9 * H, currency="EUR")

    # Replies and what the checker found in them.
    r1 = d.reply(c1, d.sam, D0 + 10 * H, "missing_apology")
    d.finding(r1, d.sam, "defensive", overridden=True)
    d.reply(c3, d.sam, D1 + 12 * H, "missing_apology")
    d.reply(c3, d.sam, D1 + 15 * H)
    r4 = d.reply(c2, d.lea, D0 + 18 * H, "missing_thanks")
    d.finding(r4, None, "missing_thanks")
    d.feedback(D0 + 10 * H, case=c1, direction=Direction.OUT, automated=True)
    d.reply(c1, d.sam, END + H, "missing_apology")  # after the window
    d.session.commit()
    return d


def days(session: Session, **kwargs: Any) -> Dashboard:
    return dashboard(session, start=D0, end=END, **kwargs)


def series(found: tuple[Series, ...]) -> dict[str, tuple[int, ...]]:
    return {s.key: s.values for s in found}


def test_the_axis_covers_the_window(desk: Desk) -> None:
    board = days(desk.session)
    assert board.labels == LABELS
    assert board.bucket_starts == (D0, D1, D2)
    assert (board.start, board.end, board.now, board.bucket) == (D0, END, END, "day")
    assert board.team_ids is None
    assert board.empty is False


def test_volume_by_channel_and_category(desk: Desk) -> None:
    volume = days(desk.session).volume
    assert volume.total == (2, 2, 0)
    assert [s.key for s in volume.by_channel] == ["email", "x"]  # largest first
    assert series(volume.by_channel) == {"email": (1, 2, 0), "x": (1, 0, 0)}
    assert [s.key for s in volume.by_category] == ["billing", "delivery_delay", "uncategorised"]
    assert series(volume.by_category) == {
        "billing": (2, 0, 0),
        "delivery_delay": (0, 1, 0),
        "uncategorised": (0, 1, 0),
    }


def test_sentiment_is_the_mean_of_the_scored_items(desk: Desk) -> None:
    sentiment = days(desk.session).sentiment
    assert sentiment.scored == (2, 1, 0)
    assert sentiment.mean_score == (-0.3, 0.2, None)


def test_response_and_resolution_times_by_the_bucket_they_ended_in(desk: Desk) -> None:
    board = days(desk.session)
    assert board.first_response.count == (2, 1, 0)
    assert board.first_response.median_hours == (2.0, 2.0, None)  # 1h and 3h; 2h
    assert board.first_response.p90_hours == (2.8, 2.0, None)  # 1h + 0.9 * (3h - 1h)
    assert board.resolution.count == (0, 2, 1)
    assert board.resolution.median_hours == (None, 15.0, 192.0)  # 24h and 6h; 8 days
    assert board.resolution.p90_hours == (None, 22.2, 192.0)  # 6h + 0.9 * (24h - 6h)


def test_sla_attainment_of_the_clocks_due_in_each_bucket(desk: Desk) -> None:
    sla = days(desk.session).sla
    # D0: c1 first (met), c2 first (late); D1: c1 resolution, c3 both (met);
    # D2: c2 resolution (unkept at the end), c6 resolution (flagged), c4 first (paused).
    assert sla.met == (1, 3, 0)
    assert sla.breached == (1, 0, 2)
    assert sla.running == (0, 0, 1)
    assert sla.attainment_pct == (50.0, 100.0, 0.0)


def test_sla_clocks_are_judged_as_of_now(desk: Desk) -> None:
    # At D2 14:00 c2's resolution (due 15:00) still runs.
    sla = days(desk.session, now=D2 + 14 * H).sla
    assert (sla.met, sla.breached, sla.running) == ((1, 3, 0), (1, 0, 1), (0, 0, 2))
    assert sla.attainment_pct == (50.0, 100.0, 0.0)


def test_recovery_and_reopen_rates(desk: Desk) -> None:
    board = days(desk.session)
    assert board.recovery.answered == (1, 2, 1)
    assert board.recovery.good == (0, 1, 1)
    assert board.recovery.rate_pct == (0.0, 50.0, 100.0)
    # Opened on D0: c1 resolved, c2 resolved and reopened, c4 never resolved; D1: c3.
    assert board.reopen.resolved == (2, 1, 0)
    assert board.reopen.reopened == (1, 0, 0)
    assert board.reopen.rate_pct == (50.0, 0.0, None)


def test_compensation_by_currency(desk: Desk) -> None:
    eur, gbp = days(desk.session).compensation  # by currency code
    d = Decimal
    zero = d("0.00")
    assert gbp.currency == "GBP"
    assert gbp.offers_made == (2, 3, 0)
    assert gbp.made_amount == (d("35.50"), d("15.25"), zero)  # perks only
    assert gbp.accepted_amount == (d("20.00"), d("5.00"), zero)
    assert gbp.spend == (d("20.00"), d("15.25"), zero)  # refused costs nothing
    assert gbp.fixes_amount == (zero, d("100.00"), zero)
    assert (eur.currency, eur.offers_made, eur.spend) == ("EUR", (0, 0, 1), (zero, zero, d(7)))


def test_coaching_per_agent(desk: Desk) -> None:
    coaching = days(desk.session).coaching
    sam, lea = coaching.agents
    assert (sam.agent_id, sam.name, sam.email) == (desk.sam.id, "Sam", "sam@example.com")
    assert sam.replies == (1, 2, 0)
    assert sam.findings == (2, 1, 0)
    assert sam.overridden == (1, 0, 0)
    assert sam.findings_per_reply == (2.0, 0.5, None)
    assert [s.key for s in sam.by_rule] == ["missing_apology", "defensive"]
    assert series(sam.by_rule) == {"missing_apology": (1, 1, 0), "defensive": (1, 0, 0)}
    assert (lea.name, lea.replies, lea.findings) == ("Lea", (1, 0, 0), (1, 0, 0))
    assert lea.findings_per_reply == (1.0, None, None)
    assert coaching.unattributed_findings == (1, 0, 0)


def test_team_filter_keeps_only_their_cases(desk: Desk) -> None:
    board = days(desk.session, team_ids=frozenset({desk.billing.id}))
    assert board.team_ids == (desk.billing.id,)
    assert board.volume.total == (1, 1, 0)  # c1, c3; not c2's nor the praise without a case
    assert series(board.volume.by_channel) == {"email": (1, 1, 0)}
    assert board.sentiment.mean_score == (-0.5, 0.2, None)
    assert board.first_response.median_hours == (1.0, 2.0, None)
    assert board.resolution.median_hours == (None, 15.0, 192.0)
    assert (board.sla.met, board.sla.breached, board.sla.running) == (
        (1, 3, 0),
        (0, 0, 1),
        (0, 0, 1),
    )
    assert (board.reopen.resolved, board.reopen.reopened) == ((1, 1, 0), (0, 0, 0))
    assert board.recovery.answered == (0, 2, 1)
    assert board.recovery.rate_pct == (None, 50.0, 100.0)
    (gbp,) = board.compensation
    assert gbp.offers_made == (1, 3, 0)
    assert gbp.made_amount == (Decimal("20.00"), Decimal("15.25"), Decimal("0.00"))
    (sam,) = board.coaching.agents
    assert (sam.name, sam.replies, sam.findings) == ("Sam", (1, 2, 0), (2, 1, 0))
    assert board.coaching.unattributed_findings == (0, 0, 0)

    both = days(desk.session, team_ids=frozenset({desk.billing.id, desk.returns.id}))
    assert both.volume.total == (2, 1, 0)  # everything with a case
    assert both.team_ids == tuple(sorted((desk.billing.id, desk.returns.id)))


def test_no_team_chosen_means_nothing(desk: Desk) -> None:
    board = days(desk.session, team_ids=frozenset())
    assert board.empty is True
    assert board.volume.total == (0, 0, 0)
    assert board.sla.attainment_pct == (None, None, None)
    assert board.compensation == ()
    assert board.coaching.agents == ()


def test_an_empty_window_has_every_bucket_and_no_values(session: Session) -> None:
    board = dashboard(session, start=D0, end=END, bucket="day")
    assert board.empty is True
    assert board.labels == LABELS
    assert board.volume.total == (0, 0, 0)
    assert board.volume.by_channel == board.volume.by_category == ()
    assert board.sentiment.mean_score == (None, None, None)
    assert board.first_response.median_hours == (None, None, None)
    assert board.resolution.count == (0, 0, 0)
    assert (board.sla.met, board.sla.attainment_pct) == ((0, 0, 0), (None, None, None))
    assert board.recovery.rate_pct == board.reopen.rate_pct == (None, None, None)
    assert board.compensation == ()
    assert board.coaching.agents == ()
    assert board.coaching.unattributed_findings == (0, 0, 0)
    json.dumps(board.to_dict())


def test_week_buckets_start_on_monday(desk: Desk) -> None:
    d = desk
    d.feedback(D0 + timedelta(days=5, hours=10), Channel.CHAT)  # Saturday of the first week
    d.feedback(D0 + timedelta(days=8), Channel.WEB)  # the second week
    d.session.commit()
    # From Wednesday noon: the first week is partial; its Monday and Tuesday items are out.
    board = dashboard(d.session, start=D2 + 12 * H, end=D0 + timedelta(days=15), bucket="week")
    assert board.labels == ("2026-10-26", "2026-11-02", "2026-11-09")
    assert board.bucket_starts[0] == D0
    # The first week: the items at END (Thursday 00:00) and two on Saturday; then Tuesday's.
    assert board.volume.total == (3, 1, 0)
    assert series(board.volume.by_channel) == {"chat": (3, 0, 0), "web": (0, 1, 0)}
    # From D2 noon: c2's and c6's resolutions (late, flagged), c4's first response (paused).
    assert (board.sla.breached, board.sla.running) == ((2, 0, 0), (1, 0, 0))
    assert board.recovery.answered == (0, 0, 0)


def test_to_dict_is_plain_json(desk: Desk) -> None:
    found = days(desk.session).to_dict()
    again = json.loads(json.dumps(found))
    assert again == found
    assert found["labels"] == list(LABELS)
    assert found["start"] == D0.isoformat()
    assert found["compensation"][1]["made_amount"] == ["35.50", "15.25", "0.00"]
    assert found["coaching"]["agents"][0]["by_rule"][0] == {
        "key": "missing_apology",
        "values": [1, 1, 0],
    }
    assert set(found["definitions"]) >= {"volume", "sla", "recovery", "reopen", "coaching"}


@pytest.mark.parametrize(
    ("start", "end", "bucket", "message"),
    [
        (END, D0, "day", "empty"),
        (D0, D0, "day", "empty"),
        (D0, END, "month", "bucket"),
        (D0, D0 + timedelta(days=401), "day", "at most"),
    ],
)
def test_bad_windows_are_refused(
    session: Session, start: datetime, end: datetime, bucket: Any, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        dashboard(session, start=start, end=end, bucket=bucket)


def test_replies_sent_through_the_checker_count_for_their_agent(session: Session) -> None:
    d = Desk(session)
    case = d.case(d.billing, D0 + 8 * H)
    d.feedback(D0 + 8 * H, case=case, category="delivery_delay")
    policy = active_policy(session)
    found: Counter[str] = Counter()
    for hour, text in ((9, "We looked at it."), (10, "Sorry, it is on its way now. Sam")):
        _, result = replies.send(
            session,
            case.id,
            text,
            agent_email="sam@example.com",
            now=D0 + hour * H,
            policy=policy,
            override="checked by hand",
        )
        found.update(f.rule.value for f in result.findings)
    session.commit()
    assert found  # the terse first reply gives the checker something to say
    (sam,) = dashboard(session, start=D0, end=END).coaching.agents
    assert sam.name == "Sam"
    assert sam.replies == (2, 0, 0)
    assert sam.findings == (sum(found.values()), 0, 0)
    assert {s.key: s.values[0] for s in sam.by_rule} == dict(found)
