"""The queue page's data: order, filters, search, teams, paging, a fixed number of queries per
page, the dropdowns' counts and assignment of many cases, on a desk built through the services
(playbook, CRM import, ingest with triage, replies and transitions)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from amends.cases import service
from amends.cases.listing import (
    QueueFilter,
    QueueSort,
    SentimentLabel,
    bulk_assign,
    facets,
    queue_page,
    sentiment_label,
)
from amends.cases.models import Case, CaseEvent
from amends.cases.rules import OPEN_STATUSES, CaseStatus, Clock
from amends.config import Settings
from amends.customers.models import Identity
from amends.customers.rules import IdentityKind, IdentityRef
from amends.customers.service import import_crm
from amends.errors import Forbidden, NotFound
from amends.feedback.models import Feedback
from amends.feedback.rules import Channel, Direction
from amends.feedback.service import ingest
from amends.offers.rules import CustomerValue
from amends.playbook.service import active_policy, import_playbook
from amends.sources.base import Item
from amends.teams.models import Agent, Team
from amends.timers.flows import run_due

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
# The queue is read 90 minutes on: the oldest P1 and P2 first responses are late by then.
NOW = T0 + timedelta(minutes=90)

PLAYBOOK = """
name: queue desk
teams:
  - name: Payments
    categories: [billing, refunds]
    lead: lea@example.com
    agents:
      - {name: Lea Lead, email: lea@example.com, capacity: 3}
      - {name: Ann Agent, email: ann@example.com, capacity: 2}
  - name: Deliveries
    categories: [delivery_delay, wrong_or_damaged_item]
    lead: dan@example.com
    agents:
      - {name: Dan Driver, email: dan@example.com, capacity: 2}
  - name: Care
    lead: carl@example.com
    agents:
      - {name: Carl Care, email: carl@example.com, capacity: 4}
default_team: Care
sla:
  calendar: 24/7
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
"""

CRM = """name,email,customer_since,order_count,lifetime_value
Ana Lopez,ana@example.com,2019-03-01,3,250
Bo Berg,bo@example.com,,12,90
"""

# Texts whose triage differs: priorities P1 .. P4 and several categories.
TEXTS = (
    "You charged me twice for order {n}, please refund the second payment.",
    "I was charged twice for order {n}, this is the third time, I want a refund or I'm "
    "taking you to court and cancelling my account.",
    "My parcel {n} is a week late and nobody answers. Where is it?",
    "The app crashes every time I open my account page. Annoying. ({n})",
    "The box for order {n} arrived crushed and the glass inside is broken.",
    "Still waiting for my refund on order {n} after 3 weeks, this is ridiculous.",
    "I can't log in to my account, the password reset email never arrives ({n}).",
    "The blender from order {n} stopped working after two days, it smells of burning plastic.",
)
CHANNELS = (Channel.EMAIL, Channel.CHAT, Channel.WEB, Channel.EMAIL)
GENERIC = 52  # customers with one complaint each, beside the named ones


def email(address: str) -> tuple[IdentityRef, ...]:
    return (IdentityRef(IdentityKind.EMAIL, address),)


def handle(name: str) -> tuple[IdentityRef, ...]:
    return (IdentityRef(IdentityKind.HANDLE, name, "x"),)


def item(n: int, text: str, minutes_before: int, **extra: Any) -> Item:
    values: dict[str, Any] = {"channel": Channel.EMAIL, "source_id": f"q-{n}"}
    values.update(extra)
    return Item(text=text.format(n=n), received_at=T0 - timedelta(minutes=minutes_before), **values)


@dataclass
class Desk:
    session: Session
    ana: int  # case ids
    bo: int
    cy: int
    pat: int
    waiting: int
    answered: int
    plain: int  # stored without analysis: no priority, sentiment or category

    def team(self, name: str) -> Team:
        found = self.session.scalar(select(Team).where(Team.name == name))
        assert found is not None
        return found

    def agent(self, address: str) -> Agent:
        found = self.session.scalar(select(Agent).where(Agent.email == address))
        assert found is not None
        return found


def _case_of(session: Session, key: str) -> int:
    customer = select(Identity.customer_id).where(Identity.key == key).scalar_subquery()
    found = session.scalar(
        select(Case.id)
        .where(Case.customer_id == customer, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.id.desc())
    )
    assert found is not None
    return found


@pytest.fixture
def desk(session: Session, tmp_path: Path) -> Desk:
    import_playbook(session, PLAYBOOK, now=T0 - timedelta(days=5), actor="test")
    crm = tmp_path / "crm.csv"
    crm.write_text(CRM, encoding="utf-8")
    import_crm(session, crm, now=T0 - timedelta(days=5), default_region="US")
    # Cy complained before, and that case was resolved: Cy is a repeat customer now.
    earlier = T0 - timedelta(days=3)
    first = item(900, TEXTS[2], 3 * 24 * 60, author_name="Cy Chen", identities=email("cy@e.com"))
    ingest(session, [first], origin="test", fmt="feedback", now=earlier)
    policy = active_policy(session)
    old = _case_of(session, "email:cy@e.com")
    service.transition(
        session,
        old,
        CaseStatus.RESOLVED,
        actor="test",
        now=earlier + timedelta(hours=1),
        policy=policy,
    )
    items = [
        item(1, TEXTS[0], 300, author_name="Ana Lopez", identities=email("ana@example.com"),
             subject="Double charge", thread_id="ana-1"),
        item(2, "And nobody has answered me yet about order {n}.", 30, author_name="Ana Lopez",
             identities=email("ana@example.com"), thread_id="ana-1"),
        item(3, TEXTS[2], 200, author_name="Bo Berg", identities=email("bo@example.com")),
        item(4, TEXTS[4], 60, author_name="Cy Chen", identities=email("cy@e.com")),
        item(5, TEXTS[3], 45, channel=Channel.X, public=True, reach=25_000,
             author_name="Pat Public", author_handle="@pat_x", identities=handle("@pat_x")),
        item(6, TEXTS[6], 100, channel=Channel.X, public=True, reach=300,
             author_name="Quinn", author_handle="@quinnq", identities=handle("@quinnq")),
        item(7, TEXTS[7], 150, channel=Channel.REVIEW, public=True, author_name="Rev Iewer"),
        item(8, TEXTS[5], 20, channel=Channel.CHAT, author_name="Dee Chat",
             identities=email("dee@example.com")),
    ]  # fmt: skip
    for n in range(GENERIC):
        items.append(
            item(
                100 + n,
                TEXTS[n % len(TEXTS)],
                (n * 37) % 360,
                channel=CHANNELS[n % len(CHANNELS)],
                author_name=f"Customer {n}",
                identities=email(f"c{n}@example.com"),
            )
        )
    ingest(session, items, origin="test", fmt="feedback", now=T0)
    plain = item(9, "About order {n}.", 240, author_name="Noa", identities=email("noa@example.com"))
    ingest(session, [plain], origin="test", fmt="feedback", now=T0, analyse=False)
    waiting = _case_of(session, "email:c3@example.com")
    service.transition(
        session, waiting, CaseStatus.WAITING_ON_CUSTOMER, actor="test", now=T0, policy=policy
    )
    answered = _case_of(session, "email:c5@example.com")
    service.reply(session, answered, "Sorry about this, I'm on it.", agent_email="carl@example.com",
                  now=T0 + timedelta(minutes=5), policy=policy)  # fmt: skip
    session.flush()
    return Desk(
        session,
        ana=_case_of(session, "email:ana@example.com"),
        bo=_case_of(session, "email:bo@example.com"),
        cy=_case_of(session, "email:cy@e.com"),
        pat=_case_of(session, "handle:x:pat_x"),
        waiting=waiting,
        answered=answered,
        plain=_case_of(session, "email:noa@example.com"),
    )


def page(
    session: Session,
    filt: QueueFilter | None = None,
    *,
    team_ids: frozenset[int] | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[int]:
    found = queue_page(
        session, filt or QueueFilter(), team_ids=team_ids, limit=limit, offset=offset, now=NOW
    )
    return [r.id for r in found.rows]


def urgency(case: Case) -> tuple[Any, ...]:
    never = datetime.max.replace(tzinfo=UTC)
    return (
        case.priority is None,
        case.priority or "",
        case.next_due_at is None,
        case.next_due_at or never,
        case.opened_at,
        case.id,
    )


def breached(case: Case, now: datetime = NOW) -> bool:
    return any(d.breached(now) for d in service.deadlines(case))


def open_cases(session: Session, *, waiting: bool = False) -> list[Case]:
    wanted = set(OPEN_STATUSES) - (set() if waiting else {CaseStatus.WAITING_ON_CUSTOMER})
    rows = session.scalars(select(Case).where(Case.status.in_(sorted(wanted))))
    return sorted(rows, key=urgency)


# ---- order ----------------------------------------------------------------------------------


def test_the_default_order_is_the_urgency_order_of_the_queue(desk: Desk) -> None:
    s = desk.session
    for waiting in (False, True):
        queued, total = service.queue(s, limit=500, include_waiting=waiting)
        listed = queue_page(
            s, QueueFilter(include_waiting=waiting), team_ids=None, limit=500, offset=0, now=NOW
        )
        assert [r.id for r in listed.rows] == [c.id for c in queued]
        assert listed.total == total
    assert {c.priority for c in open_cases(s)} >= {"P1", "P2", "P3", None}
    assert page(s)[-1] == desk.plain  # no priority: last
    assert [c.id for c in open_cases(s)] == page(s)


def test_newest_and_oldest_order_by_opening(desk: Desk) -> None:
    s = desk.session
    cases = open_cases(s)
    oldest = sorted(cases, key=lambda c: (c.opened_at, c.id))
    assert page(s, QueueFilter(sort=QueueSort.OLDEST)) == [c.id for c in oldest]
    assert page(s, QueueFilter(sort=QueueSort.NEWEST)) == [c.id for c in reversed(oldest)]


# ---- what a row shows -----------------------------------------------------------------------


def test_a_row_carries_what_the_page_shows_at_a_glance(desk: Desk) -> None:
    s = desk.session
    rows = {
        r.id: r
        for r in queue_page(
            s, QueueFilter(include_waiting=True), team_ids=None, limit=500, offset=0, now=NOW
        ).rows
    }
    ana = rows[desk.ana]
    case = service.get_case(s, desk.ana)
    assert (ana.subject, ana.status, ana.channel, ana.public) == (
        "Double charge",
        case.status,
        Channel.EMAIL,
        False,
    )
    assert ana.customer_name == "Ana Lopez"
    assert ana.loyalty is CustomerValue.LOYAL  # a customer since 2019
    assert rows[desk.bo].loyalty is CustomerValue.LOYAL  # twelve orders
    assert rows[desk.cy].loyalty is CustomerValue.REPEAT  # an earlier case
    assert rows[desk.pat].loyalty is CustomerValue.NEW
    assert ana.feedback_count == 2
    assert ana.priority == case.priority
    assert ana.team_name is not None
    assert ana.team_id == case.team_id
    if case.assignee_id is not None:
        agent = s.get(Agent, case.assignee_id)
        assert agent is not None
        assert (ana.assignee_name, ana.assignee_email) == (agent.name, agent.email)
    # Sentiment and category of the most urgent analysed complaint on the case.
    complaints = s.scalars(
        select(Feedback).where(Feedback.case_id == desk.ana, Feedback.direction == Direction.IN)
    ).all()
    lead = min(complaints, key=lambda f: (f.priority or "P9", f.received_at, f.id))
    assert ana.sentiment == lead.sentiment
    assert lead.sentiment is not None
    assert ana.sentiment_label is sentiment_label(lead.sentiment)
    assert ana.analysis_category == lead.category
    # Reach: the widest audience of a message on the case.
    assert rows[desk.pat].reach == 25_000
    assert rows[desk.pat].public
    assert ana.reach is None
    # Clocks: the running ones with their due times, the late ones marked.
    assert {c.clock for c in ana.clocks} == {Clock.FIRST_RESPONSE, Clock.RESOLUTION}
    assert [c.due for c in ana.clocks] == sorted(c.due for c in ana.clocks)
    first = next(c for c in ana.clocks if c.clock is Clock.FIRST_RESPONSE)
    assert first.due == case.first_response_due
    assert first.breached == (first.due < NOW)
    assert ana.breached == breached(case)
    answered = rows[desk.answered]
    assert Clock.FIRST_RESPONSE not in {c.clock for c in answered.clocks}
    assert answered.feedback_count == 2  # the complaint and the reply
    assert answered.assignee_email is not None
    plain = rows[desk.plain]
    assert (plain.priority, plain.sentiment, plain.sentiment_label) == (None, None, None)
    assert (plain.category, plain.analysis_category, plain.feedback_count) == (None, None, 1)
    assert rows[desk.waiting].paused
    assert rows[desk.waiting].next_due_at is None
    assert any(r.breached for r in rows.values())
    assert not all(r.breached for r in rows.values())


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (-0.9, SentimentLabel.VERY_NEGATIVE),
        (-0.6, SentimentLabel.VERY_NEGATIVE),
        (-0.3, SentimentLabel.NEGATIVE),
        (-0.2, SentimentLabel.NEUTRAL),
        (0.0, SentimentLabel.NEUTRAL),
        (0.2, SentimentLabel.NEUTRAL),
        (0.5, SentimentLabel.POSITIVE),
    ],
)
def test_sentiment_label(score: float, label: SentimentLabel) -> None:
    assert sentiment_label(score) is label


# ---- filters --------------------------------------------------------------------------------

Filter = Callable[[Desk], tuple[QueueFilter, Callable[[Case], bool]]]

FILTERS: dict[str, Filter] = {
    "team": lambda d: (
        QueueFilter(team=d.team("Payments").id),
        lambda c: c.team_id == d.team("Payments").id,
    ),
    "assignee": lambda d: (
        QueueFilter(assignee=d.agent("carl@example.com").id),
        lambda c: c.assignee_id == d.agent("carl@example.com").id,
    ),
    "unassigned": lambda d: (QueueFilter(assignee="unassigned"), lambda c: c.assignee_id is None),
    "channel": lambda d: (QueueFilter(channel=Channel.CHAT), lambda c: c.channel is Channel.CHAT),
    "category": lambda d: (
        QueueFilter(category="delivery_delay"),
        lambda c: c.category == "delivery_delay",
    ),
    "priority": lambda d: (QueueFilter(priority="P1"), lambda c: c.priority == "P1"),
    "public": lambda d: (QueueFilter(public=True), lambda c: c.public),
    "breached": lambda d: (QueueFilter(breached=True), breached),
    "several": lambda d: (
        QueueFilter(breached=True, channel=Channel.EMAIL, sort=QueueSort.URGENCY),
        lambda c: breached(c) and c.channel is Channel.EMAIL,
    ),
}


def test_each_filter_keeps_exactly_its_cases_in_urgency_order(desk: Desk) -> None:
    every = open_cases(desk.session)
    for name, make in FILTERS.items():
        filt, keep = make(desk)
        expected = [c.id for c in every if keep(c)]
        assert 0 < len(expected) < len(every), f"{name}: the desk should have cases both sides"
        found = queue_page(desk.session, filt, team_ids=None, limit=500, offset=0, now=NOW)
        assert [r.id for r in found.rows] == expected, name
        assert found.total == len(expected), name


def test_status_filters_and_waiting_cases(desk: Desk) -> None:
    s = desk.session
    assert desk.waiting not in page(s)
    assert desk.waiting in page(s, QueueFilter(include_waiting=True))
    assert page(s, QueueFilter(status=CaseStatus.WAITING_ON_CUSTOMER)) == [desk.waiting]
    assert page(s, QueueFilter(status=CaseStatus.ACKNOWLEDGED)) == [desk.answered]
    resolved = page(s, QueueFilter(status=CaseStatus.RESOLVED))
    assert len(resolved) == 1  # Cy's earlier case


def test_breached_filter_agrees_with_the_rows_flag(desk: Desk) -> None:
    s = desk.session
    rows = queue_page(s, QueueFilter(), team_ids=None, limit=500, offset=0, now=NOW).rows
    assert page(s, QueueFilter(breached=True)) == [r.id for r in rows if r.breached]


def test_a_recorded_breach_counts_even_before_its_due_time(desk: Desk, engine: Engine) -> None:
    s = desk.session
    s.commit()
    fired = run_due(engine, now=NOW, settings=Settings())
    assert fired.fired.get("sla.breach", 0) > 0
    s.expire_all()
    flagged = [c.id for c in open_cases(s) if c.breaches]
    assert flagged
    # Read as of a moment before every due time: only the recorded breaches are late.
    early = T0 - timedelta(hours=6)
    rows = queue_page(s, QueueFilter(), team_ids=None, limit=500, offset=0, now=early).rows
    assert [r.id for r in rows if r.breached] == flagged
    late = queue_page(s, QueueFilter(breached=True), team_ids=None, limit=500, offset=0, now=early)
    assert [r.id for r in late.rows] == flagged
    assert [c.id for c in open_cases(s) if breached(c, early)] == flagged


# ---- search ---------------------------------------------------------------------------------


SEARCHES = (
    ("ana lopez", "ana"),
    ("ANA@EXAMPLE", "ana"),
    ("Double charge", "ana"),
    ("@pat_x", "pat"),
    ("pat_x", "pat"),
    ("bo@example.com", "bo"),
    ("Berg", "bo"),
)


def test_search_by_name_handle_email_or_subject(desk: Desk) -> None:
    for q, who in SEARCHES:
        assert page(desk.session, QueueFilter(q=q)) == [getattr(desk, who)], q


def test_search_by_case_number(desk: Desk) -> None:
    s = desk.session
    assert page(s, QueueFilter(q=f"#{desk.bo}")) == [desk.bo]
    assert page(s, QueueFilter(q=f"  # {desk.cy} ")) == [desk.cy]
    assert page(s, QueueFilter(q="#99999999999")) == []
    assert page(s, QueueFilter(q=f"#{desk.waiting}")) == []  # waiting: not in the open queue
    assert page(s, QueueFilter(q=f"#{desk.waiting}", include_waiting=True)) == [desk.waiting]
    # A bare number finds the case of that number (and any text holding it).
    assert desk.bo in page(s, QueueFilter(q=str(desk.bo)))


def test_search_wildcards_are_plain_text(desk: Desk) -> None:
    s = desk.session
    assert page(s, QueueFilter(q="%")) == []
    assert page(s, QueueFilter(q="_")) != page(s)  # only what holds a "_" (the X handles)
    assert page(s, QueueFilter(q="nobody-has-this")) == []
    assert page(s, QueueFilter(q="   ")) == page(s)


# ---- teams and paging -----------------------------------------------------------------------


def test_an_agent_sees_only_their_teams_cases(desk: Desk) -> None:
    s = desk.session
    payments = desk.team("Payments").id
    care = desk.team("Care").id
    mine = frozenset({payments})
    expected = [c.id for c in open_cases(s) if c.team_id == payments]
    assert page(s, team_ids=mine) == expected
    both = [c.id for c in open_cases(s) if c.team_id in (payments, care)]
    assert page(s, team_ids=frozenset({payments, care})) == both
    assert page(s, QueueFilter(team=care), team_ids=mine) == []
    assert page(s, team_ids=frozenset()) == []
    assert queue_page(s, QueueFilter(), team_ids=mine, limit=3, offset=0, now=NOW).total == len(
        expected
    )


def test_pages_add_up_to_the_whole_queue(desk: Desk) -> None:
    s = desk.session
    whole = page(s)
    seen: list[int] = []
    offset = 0
    while True:
        found = queue_page(s, QueueFilter(), team_ids=None, limit=7, offset=offset, now=NOW)
        assert found.total == len(whole)
        assert (found.limit, found.offset) == (7, offset)
        if not found.rows:
            break
        seen += [r.id for r in found.rows]
        offset += 7
    assert seen == whole
    beyond = queue_page(s, QueueFilter(), team_ids=None, limit=7, offset=10_000, now=NOW)
    assert (beyond.rows, beyond.total) == ((), len(whole))
    # Searches and the breach test count with the page itself.
    for filt in (QueueFilter(q="example"), QueueFilter(breached=True)):
        every = page(s, filt)
        assert len(every) > 7
        for offset in (0, 7, len(every) - 1, len(every) + 5):
            found = queue_page(s, filt, team_ids=None, limit=7, offset=offset, now=NOW)
            assert [r.id for r in found.rows] == every[offset : offset + 7]
            assert found.total == len(every)


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_a_page_costs_the_same_few_queries_whatever_its_size(
    desk: Desk, statements: list[str]
) -> None:
    s = desk.session
    assert len(open_cases(s)) > 50
    s.commit()  # nothing left to flush: only the page's own statements are counted
    s.connection()  # and the transaction has begun (SQLite's BEGIN is a statement)
    counts = {}
    for limit in (5, 50):
        statements.clear()
        found = queue_page(s, QueueFilter(), team_ids=None, limit=limit, offset=0, now=NOW)
        assert len(found.rows) == limit
        counts[limit] = len(statements)
    assert counts[5] == counts[50] <= 4, counts
    statements.clear()
    queue_page(
        s, QueueFilter(q="example", breached=True), team_ids=None, limit=50, offset=0, now=NOW
    )
    assert len(statements) <= 4
    statements.clear()
    facets(s, team_ids=None)
    assert len(statements) == 1


# ---- the dropdowns --------------------------------------------------------------------------


def test_facets_count_the_open_cases(desk: Desk) -> None:
    s = desk.session
    every = open_cases(s, waiting=True)
    found = facets(s, team_ids=None)
    assert found.total == len(every)
    assert found.status[CaseStatus.WAITING_ON_CUSTOMER] == 1
    assert CaseStatus.RESOLVED not in found.status
    assert sum(found.priority.values()) == len(every)
    assert found.priority["P1"] == sum(c.priority == "P1" for c in every)
    assert found.channel[Channel.X] == sum(c.channel is Channel.X for c in every)
    assert found.category["refunds"] == sum(c.category == "refunds" for c in every)
    by_team = {t.name: t.count for t in found.team}
    payments = desk.team("Payments")
    assert by_team["Payments"] == sum(c.team_id == payments.id for c in every)
    assert sum(by_team.values()) == len(every)
    mine = facets(s, team_ids=frozenset({payments.id}))
    assert [t.name for t in mine.team] == ["Payments"]
    assert mine.total == by_team["Payments"]
    assert facets(s, team_ids=frozenset()).total == 0


# ---- assigning many -------------------------------------------------------------------------


def test_bulk_assign_gives_each_case_through_the_usual_assignment(desk: Desk) -> None:
    s = desk.session
    payments = desk.team("Payments")
    ids = page(s, QueueFilter(team=payments.id))[:3]
    assert len(ids) == 3
    done = bulk_assign(
        s,
        [*ids, ids[0]],
        agent_email="ann@example.com",
        actor="agent:lea@example.com",
        now=NOW,
        team_ids=frozenset({payments.id}),
        reason="taking these on",
    )
    ann = desk.agent("ann@example.com")
    assert [c.id for c in done] == ids
    assert all(c.assignee_id == ann.id for c in done)
    rows = queue_page(
        s, QueueFilter(assignee=ann.id), team_ids=None, limit=50, offset=0, now=NOW
    ).rows
    assert set(ids) <= {r.id for r in rows}
    assert {r.assignee_email for r in rows} == {"ann@example.com"}
    for case_id in ids:
        events = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "assigned")
        ).all()
        last = events[-1]
        assert (last.to_value, last.actor) == ("ann@example.com", "agent:lea@example.com")
    to_team = bulk_assign(s, ids[:1], team_name="Care", actor="api", now=NOW, team_ids=None)
    assert to_team[0].team_id == desk.team("Care").id
    assert to_team[0].assignee_id is None


def test_bulk_assign_refuses_all_when_one_case_is_outside_the_teams(desk: Desk) -> None:
    s = desk.session
    payments = desk.team("Payments")
    mine = page(s, QueueFilter(team=payments.id))[:2]
    other = next(c.id for c in open_cases(s) if c.team_id != payments.id)
    before = s.scalar(select(CaseEvent.id).order_by(CaseEvent.id.desc()).limit(1))
    with pytest.raises(Forbidden, match=f"case {other}"):
        bulk_assign(
            s,
            [*mine, other],
            agent_email="ann@example.com",
            actor="agent:ann@example.com",
            now=NOW,
            team_ids=frozenset({payments.id}),
        )
    s.flush()
    assert s.scalar(select(CaseEvent.id).order_by(CaseEvent.id.desc()).limit(1)) == before
    with pytest.raises(NotFound):
        bulk_assign(s, [999_999], team_name="Care", actor="api", now=NOW, team_ids=None)
    assert bulk_assign(s, [], team_name="Care", actor="api", now=NOW, team_ids=None) == []
