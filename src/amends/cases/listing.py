"""The web desk's queue page: open cases filtered, searched and sorted, each row with what an
agent reads at a glance, in a fixed number of queries per page whatever its size; the counts
behind the filter dropdowns; and assignment of many cases at once. Reads only, except
`bulk_assign`, which flushes; the caller commits."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    cast,
    false,
    func,
    or_,
    select,
)
from sqlalchemy import case as when
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from amends.analysis.priority import DEFAULT_RULES
from amends.cases import service
from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES, PRIORITIES, CaseStatus, Clock
from amends.customers.models import Customer, Identity
from amends.db import MAX_ID, chunked
from amends.errors import Forbidden, InvalidInput, NotFound
from amends.feedback.models import Feedback
from amends.feedback.rules import Channel, Direction
from amends.offers.rules import CustomerValue, value_tier
from amends.teams.models import Agent, Team

UNASSIGNED = "unassigned"
_CASE_ID = re.compile(r"#\s*(\d{1,12})")


class QueueSort(StrEnum):
    URGENCY = "urgency"  # as cases.service.queue: priority, nearest running deadline, age
    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True)
class QueueFilter:
    """What the queue page asks for; every field narrows the list, None or False leaves it."""

    status: CaseStatus | None = None  # one status; None: the open ones
    include_waiting: bool = False  # with status None: also the cases waiting on the customer
    team: int | None = None  # team id
    assignee: int | Literal["unassigned"] | None = None  # agent id, or "unassigned"
    channel: Channel | None = None
    category: str | None = None
    priority: str | None = None  # "P1" .. "P4"
    public: bool = False  # public complaints only
    breached: bool = False  # cases with a broken promise only (as QueueRow.breached)
    q: str | None = None  # subject, customer name, handle or email; "#123" for case 123
    sort: QueueSort = QueueSort.URGENCY


class SentimentLabel(StrEnum):
    VERY_NEGATIVE = "very_negative"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


# Scores within this distance of zero read as neutral; "very negative" is where priority's
# rules start counting a message as very negative.
NEUTRAL_WITHIN = 0.2


def sentiment_label(score: float) -> SentimentLabel:
    """A word for a sentiment score in -1 .. 1."""
    if score <= DEFAULT_RULES.very_negative_at:
        return SentimentLabel.VERY_NEGATIVE
    if score < -NEUTRAL_WITHIN:
        return SentimentLabel.NEGATIVE
    if score <= NEUTRAL_WITHIN:
        return SentimentLabel.NEUTRAL
    return SentimentLabel.POSITIVE


@dataclass(frozen=True)
class ClockDue:
    """A running clock of a case (paused ones included) and whether it is past due."""

    clock: Clock
    due: datetime
    breached: bool


@dataclass(frozen=True)
class QueueRow:
    id: int
    subject: str
    status: CaseStatus
    priority: str | None
    channel: Channel
    public: bool
    category: str | None  # the case's own, as the category filter and facets count it
    reach: int | None  # the largest audience of a message on the case (followers)
    customer_id: int
    customer_name: str | None
    loyalty: CustomerValue  # new, repeat or loyal (offers.rules.value_tier, no value line)
    # The most urgent analysed complaint on the case: its sentiment and category.
    sentiment: float | None
    sentiment_label: SentimentLabel | None
    analysis_category: str | None
    clocks: tuple[ClockDue, ...]  # the running clocks, nearest due first
    breached: bool  # any promise broken: flagged, kept late, or running past due
    next_due_at: datetime | None
    paused: bool
    team_id: int | None
    team_name: str | None
    assignee_id: int | None
    assignee_name: str | None
    assignee_email: str | None
    opened_at: datetime
    feedback_count: int  # every item on the case, in and out


@dataclass(frozen=True)
class QueuePage:
    rows: tuple[QueueRow, ...]
    total: int  # every case the filter matches, not only this page
    limit: int
    offset: int


@dataclass(frozen=True)
class TeamCount:
    team_id: int | None  # None: cases no team owns yet
    name: str | None
    count: int


@dataclass(frozen=True)
class Facets:
    """Open cases (waiting ones included) counted by each dropdown's values."""

    total: int
    status: Mapping[CaseStatus, int]
    priority: Mapping[str | None, int]
    channel: Mapping[Channel, int]
    category: Mapping[str | None, int]
    team: tuple[TeamCount, ...]  # by name, the unowned last


# ---- filtering ------------------------------------------------------------------------------


def _within(team_ids: frozenset[int] | None) -> list[ColumnElement[bool]]:
    if team_ids is None:
        return []
    if not team_ids:
        return [false()]
    return [Case.team_id.in_(sorted(team_ids))]


def _flagged(clock: Clock) -> ColumnElement[bool]:
    # `breaches` is a JSON list of clock names, stored as text on both backends.
    return cast(Case.breaches, String).like(f'%"{clock.value}"%')


def breached_at(now: datetime) -> ColumnElement[bool]:
    """SQL for "a promise is broken as of `now`", the same test as `Deadline.breached` over
    `service.deadlines(case)`: a breach was recorded, or the promise was kept late, or it is
    still running past its due time."""
    first, met = Case.first_response_due, Case.first_responded_at
    resolution, resolved = Case.resolution_due, Case.resolved_at
    return or_(
        and_(
            first.is_not(None),
            or_(_flagged(Clock.FIRST_RESPONSE), and_(met.is_(None), first < now), met > first),
        ),
        and_(
            Case.next_response_due.is_not(None),
            or_(_flagged(Clock.NEXT_RESPONSE), Case.next_response_due < now),
        ),
        and_(
            resolution.is_not(None),
            or_(
                _flagged(Clock.RESOLUTION),
                and_(resolved.is_(None), resolution < now),
                resolved > resolution,
            ),
        ),
    )


def _contains(
    column: QueryableAttribute[str] | QueryableAttribute[str | None], text: str, *, sqlite: bool
) -> ColumnElement[bool]:
    """`column` holds `text`, ignoring case. SQLite's LIKE ignores (ASCII) case already, as
    its lower() does: ILIKE there would lower both sides of every row for nothing."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    if sqlite:
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _search(q: str, *, sqlite: bool) -> ColumnElement[bool] | None:
    text = q.strip()
    if not text:
        return None
    wanted = _CASE_ID.fullmatch(text)
    if wanted is not None:
        case_id = int(wanted.group(1))
        return Case.id == case_id if case_id <= MAX_ID else false()
    named = select(Customer.id).where(_contains(Customer.name, text, sqlite=sqlite))
    # An identity as first seen ("Ana.Lopez@Example.com", "@AnaLopez") holds what people type.
    known_as = select(Identity.customer_id).where(_contains(Identity.display, text, sqlite=sqlite))
    # A bare number is a case number too ("62"), as well as text to look for.
    number = [Case.id == int(text)] if text.isdigit() and len(text) < 10 else []
    return or_(
        *number,
        _contains(Case.subject, text, sqlite=sqlite),
        Case.customer_id.in_(named),
        Case.customer_id.in_(known_as),
    )


def conditions(
    filt: QueueFilter, *, team_ids: frozenset[int] | None, now: datetime, sqlite: bool = False
) -> list[ColumnElement[bool]]:
    """The WHERE clauses on `cases` for a filter, within the teams an agent may see."""
    if filt.status is not None:
        where: list[ColumnElement[bool]] = [Case.status == filt.status]
    else:
        statuses = set(OPEN_STATUSES)
        if not filt.include_waiting:
            statuses.discard(CaseStatus.WAITING_ON_CUSTOMER)
        if sqlite and _reads_every_row(filt):
            # Each open case's row is read for the test anyway: one pass over the table costs
            # a third of walking the status index and fetching every row from it, and SQLite
            # walks an index whenever one serves a term, so the status test offers it none.
            where = [Case.status.not_in(sorted(set(CaseStatus) - statuses))]
        else:
            where = [Case.status.in_(sorted(statuses))]
    where += _within(team_ids)
    if filt.team is not None:
        where.append(Case.team_id == filt.team)
    if filt.assignee == UNASSIGNED:
        where.append(Case.assignee_id.is_(None))
    elif filt.assignee is not None:
        where.append(Case.assignee_id == filt.assignee)
    if filt.channel is not None:
        where.append(Case.channel == filt.channel)
    if filt.category is not None:
        where.append(Case.category == filt.category)
    if filt.priority is not None:
        where.append(Case.priority == filt.priority)
    if filt.public:
        where.append(Case.public.is_(True))
    if filt.breached:
        where.append(breached_at(now))
    if filt.q is not None:
        found = _search(filt.q, sqlite=sqlite)
        if found is not None:
            where.append(found)
    return where


# Priority by rank rather than by its text: the order of cases.service.queue for P1 .. P4 and
# none (last), and PostgreSQL sorts integers in a third of the time it sorts strings (a deep
# page sorts every open case).
_PRIORITY_RANK = when(
    {p: rank for rank, p in enumerate(PRIORITIES)}, value=Case.priority, else_=len(PRIORITIES)
)


def _reads_every_row(filt: QueueFilter) -> bool:
    """Whether the filter tests something of every case's row beyond the indexed columns:
    the breach test, or a text search (a case number is found by its id)."""
    text = (filt.q or "").strip()
    return filt.breached or bool(text and not _CASE_ID.fullmatch(text))


_ORDER: dict[QueueSort, tuple[Any, ...]] = {
    # Keep in step with cases.service.queue: the tests compare the two.
    QueueSort.URGENCY: (
        _PRIORITY_RANK,
        Case.next_due_at.is_(None),
        Case.next_due_at,
        Case.opened_at,
        Case.id,
    ),
    QueueSort.NEWEST: (Case.opened_at.desc(), Case.id.desc()),
    QueueSort.OLDEST: (Case.opened_at, Case.id),
}


# ---- the page -------------------------------------------------------------------------------


def queue_page(
    session: Session,
    filt: QueueFilter,
    *,
    team_ids: frozenset[int] | None,
    limit: int,
    offset: int,
    now: datetime,
) -> QueuePage:
    """One page of the queue. `team_ids` None sees every team, else only cases those teams
    own. Four queries at most, whatever `limit` (up to `db.IN_CHUNK` rows): the page's ids,
    the total (none when the page tells it; read with the ids when a search or the breach
    test reads every row), the cases with their people, and their feedback."""
    if limit < 1 or offset < 0:
        raise InvalidInput("limit must be positive and offset not negative")
    sqlite = session.get_bind().dialect.name == "sqlite"
    where = conditions(filt, team_ids=team_ids, now=now, sqlite=sqlite)
    query = select(Case.id).where(*where).order_by(*_ORDER[filt.sort]).limit(limit).offset(offset)
    counted: int | None = None
    if _reads_every_row(filt):
        # The page and its total in one pass, so that each case is tested once; for cheap
        # tests a second, index-only count costs less than the window.
        found = session.execute(query.add_columns(func.count().over())).all()
        ids = [case_id for case_id, _ in found]
        counted = int(found[0][1]) if found else None
    else:
        ids = list(session.scalars(query))
    if counted is not None:
        total = counted
    elif 0 < len(ids) < limit or (not ids and offset == 0):
        total = offset + len(ids)  # the last page: nothing to count
    else:
        total = session.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    return QueuePage(tuple(_rows(session, ids, now=now)), total, limit, offset)


@dataclass(frozen=True)
class _Messages:
    count: int
    reach: int | None
    sentiment: float | None
    category: str | None


def _page_rows() -> Any:
    """The cases of a page with their customer, team and assignee, and how many cases the
    customer had before each (counted as offers.service.customer_value counts them)."""
    earlier = aliased(Case)
    earlier_cases = (
        select(func.count(earlier.id))
        .where(
            earlier.customer_id == Case.customer_id,
            earlier.opened_at < Case.opened_at,
            earlier.id != Case.id,
            earlier.merged_into_id.is_(None),
        )
        .correlate(Case)
        .scalar_subquery()
    )
    return (
        select(
            Case,
            Customer.name,
            Customer.customer_since,
            Customer.order_count,
            Customer.lifetime_value,
            earlier_cases,
            Team.name,
            Agent.name,
            Agent.email,
        )
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(Team, Team.id == Case.team_id)
        .outerjoin(Agent, Agent.id == Case.assignee_id)
        .where(Case.id.in_(bindparam("ids", expanding=True)))
    )


def _page_messages() -> Any:
    """Per case: its items, the widest reach, and the most urgent analysed complaint (the
    lowest priority string, then the earliest), one row per case by a window function."""
    f = Feedback
    analysed = and_(f.direction == Direction.IN, f.automated.is_(False), f.priority.is_not(None))
    ranked = (
        select(
            f.case_id,
            f.sentiment,
            f.category,
            func.count().over(partition_by=f.case_id).label("messages"),
            func.max(f.reach).over(partition_by=f.case_id).label("reach"),
            func.row_number()
            .over(
                partition_by=f.case_id,
                order_by=(when((analysed, 0), else_=1), f.priority, f.received_at, f.id),
            )
            .label("rank"),
        )
        .where(f.case_id.in_(bindparam("ids", expanding=True)))
        .subquery()
    )
    return select(
        ranked.c.case_id,
        ranked.c.messages,
        ranked.c.reach,
        ranked.c.sentiment,
        ranked.c.category,
    ).where(ranked.c.rank == 1)


# Built once: a page runs them with its ids, without composing SQL again.
_PAGE_ROWS = _page_rows()
_PAGE_MESSAGES = _page_messages()


def _rows(session: Session, ids: Sequence[int], *, now: datetime) -> list[QueueRow]:
    if not ids:
        return []
    found: dict[int, Any] = {}
    messages: dict[int, _Messages] = {}
    for part in chunked(ids):
        found.update({row[0].id: row for row in session.execute(_PAGE_ROWS, {"ids": part})})
        for case_id, items, reach, sentiment, category in session.execute(
            _PAGE_MESSAGES, {"ids": part}
        ):
            messages[case_id] = _Messages(int(items), reach, sentiment, category)
    out = []
    for case_id in ids:
        row = found.get(case_id)
        if row is None:  # gone since the ids were read (another unit of work)
            continue
        out.append(_row(row, messages.get(case_id), now=now))
    return out


def _row(row: Any, said: _Messages | None, *, now: datetime) -> QueueRow:
    case: Case = row[0]
    name, since, orders, ltv, earlier, team_name, agent_name, agent_email = row[1:]
    deadlines = service.deadlines(case)
    broken = {d.clock for d in deadlines if d.breached(now)}
    running = sorted(service.running_clocks(case).items(), key=lambda kv: (kv[1], kv[0].value))
    sentiment = said.sentiment if said else None
    return QueueRow(
        id=case.id,
        subject=case.subject,
        status=case.status,
        priority=case.priority,
        channel=case.channel,
        public=case.public,
        category=case.category,
        reach=said.reach if said else None,
        customer_id=case.customer_id,
        customer_name=name,
        loyalty=_loyalty(since, orders, ltv, int(earlier or 0), now=now),
        sentiment=sentiment,
        sentiment_label=sentiment_label(sentiment) if sentiment is not None else None,
        analysis_category=said.category if said else None,
        clocks=tuple(ClockDue(clock, due, clock in broken) for clock, due in running),
        breached=bool(broken),
        next_due_at=case.next_due_at,
        paused=case.paused_at is not None,
        team_id=case.team_id,
        team_name=team_name,
        assignee_id=case.assignee_id,
        assignee_name=agent_name,
        assignee_email=agent_email,
        opened_at=case.opened_at,
        feedback_count=said.count if said else 0,
    )


def _loyalty(
    since: datetime | None,
    orders: int | None,
    ltv: Decimal | None,
    earlier: int,
    *,
    now: datetime,
) -> CustomerValue:
    # No high-value line: the queue shows loyalty (new, repeat, loyal), not the offer tier.
    return value_tier(
        lifetime_value=ltv,
        customer_since=since,
        order_count=orders,
        earlier_cases=earlier,
        now=now,
        high_value_over=None,
    )


# ---- the dropdowns --------------------------------------------------------------------------


def facets(session: Session, *, team_ids: frozenset[int] | None) -> Facets:
    """Open cases within `team_ids` (None: every team) by status, priority, channel, category
    and team. One statement and one pass over the cases: a GROUP BY of all five columns at
    once (a few hundred groups), summed here, costs a third of five GROUP BYs."""
    team_name = select(Team.name).where(Team.id == Case.team_id).scalar_subquery()
    groups = (
        select(
            Case.status,
            Case.priority,
            Case.channel,
            Case.category,
            Case.team_id,
            team_name,
            func.count(),
        )
        .where(Case.status.in_(sorted(OPEN_STATUSES)), *_within(team_ids))
        .group_by(Case.status, Case.priority, Case.channel, Case.category, Case.team_id)
    )
    status: Counter[CaseStatus] = Counter()
    priority: Counter[str | None] = Counter()
    channel: Counter[Channel] = Counter()
    category: Counter[str | None] = Counter()
    teams: Counter[tuple[int | None, str | None]] = Counter()
    for row_status, row_priority, row_channel, row_category, team_id, name, n in session.execute(
        groups
    ):
        status[row_status] += n
        priority[row_priority] += n
        channel[row_channel] += n
        category[row_category] += n
        teams[(team_id, name)] += n
    team = sorted(
        (TeamCount(team_id, name, n) for (team_id, name), n in teams.items()),
        key=lambda t: (t.team_id is None, (t.name or "").lower(), t.team_id or 0),
    )
    return Facets(
        total=sum(status.values()),
        status=dict(status),
        priority=dict(priority),
        channel=dict(channel),
        category=dict(category),
        team=tuple(team),
    )


# ---- acting on many -------------------------------------------------------------------------


def bulk_assign(
    session: Session,
    case_ids: Sequence[int],
    *,
    agent_email: str | None = None,
    team_name: str | None = None,
    actor: str,
    now: datetime,
    team_ids: frozenset[int] | None,
    reason: str | None = None,
) -> list[Case]:
    """Give each case to an agent or a team through `service.assign` (its events and rules,
    one case at a time). Every case is checked first: one that is missing, or outside
    `team_ids` (None: every team), refuses them all. The caller commits."""
    wanted = list(dict.fromkeys(case_ids))
    if not wanted:
        return []
    if agent_email is None and team_name is None:
        raise InvalidInput("name an agent or a team")
    cases: dict[int, Case] = {}
    for part in chunked(wanted):
        cases.update({c.id: c for c in session.scalars(select(Case).where(Case.id.in_(part)))})
    for case_id in wanted:
        case = cases.get(case_id)
        if case is None:
            raise NotFound("case", case_id)
        if team_ids is not None and case.team_id not in team_ids:
            raise Forbidden(f"case {case_id} belongs to a team you are not in")
    return [
        service.assign(
            session,
            case_id,
            agent_email=agent_email,
            team_name=team_name,
            actor=actor,
            now=now,
            reason=reason,
        )
        for case_id in wanted
    ]
