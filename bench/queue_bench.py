"""Queue page speed: `cases.listing.queue_page` over a desk of open cases, next to baselines.

`seed_open_cases` fills a database with N open cases as the desk would hold them, by bulk
INSERTs: customers (a third with CRM tenure, orders and value; emails and handles), complaints on
six channels whose analyses come from the real pipeline (run once per text and channel), the
cases' clocks planned by the playbook (replies, a later message, pauses and recorded breaches
where their status says so), teams and agents from the playbook with most cases assigned,
their events and pending SLA timers, and half as many closed cases from past months.

Then, in the same database, the median of --repeat runs (each in a fresh session, as a request
has) of: the first page (50 rows), a filtered page, a text search, a deep page (offset 5,000, or
half the cases when fewer), and the dropdowns' facets; next to the baselines `SELECT count(*)`
of the open cases and `cases.service.queue` (the API's queue call: ORM rows, no joined facts),
and to the API's way of showing those rows (team and assignee loaded per row). Sizes 1,000 and
10,000 show how the time grows. Each figure comes with the statements it ran.

    .venv/bin/python bench/queue_bench.py [--sizes 1000,10000] [--repeat 15]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

A file SQLite database always; PostgreSQL too when --database-url is given (in a schema of its
own, dropped afterwards). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.orm import Session

from amends.analysis import AnalysisContext, analyze_many
from amends.cases import service
from amends.cases.listing import QueueFilter, QueuePage, facets, queue_page
from amends.cases.models import Case, CaseEvent
from amends.cases.rules import OPEN_STATUSES, CaseStatus, Clock
from amends.customers.models import Customer, Identity
from amends.customers.rules import IdentityKind
from amends.db import make_engine, session_scope
from amends.feedback.models import Feedback
from amends.feedback.rules import Channel, Direction, source_key
from amends.feedback.triage import EMPTY_ANALYSIS, analysis_columns
from amends.migrate import upgrade
from amends.playbook.rules import Policy
from amends.playbook.service import active_playbook, active_policy, import_playbook
from amends.teams.models import Agent, Team
from amends.timers.models import Timer, TimerStatus

# A Monday afternoon; the open cases were opened over the two weeks before it.
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
PAGE = 50
CHUNK = 2000  # rows per INSERT statement

PLAYBOOK = """
name: Bench Outfitters
calendars:
  office:
    timezone: Europe/London
    hours: {mon: "09:00-17:30", tue: "09:00-17:30", wed: "09:00-17:30", thu: "09:00-17:30",
            fri: "09:00-16:00"}
  always: {timezone: UTC, hours: 24/7}
teams:
  - name: Payments
    categories: [billing, refunds, cancellation]
    lead: priya@example.com
    agents:
      - {name: Priya Shah, email: priya@example.com}
      - {name: Tom Hale, email: tom@example.com}
      - {name: Ines Costa, email: ines@example.com}
      - {name: Omar Haddad, email: omar@example.com}
  - name: Deliveries
    categories: [delivery_delay, wrong_or_damaged_item]
    lead: rosa@example.com
    agents:
      - {name: Rosa Diaz, email: rosa@example.com}
      - {name: Sam Okafor, email: sam@example.com}
      - {name: Mei Tanaka, email: mei@example.com}
      - {name: Jon Berg, email: jon@example.com}
  - name: Product
    categories: [product_defect, app_or_website_fault, account_access]
    lead: ada@example.com
    agents:
      - {name: Ada Novak, email: ada@example.com}
      - {name: Luis Ortega, email: luis@example.com}
      - {name: Kim Park, email: kim@example.com}
  - name: Care
    lead: lee@example.com
    agents:
      - {name: Lee Park, email: lee@example.com}
      - {name: Nia Brown, email: nia@example.com}
      - {name: Ola Nowak, email: ola@example.com}
default_team: Care
sla:
  calendar: office
  warn_at: 0.75
  pause_on: [waiting_on_customer]
  targets:
    P1: {first_response: 30m, next_response: 1h, resolution: 8h, calendar: always}
    P2: {first_response: 2h, next_response: 4h, resolution: 16h}
    P3: {first_response: 8h, next_response: 8h, resolution: 40h}
    P4: {first_response: 16h, next_response: 16h, resolution: 80h}
  public:
    P2: {first_response: 1h}
    P3: {first_response: 2h}
"""

TEMPLATES = (
    "You charged me twice for order {n}, please refund the second payment.",
    "I was charged twice for order {n}, this is the third time, I want a refund or I'm taking "
    "you to court and cancelling my account.",
    "My parcel {n} is a week late and nobody answers. Where is it?",
    "The app crashes every time I open my account page. Annoying. ({n})",
    "The box for order {n} arrived crushed and the glass inside is broken.",
    "Your driver was rude to my mother and threw parcel {n} at the door. Disgusting!!",
    "Still waiting for my refund on order {n} after 3 weeks, this is ridiculous.",
    "I can't log in to my account, the password reset email never arrives ({n}).",
    "Please stop sending me marketing emails, I unsubscribed twice ({n}).",
    "The blender from order {n} stopped working after two days, it smells of burning plastic.",
    "I want to cancel my subscription {n}, how do I do that?",
    "Order {n} arrived a day late, a bit disappointing but fine.",
)
FOLLOW_UP = "Any news on order {n}? I am still waiting."
# Channel, public, share of complaints.
CHANNELS = (
    (Channel.EMAIL, False, 0.40),
    (Channel.CHAT, False, 0.15),
    (Channel.WEB, False, 0.10),
    (Channel.X, True, 0.15),
    (Channel.SOCIAL, True, 0.08),
    (Channel.REVIEW, True, 0.12),
)
# Followers of a public author, by priority's bands (under 1,000; to 10,000; over).
REACH_BANDS = ((50, 999), (1_000, 9_999), (10_000, 250_000))
FIRST = (
    "Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Gus", "Hana", "Ivo", "Jana", "Kofi", "Lena",
    "Mateo", "Nora", "Omar", "Pia", "Quinn", "Rui", "Sara", "Tariq", "Uma", "Viktor", "Wen",
    "Yara", "Zoe",
)  # fmt: skip
LAST = (
    "Lopez", "Berg", "Chen", "Okafor", "Novak", "Haddad", "Silva", "Tanaka", "Brown", "Costa",
    "Dubois", "Ivanova", "Kim", "Moreau", "Nakamura", "Ortega", "Patel", "Quist", "Rossi",
    "Schmidt",
)  # fmt: skip
STATUS_MIX = (
    (CaseStatus.NEW, 0.45),
    (CaseStatus.ACKNOWLEDGED, 0.20),
    (CaseStatus.IN_PROGRESS, 0.25),
    (CaseStatus.WAITING_ON_CUSTOMER, 0.10),
)


@dataclass(frozen=True)
class Seeded:
    """What `seed_open_cases` made, and the moment the desk stands at."""

    now: datetime
    open_cases: int
    closed_cases: int
    customers: int
    feedback: int
    seconds: float
    team_ids: dict[str, int] = field(default_factory=dict)


def _pick(rng: random.Random, weighted: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    return rng.choices(weighted, weights=[w[-1] for w in weighted])[0]


def _band(reach: int | None) -> int | None:
    if reach is None:
        return None
    return next(i for i, (lo, hi) in enumerate(REACH_BANDS) if lo <= reach <= hi)


class _Analyses:
    """The pipeline's analysis of each (template, channel, public, reach band), run once: the
    text differs between complaints only by an order number, which analysis does not weigh."""

    def __init__(self) -> None:
        self.found: dict[tuple[int, Channel, bool, int | None], dict[str, Any]] = {}

    def prepare(self, keys: set[tuple[int, Channel, bool, int | None]]) -> None:
        wanted = sorted(keys - set(self.found), key=str)
        texts, contexts = [], []
        for template, channel, public, band in wanted:
            text = FOLLOW_UP if template < 0 else TEMPLATES[template]
            texts.append(text.format(n=1000))
            reach = REACH_BANDS[band][0] if band is not None else None
            contexts.append(
                AnalysisContext(channel=channel.value, public=public, reach=reach, now=NOW)
            )
        for key, result in zip(wanted, analyze_many(texts, contexts), strict=True):
            self.found[key] = analysis_columns(result)

    def __getitem__(self, key: tuple[int, Channel, bool, int | None]) -> dict[str, Any]:
        return self.found[key]


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model.__table__), rows[start : start + CHUNK])


def _next_id(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


@dataclass
class _Rows:
    customers: list[dict[str, Any]] = field(default_factory=list)
    identities: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)


class _Builder:
    def __init__(
        self, session: Session, policy: Policy, rng: random.Random, analyses: _Analyses
    ) -> None:
        self.policy, self.rng, self.analyses = policy, rng, analyses
        self.rows = _Rows()
        self.customer_id = _next_id(session, Customer)
        self.case_id = _next_id(session, Case)
        self.feedback_id = _next_id(session, Feedback)
        self.plans: dict[Clock, service.ClockPlan] = {}
        teams = {t.name.lower(): t.id for t in session.scalars(select(Team))}
        self.team_ids = teams
        self.members: dict[int, list[tuple[int, str, str]]] = {}
        for agent in session.scalars(select(Agent).where(Agent.active).order_by(Agent.id)):
            if agent.team_id is not None:
                self.members.setdefault(agent.team_id, []).append(
                    (agent.id, agent.name, agent.email)
                )

    # -- customers ------------------------------------------------------------------------

    def customer(self, index: int) -> dict[str, Any]:
        rng = self.rng
        cid = self.customer_id
        self.customer_id += 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        crm = rng.random() < 0.35
        row = {
            "id": cid,
            "ref": f"c_{rng.getrandbits(80):020x}",
            "name": f"{first} {last}",
            "customer_since": NOW - timedelta(days=rng.randint(20, 3000)) if crm else None,
            "order_count": rng.randint(1, 40) if crm else None,
            "lifetime_value": Decimal(rng.randint(1000, 300_000)) / 100 if crm else None,
            "abusive": False,
            "created_at": NOW - timedelta(days=rng.randint(420, 900)),
        }
        self.rows.customers.append(row)
        address = f"{first}.{last}.{index}@example.com"
        self._identity(cid, IdentityKind.EMAIL, f"email:{address.lower()}", address, row)
        if rng.random() < 0.45:
            handle = f"{first}{last}{index}"
            self._identity(
                cid, IdentityKind.HANDLE, f"handle:x:{handle.lower()}", f"@{handle}", row
            )
            row["handle"] = f"@{handle}"
        return row

    def _identity(
        self, cid: int, kind: IdentityKind, key: str, display: str, row: dict[str, Any]
    ) -> None:
        self.rows.identities.append(
            {
                "customer_id": cid,
                "kind": kind,
                "key": key,
                "display": display,
                "created_at": row["created_at"],
            }
        )

    # -- cases ----------------------------------------------------------------------------

    def open_case(self, who: dict[str, Any]) -> None:
        rng = self.rng
        channel, public, _ = _pick(rng, CHANNELS)
        reach = (
            rng.randint(*rng.choice(REACH_BANDS))
            if channel in (Channel.X, Channel.SOCIAL)
            else None
        )
        template = rng.randrange(len(TEMPLATES))
        found = self.analyses[(template, channel, public, _band(reach))]
        opened = NOW - timedelta(seconds=min(14 * 86400, rng.expovariate(1 / (2 * 86400))))
        status = _pick(rng, STATUS_MIX)[0]
        case = self._case(who, channel, public, found, opened, status)
        self._complaint(case, who, template, channel, public, reach, opened, found)
        if status is CaseStatus.NEW:
            self._finish(case)
            return
        target = case.first_response_due - opened if case.first_response_due else timedelta(hours=1)
        replied = opened + timedelta(seconds=rng.uniform(300, 1.5 * target.total_seconds() + 300))
        if replied >= NOW:
            case.status = CaseStatus.NEW
            self._finish(case)
            return
        case.first_responded_at = replied
        self._reply(case, replied)
        if status is CaseStatus.WAITING_ON_CUSTOMER:
            case.paused_at = replied
        elif status is CaseStatus.IN_PROGRESS and rng.random() < 0.5:
            wrote = replied + (NOW - replied) * rng.random()
            self._complaint(case, who, -1, channel, public, reach, wrote, None)
            self._raise(case, self.analyses[(-1, channel, public, _band(reach))]["priority"], wrote)
            plan = service.plan_clock(self.policy, case, Clock.NEXT_RESPONSE, wrote)
            case.next_response_due = plan.due
            self.plans[Clock.NEXT_RESPONSE] = plan
        self._finish(case)

    def _raise(self, case: Case, priority: str | None, at: datetime) -> None:
        """A more urgent later complaint raises the case's priority, and its running promises
        come forward to the new targets, never back (as ingest does)."""
        if priority is None or (case.priority is not None and case.priority <= priority):
            return
        case.priority = priority
        for clock in (Clock.FIRST_RESPONSE, Clock.RESOLUTION):
            due = self.plans[clock].due
            if clock in service.running_clocks(case) and due > at:
                plan = service.plan_clock(self.policy, case, clock, case.opened_at)
                if plan.due >= due:
                    continue
                setattr(case, f"{clock.value}_due", plan.due)
                self.plans[clock] = plan

    def _case(
        self,
        who: dict[str, Any],
        channel: Channel,
        public: bool,
        found: dict[str, Any],
        opened: datetime,
        status: CaseStatus,
    ) -> Case:
        owner = self.policy.owner(found["category"])
        team_id = self.team_ids.get((owner or "").lower())
        agents = self.members.get(team_id or 0, [])
        assignee = self.rng.choice(agents) if agents and self.rng.random() < 0.75 else None
        case = Case(
            id=self.case_id,
            customer_id=who["id"],
            status=status,
            subject="",
            channel=channel,
            public=public,
            priority=found["priority"],
            severity=found["severity"],
            category=found["category"],
            team_id=team_id,
            assignee_id=assignee[0] if assignee else None,
            opened_at=opened,
            updated_at=opened,
            breaches=[],
            escalation_level=0,
            reopened_count=0,
        )
        self.case_id += 1
        self.plans = {}
        for clock in (Clock.FIRST_RESPONSE, Clock.RESOLUTION):
            plan = service.plan_clock(self.policy, case, clock, opened)
            setattr(case, f"{clock.value}_due", plan.due)
            self.plans[clock] = plan
        targets = self.policy.targets_for(case.priority, channel, public)
        case.sla_calendar = targets.calendar
        case.playbook_version = self.policy.version
        self.rows.events.append(
            self._event(case, "opened", opened, service.CUSTOMER, to_value=CaseStatus.NEW.value)
        )
        if assignee is not None:
            self.rows.events.append(
                self._event(case, "assigned", opened, service.SYSTEM, to_value=assignee[2])
            )
        return case

    def _complaint(
        self,
        case: Case,
        who: dict[str, Any],
        template: int,
        channel: Channel,
        public: bool,
        reach: int | None,
        at: datetime,
        found: dict[str, Any] | None,
    ) -> None:
        if found is None:
            found = self.analyses[(template, channel, public, _band(reach))]
        text = (FOLLOW_UP if template < 0 else TEMPLATES[template]).format(n=case.id)
        if not case.subject:
            case.subject = text if len(text) <= 120 else text[:117].rstrip() + "..."
        handle = who.get("handle") if channel in (Channel.X, Channel.SOCIAL) else None
        self._feedback(
            case,
            Direction.IN,
            text,
            at,
            author_name=who["name"],
            author_handle=handle,
            public=public,
            reach=reach,
            analysis=found,
        )

    def _reply(self, case: Case, at: datetime) -> None:
        agents = self.members.get(case.team_id or 0, [])
        agent = next((a for a in agents if a[0] == case.assignee_id), None) or (
            agents[0] if agents else (0, "Desk", "desk@example.com")
        )
        text = f"I'm sorry about this. I'm looking into case {case.id} now and will write again."
        self._feedback(
            case,
            Direction.OUT,
            text,
            at,
            author_name=agent[1],
            author_handle=None,
            public=case.public,
            reach=None,
            analysis=EMPTY_ANALYSIS,
            meta={"agent": agent[2]},
        )
        actor = f"agent:{agent[2]}"
        self.rows.events.append(self._event(case, "replied", at, actor))

    def _feedback(
        self,
        case: Case,
        direction: Direction,
        text: str,
        at: datetime,
        *,
        author_name: str | None,
        author_handle: str | None,
        public: bool,
        reach: int | None,
        analysis: dict[str, Any],
        meta: dict[str, Any] | None = None,
    ) -> None:
        fid = self.feedback_id
        self.feedback_id += 1
        source_id = f"bench-{fid}"
        self.rows.feedback.append(
            {
                "id": fid,
                "direction": direction,
                "channel": case.channel,
                "source_key": source_key(case.channel, source_id),
                "source_id": source_id,
                "customer_id": case.customer_id,
                "case_id": case.id,
                "author_name": author_name,
                "author_handle": author_handle,
                "subject": None,
                "text": text,
                "public": public,
                "reach": reach,
                "received_at": at,
                "thread_key": f"bench-thread-{case.id}",
                "in_reply_to": None,
                "score": None,
                "score_scale": None,
                "automated": False,
                "meta": meta or {},
                "ingested_at": at,
                **analysis,
            }
        )
        case.updated_at = max(case.updated_at, at)

    def _event(
        self, case: Case, kind: str, at: datetime, actor: str, *, to_value: str | None = None
    ) -> dict[str, Any]:
        return {
            "case_id": case.id,
            "at": at,
            "kind": kind,
            "actor": actor,
            "from_value": None,
            "to_value": to_value,
            "reason": None,
            "data": {},
        }

    def _finish(self, case: Case) -> None:
        """Recorded breaches (as the tick records them), the nearest due time, and the
        timers still pending, as the services leave them."""
        met = {Clock.FIRST_RESPONSE: case.first_responded_at}
        until = case.paused_at or NOW
        for clock, due in (
            (Clock.FIRST_RESPONSE, case.first_response_due),
            (Clock.NEXT_RESPONSE, case.next_response_due),
            (Clock.RESOLUTION, case.resolution_due),
        ):
            if due is not None and due < (met.get(clock) or until):
                case.breaches = [*case.breaches, clock.value]
        service.refresh_next_due(case)
        if case.paused_at is None:
            for clock in service.running_clocks(case):
                for kind, at, case_id, name, data in service.clock_timers(
                    case.id, self.plans[clock]
                ):
                    if at <= NOW:
                        continue  # fired already
                    self.rows.timers.append(
                        {
                            "kind": kind,
                            "case_id": case_id,
                            "clock": name,
                            "due_at": at,
                            "status": TimerStatus.PENDING,
                            "data": data,
                            "created_at": case.opened_at,
                        }
                    )
        self.rows.cases.append(_case_row(case))

    def closed_case(self, who: dict[str, Any]) -> None:
        """A case from past months, answered, resolved and closed."""
        rng = self.rng
        channel, public, _ = _pick(rng, CHANNELS)
        template = rng.randrange(len(TEMPLATES))
        found = self.analyses[(template, channel, public, None)]
        opened = NOW - timedelta(days=rng.randint(30, 400), seconds=rng.randrange(86400))
        case = self._case(who, channel, public, found, opened, CaseStatus.CLOSED)
        self._complaint(case, who, template, channel, public, None, opened, found)
        replied = opened + timedelta(hours=rng.uniform(0.2, 6))
        case.first_responded_at = replied
        self._reply(case, replied)
        case.resolved_at = replied + timedelta(hours=rng.uniform(1, 48))
        case.closed_at = case.resolved_at + timedelta(days=2)
        case.updated_at = case.closed_at
        case.next_due_at = None
        self.rows.cases.append(_case_row(case))


_CASE_COLUMNS = [c.name for c in Case.__table__.columns]


def _case_row(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in _CASE_COLUMNS}


def seed_open_cases(engine: Engine, n: int, *, seed: int = 0) -> Seeded:
    """Bring the schema up to date, import the bench playbook if none is active, and add `n`
    open cases (and n/2 closed ones) with their customers, feedback, events and timers, in
    one transaction. Deterministic for a seed on an empty database."""
    started = time.perf_counter()
    upgrade(engine)
    rng = random.Random(seed)
    with session_scope(engine) as session:
        if active_playbook(session) is None:
            import_playbook(session, PLAYBOOK, now=NOW - timedelta(days=60), actor="bench")
    with session_scope(engine) as session:
        policy = active_policy(session)
        analyses = _Analyses()
        keys: set[tuple[int, Channel, bool, int | None]] = set()
        for template in [*range(len(TEMPLATES)), -1]:
            for channel, public, _ in CHANNELS:
                bands: list[int | None] = [None]
                if channel in (Channel.X, Channel.SOCIAL):
                    bands += list(range(len(REACH_BANDS)))
                keys |= {(template, channel, public, band) for band in bands}
        analyses.prepare(keys)
        build = _Builder(session, policy, rng, analyses)
        people = [build.customer(i) for i in range(max(1, int(n * 0.85)))]
        for _ in range(n):
            build.open_case(rng.choice(people))
        closed = n // 2
        for _ in range(closed):
            build.closed_case(rng.choice(people))
        rows = build.rows
        _insert(
            session,
            Customer,
            [{k: v for k, v in r.items() if k != "handle"} for r in rows.customers],
        )
        _insert(session, Identity, rows.identities)
        _insert(session, Case, rows.cases)
        _insert(session, Feedback, rows.feedback)
        _insert(session, CaseEvent, rows.events)
        _insert(session, Timer, rows.timers)
        if session.get_bind().dialect.name == "postgresql":
            for table in ("customers", "cases", "feedback"):
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        team_ids = {t.name: t.id for t in session.scalars(select(Team))}
    if engine.dialect.name == "postgresql":
        # As autovacuum would soon after: planner statistics for the new rows.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    return Seeded(
        now=NOW,
        open_cases=n,
        closed_cases=closed,
        customers=len(rows.customers),
        feedback=len(rows.feedback),
        seconds=round(time.perf_counter() - started, 2),
        team_ids=team_ids,
    )


# ---- measuring ------------------------------------------------------------------------------


@dataclass
class _Statements:
    count: int = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


def _timed(engine: Engine, fn: Callable[[Session], object]) -> tuple[float, int]:
    """Wall time of `fn` in a fresh session (as a request has one), and the statements it ran."""
    counter = _Statements()
    with Session(engine) as session:
        session.connection()  # the transaction's BEGIN is not the page's
        event.listen(engine, "before_cursor_execute", counter)
        try:
            started = time.perf_counter()
            fn(session)
            elapsed = time.perf_counter() - started
        finally:
            event.remove(engine, "before_cursor_execute", counter)
    return elapsed, counter.count


def _medians(
    engine: Engine, runs: dict[str, Callable[[Session], object]], repeat: int
) -> dict[str, dict[str, Any]]:
    """Each run `repeat` times after a warm-up, in rounds (one of each per round), so that
    a busy machine slows them alike; the median and the fastest, in ms."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    statements: dict[str, int] = {}
    for attempt in range(repeat + 1):
        for name, fn in runs.items():
            elapsed, statements[name] = _timed(engine, fn)
            if attempt:
                times[name].append(elapsed)
    return {
        name: {
            "ms": round(statistics.median(spent) * 1000, 2),
            "min_ms": round(min(spent) * 1000, 2),
            "statements": statements[name],
        }
        for name, spent in times.items()
    }


def _api_rows(session: Session) -> None:
    """The API's queue: the plain call, then each row's team and assignee as routes read them."""
    rows, _ = service.queue(session, limit=PAGE)
    for case in rows:
        _ = (case.team.name if case.team else None, case.assignee.email if case.assignee else None)


def measure(engine: Engine, seeded: Seeded, repeat: int) -> dict[str, Any]:
    """The page's figures and the baselines' on a seeded database."""
    now = seeded.now
    open_now = sorted(OPEN_STATUSES - {CaseStatus.WAITING_ON_CUSTOMER})
    payments = seeded.team_ids["Payments"]
    deep = min(5000, seeded.open_cases // 2)
    # name: (filter, the agent's teams, offset)
    pages: dict[str, tuple[QueueFilter, frozenset[int] | None, int]] = {
        "first_page": (QueueFilter(), None, 0),
        "filtered_page": (
            QueueFilter(team=payments, breached=True, include_waiting=True),
            None,
            0,
        ),
        "search": (QueueFilter(q="lopez"), None, 0),
        "search_case_number": (QueueFilter(q=f"#{seeded.open_cases // 3}"), None, 0),
        "deep_page": (QueueFilter(), None, deep),
        "team_restricted_page": (QueueFilter(), frozenset({payments}), 0),
    }

    def page(filt: QueueFilter, teams: frozenset[int] | None, offset: int) -> QueuePage:
        with Session(engine) as s:
            return queue_page(s, filt, team_ids=teams, limit=PAGE, offset=offset, now=now)

    def timed_page(
        filt: QueueFilter, teams: frozenset[int] | None, offset: int
    ) -> Callable[[Session], object]:
        return lambda s: queue_page(s, filt, team_ids=teams, limit=PAGE, offset=offset, now=now)

    runs: dict[str, Callable[[Session], object]] = {
        "baseline_count_open": lambda s: s.scalar(
            select(func.count()).select_from(Case).where(Case.status.in_(open_now))
        ),
        "baseline_service_queue": lambda s: service.queue(s, limit=PAGE),
        "api_queue_rows_n_plus_1": _api_rows,
        **{name: timed_page(*args) for name, args in pages.items()},
        "facets": lambda s: facets(s, team_ids=None),
    }
    results = _medians(engine, runs, repeat)
    base_queue = results["baseline_service_queue"]["ms"]
    base_count = results["baseline_count_open"]["ms"]
    for figure in results.values():
        figure["x_service_queue"] = round(figure["ms"] / base_queue, 2) if base_queue else None
        figure["x_count"] = round(figure["ms"] / base_count, 1) if base_count else None
    matching = {name: page(*args).total for name, args in pages.items()}
    return {"deep_offset": deep, "matching": matching, "timings": results}


@contextmanager
def fresh_database(kind: str, url: str | None) -> Iterator[Engine]:
    """A fresh database: a file SQLite database, or a schema of its own on PostgreSQL."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/queue.db")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    assert url is not None
    schema = f"amends_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(kind: str, url: str | None, sizes: list[int], repeat: int, seed: int) -> dict[str, Any]:
    by_size: dict[str, Any] = {}
    for n in sizes:
        with fresh_database(kind, url) as engine:
            seeded = seed_open_cases(engine, n, seed=seed)
            figures = measure(engine, seeded, repeat)
        by_size[str(n)] = {
            "seed_seconds": seeded.seconds,
            "customers": seeded.customers,
            "closed_cases": seeded.closed_cases,
            "feedback": seeded.feedback,
            **figures,
        }
    out: dict[str, Any] = {"by_size": by_size}
    if len(sizes) > 1:
        # Time at the largest size over time at the smallest: median (and fastest) runs.
        small = by_size[str(min(sizes))]["timings"]
        large = by_size[str(max(sizes))]["timings"]
        out["growth"] = {
            "cases": f"{min(sizes)} -> {max(sizes)}",
            **{
                name: [
                    round(large[name][key] / small[name][key], 1) if small[name][key] else None
                    for key in ("ms", "min_ms")
                ]
                for name in large
            },
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="open cases, comma-separated")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", help="also measure on this PostgreSQL server")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    result: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "page": PAGE,
        "repeat": args.repeat,
        "sqlite": run("sqlite", None, sizes, args.repeat, args.seed),
    }
    if args.database_url:
        result["postgresql"] = run("postgresql", args.database_url, sizes, args.repeat, args.seed)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
