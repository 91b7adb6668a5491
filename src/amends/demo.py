"""Demo data the desk generates itself, in the real formats it reads.

`write_demo_files` writes an X API export, an mbox, a reviews CSV, a survey CSV and chat
transcripts into a folder, so that the demo runs the same parsers a real import does. The same
writers feed the ingest benchmark. Everything is deterministic for a given seed.
"""

from __future__ import annotations

import csv
import email.policy
import email.utils
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from amends.feedback.service import IngestLimits, IngestSummary

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from amends.cases.models import Case
    from amends.config import Settings
    from amends.playbook.rules import Policy
    from amends.teams.models import Agent
    from amends.timers.flows import TickStats

FIRST = [
    "Ana",
    "Bram",
    "Chloé",
    "Dmitri",
    "Eilidh",
    "Farah",
    "Gideon",
    "Hana",
    "Ioana",
    "Jamal",
    "Kasia",
    "Liam",
    "Mei",
    "Nnamdi",
    "Oksana",
    "Pádraig",
    "Quinn",
    "Rosa",
    "Siobhán",
    "Tomás",
    "Uma",
    "Viktor",
    "Wanjiru",
    "Xavier",
    "Yusuf",
    "Zoë",
]
LAST = [
    "López",
    "de Vries",
    "Martin",
    "Ivanov",
    "MacLeod",
    "Haddad",
    "Cohen",
    "Sato",
    "Popescu",
    "Okafor",
    "Nowak",
    "Byrne",
    "Chen",
    "Eze",
    "Kovalenko",
    "Ó Súilleabháin",
    "Reyes",
    "Rossi",
    "Ní Bhriain",
    "García",
    "Patel",
    "Novák",
    "Kamau",
    "Dubois",
    "Demir",
    "Schmidt",
]
PRODUCTS = [
    "order",
    "subscription",
    "blender",
    "phone case",
    "flight",
    "parcel",
    "invoice",
    "account",
    "headphones",
    "sofa",
    "app",
    "gift card",
]
COMPLAINTS = [
    "I was charged twice for my {p} this month and nobody has answered my emails.",
    "My {p} arrived damaged, the box was crushed and half of it is broken.",
    "Still waiting for my refund for the {p} I returned three weeks ago. This is ridiculous.",
    "Your {p} has been 'out for delivery' for five days. Where is it?",
    "The app crashes every time I try to pay for my {p}. Tried reinstalling, nothing.",
    "I cancelled my {p} in March and you are still taking money from my card!",
    "Locked out of my account again, the reset email never arrives. Third time this year.",
    "The agent on the phone was rude and hung up on me when I asked about my {p}.",
    "You sent me the wrong {p}. I ordered blue, got a red one, and the return label doesn't work.",
    "I have been on hold for 50 minutes about my {p}. Fifty minutes!",
    "Stop sending me marketing emails, I unsubscribed twice.",
    "Been a loyal customer for six years and this is how you treat me over a {p}? I'm done.",
    "The {p} stopped working after two days. It got very hot and I'm worried it's a fire risk.",
    "If my {p} isn't sorted by Friday I'm taking this to the ombudsman.",
]
PRAISE = [
    "Quick delivery and the {p} works perfectly, thank you!",
    "Lovely service, the team sorted my {p} in minutes.",
]
REPLIES = [
    "Hi {name}, we're so sorry about your {p}. Could you send us a DM with your order "
    "details so we can put this right today?",
    "{name}, that's not the experience we want for you and we apologise. Please DM us and "
    "we'll sort your {p} straight away.",
]
BRANDS = ["Northwind", "Lumen Air", "Parcelly"]
BRAND_HANDLE = "NorthwindHelp"
BRAND_ADDRESS = "care@northwind.example"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    handle: str
    email: str
    followers: int


def people(rng: random.Random, count: int) -> list[Person]:
    out = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = "".join(ch for ch in first + last if ch.isascii() and ch.isalnum())[:12] + str(i)
        followers = int(rng.paretovariate(1.1) * 80)
        out.append(
            Person(
                str(10_000 + i),
                f"{first} {last}",
                handle,
                f"{handle.lower()}@example.com",
                followers,
            )
        )
    return out


def _complaint(rng: random.Random) -> tuple[str, str]:
    product = rng.choice(PRODUCTS)
    return rng.choice(COMPLAINTS).format(p=product), product


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_x(
    path: Path,
    who: list[Person],
    count: int,
    *,
    start: datetime,
    span: timedelta,
    seed: int = 1,
    reply_share: float = 0.0,
) -> None:
    """X API v2 search responses as JSONL, 100 tweets a page, with includes.users."""
    rng = random.Random(seed)
    brand = Person("1", "Northwind Support", BRAND_HANDLE, BRAND_ADDRESS, 120_000)
    step = span / max(1, count)
    with path.open("w", encoding="utf-8") as out:
        for page in range(0, count, 100):
            tweets: list[dict[str, object]] = []
            users: dict[str, dict[str, object]] = {}
            for i in range(page, min(count, page + 100)):
                person = rng.choice(who)
                text, product = _complaint(rng)
                when = start + step * i
                tid = str(1_700_000_000_000 + i * 10)
                tweets.append(
                    {
                        "id": tid,
                        "text": f"@{BRAND_HANDLE} {text}",
                        "author_id": person.user_id,
                        "created_at": _iso(when),
                        "conversation_id": tid,
                        "lang": "en",
                    }
                )
                users[person.user_id] = _user(person)
                if rng.random() < reply_share:
                    reply = rng.choice(REPLIES).format(name=person.name.split()[0], p=product)
                    tweets.append(
                        {
                            "id": str(int(tid) + 1),
                            "text": f"@{person.handle} {reply}",
                            "author_id": brand.user_id,
                            "conversation_id": tid,
                            "created_at": _iso(when + timedelta(minutes=rng.randint(4, 90))),
                            "in_reply_to_user_id": person.user_id,
                            "referenced_tweets": [{"type": "replied_to", "id": tid}],
                        }
                    )
                    users[brand.user_id] = _user(brand)
            page_doc = {"data": tweets, "includes": {"users": list(users.values())}}
            out.write(json.dumps(page_doc, ensure_ascii=False) + "\n")


BURST = (
    "I was charged twice for my order this morning",
    "charged twice for the same order just now?!",
    "my card was charged twice for one order today",
    "I got billed twice for the same order",
    "charged two times for one order, what is going on",
)


def write_burst(path: Path, who: list[Person], count: int, *, end: datetime, seed: int = 2) -> None:
    """A spike for the detector to find: `count` people, within the last hour, all charged
    twice. X API v2 JSON like `write_x`."""
    rng = random.Random(seed)
    people = rng.sample(who, min(count, len(who)))
    tweets = []
    for i, person in enumerate(people):
        tid = str(1_800_000_000_000 + i * 10)
        tweets.append(
            {
                "id": tid,
                "text": f"@{BRAND_HANDLE} {BURST[i % len(BURST)]}",
                "author_id": person.user_id,
                "created_at": _iso(end - timedelta(minutes=55 - 4 * i)),
                "conversation_id": tid,
                "lang": "en",
            }
        )
    doc = {"data": tweets, "includes": {"users": [_user(p) for p in people]}}
    path.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")


def _user(p: Person) -> dict[str, object]:
    return {
        "id": p.user_id,
        "name": p.name,
        "username": p.handle,
        "public_metrics": {"followers_count": p.followers},
    }


def write_mbox(
    path: Path,
    who: list[Person],
    count: int,
    *,
    start: datetime,
    span: timedelta,
    seed: int = 2,
    extras: bool = False,
) -> None:
    """An mbox of complaint emails; with `extras`, an auto-reply and a reply thread too."""
    rng = random.Random(seed)
    step = span / max(1, count)
    policy = email.policy.SMTP.clone(linesep="\n")
    with path.open("wb") as out:
        for i in range(count):
            person = rng.choice(who)
            text, product = _complaint(rng)
            msg = EmailMessage()
            msg["From"] = email.utils.formataddr((person.name, person.email))
            msg["To"] = BRAND_ADDRESS
            msg["Subject"] = f"Problem with my {product}"
            msg["Date"] = email.utils.format_datetime(start + step * i)
            msg["Message-ID"] = f"<m{i}.{seed}@example.com>"
            msg.set_content(f"Hello,\n\n{text}\n\nRegards,\n{person.name}\n")
            if extras and i % 25 == 7:
                msg.replace_header("Subject", "Automatic reply: your newsletter")
                msg["Auto-Submitted"] = "auto-replied"
                msg.set_content("I am out of the office until Monday.\n")
            _mbox_append(out, msg, person.email, start + step * i, policy)


def _mbox_append(
    out: object, msg: EmailMessage, sender: str, when: datetime, policy: email.policy.Policy
) -> None:
    data = msg.as_bytes(policy=policy)
    stamp = when.strftime("%a %b %d %H:%M:%S %Y")
    write = out.write  # type: ignore[attr-defined]
    write(f"From {sender} {stamp}\n".encode())
    write(data.replace(b"\nFrom ", b"\n>From "))
    write(b"\n")


def write_reviews(
    path: Path, count: int, *, start: datetime, span: timedelta, seed: int = 3
) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["review_id", "author", "rating", "review", "date", "reply"])
        for i in range(count):
            stars = rng.choice([1, 1, 2, 2, 3, 4, 5, 5])
            product = rng.choice(PRODUCTS)
            pool = PRAISE if stars >= 4 else COMPLAINTS
            reply = "Thank you, we're glad it went well!" if stars == 5 and i % 3 == 0 else ""
            writer.writerow(
                [
                    f"g-{seed}-{i}",
                    f"{rng.choice(FIRST)} {rng.choice(LAST)[0]}.",
                    stars,
                    rng.choice(pool).format(p=product),
                    _iso(start + span * rng.random()),
                    reply,
                ]
            )


def write_survey(
    path: Path, who: list[Person], count: int, *, start: datetime, span: timedelta, seed: int = 4
) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["response_id", "email", "submitted_at", "nps", "comment"])
        for i in range(count):
            score = rng.choice([0, 2, 3, 5, 6, 7, 9, 10])
            pool = PRAISE if score >= 9 else COMPLAINTS
            comment = rng.choice(pool).format(p=rng.choice(PRODUCTS)) if i % 5 else ""
            writer.writerow(
                [
                    f"s-{seed}-{i}",
                    rng.choice(who).email,
                    _iso(start + span * rng.random()),
                    score,
                    comment,
                ]
            )


def write_transcripts(
    folder: Path, who: list[Person], count: int, *, start: datetime, span: timedelta, seed: int = 5
) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        person = rng.choice(who)
        text, product = _complaint(rng)
        when = start + span * rng.random()
        path = folder / f"chat-{i + 1:03d}.txt"
        path.write_text(
            f"Conversation-ID: chat-{seed}-{i}\nDate: {_iso(when)}\nChannel: chat\n"
            f"Customer: {person.name}\nEmail: {person.email}\n\n"
            f"[{when:%H:%M}] {person.name}: {text}\n"
            f"[{(when + timedelta(minutes=1)):%H:%M}] Agent: I'm sorry to hear that. "
            f"Let me look at your {product} now.\n"
            f"[{(when + timedelta(minutes=3)):%H:%M}] {person.name}: Thanks. "
            "This is the second time though.\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def write_demo_files(
    folder: Path, *, count: int = 150, seed: int = 7, now: datetime | None = None
) -> list[Path]:
    """Write about `count` items over the last two weeks in every format; return the paths."""
    rng = random.Random(seed)
    end = now or datetime.now(UTC)
    span = timedelta(days=14)
    start = end - span
    who = people(rng, max(5, count // 3))
    share = max(1, count // 10)
    write_x(
        folder / "x-mentions.jsonl",
        who,
        share * 4,
        start=start,
        span=span,
        seed=seed,
        reply_share=0.3,
    )
    write_mbox(
        folder / "support.mbox", who, share * 3, start=start, span=span, seed=seed, extras=True
    )
    write_reviews(folder / "google-reviews.csv", share, start=start, span=span, seed=seed)
    write_survey(folder / "nps-survey.csv", who, share, start=start, span=span, seed=seed)
    chats = folder / "chats"
    chats.mkdir(exist_ok=True)
    write_transcripts(chats, who, max(1, share // 3), start=start, span=span, seed=seed)
    write_burst(folder / "x-this-morning.jsonl", who, min(16, len(who)), end=end, seed=seed)
    return [
        folder / "x-mentions.jsonl",
        folder / "x-this-morning.jsonl",
        folder / "support.mbox",
        folder / "google-reviews.csv",
        folder / "nps-survey.csv",
        chats,
    ]


# People of the example playbook who sign in to the demo desk, and what each shows.
DEMO_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("priya@example.com", "Priya Shah", "lead", "lead of Payments: every team, approves offers"),
    ("tom@example.com", "Tom Hale", "agent", "agent in Payments: that team's cases only"),
    ("rosa@example.com", "Rosa Diaz", "lead", "lead of Deliveries"),
    ("sam@example.com", "Sam Okafor", "agent", "agent in Deliveries"),
    ("lee@example.com", "Lee Park", "lead", "lead of Care"),
    ("admin@example.com", "Desk Admin", "admin", "admin: users and API tokens"),
)


def demo_accounts(session: Session, *, now: datetime) -> str:
    """Give the demo's people accounts with one fresh password, which is returned to print
    (each run of the demo sets a new one: it is never stored in clear)."""
    import secrets

    from amends.users import service as users
    from amends.users.models import User
    from amends.users.rules import Role

    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"  # nothing to mistake for another
    password = "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))
    for address, name, role, _ in DEMO_ACCOUNTS:
        if session.scalar(select(User.id).where(User.email == address)) is None:
            users.add_user(
                session, email=address, name=name, role=Role(role), password=password, now=now
            )
        else:
            users.set_password(session, address, password, now=now)
            users.set_active(session, address, True, now=now)
    return password


# The desk's own history in the demo: cases older than this were worked as a desk would have,
# all but a few (the backlog that shows what breaches look like); the newest wait in the queue.
WORKED_AFTER = timedelta(hours=3)
LEFT_UNANSWERED = 0.12
RESOLVED_SHARE = 0.9


def work_the_backlog(session: Session, *, now: datetime) -> int:
    """Work the demo's older cases as its people would have: each case (but a few, the same
    ones on every run) got the drafted apology from its agent within hours of arriving, where
    the imported threads hold no answer yet, and most were resolved within two days of the
    customer's last message. Returns the cases answered here."""
    from sqlalchemy import func

    from amends.cases import service as cases
    from amends.cases.models import Case
    from amends.cases.rules import OPEN_STATUSES, CaseStatus
    from amends.feedback.models import Feedback
    from amends.playbook.service import active_policy
    from amends.replies import service as replies

    policy = active_policy(session)
    old = session.scalars(
        select(Case)
        .where(
            Case.status.in_(OPEN_STATUSES),
            Case.merged_into_id.is_(None),
            Case.opened_at < now - WORKED_AFTER,
        )
        .order_by(Case.id)
    ).all()
    answered = 0
    for case in old:
        rng = random.Random(case.id)  # the same choices for a case on every run
        if rng.random() < LEFT_UNANSWERED:
            continue
        at = case.first_responded_at or case.opened_at + timedelta(minutes=rng.randint(10, 240))
        if at > now - timedelta(minutes=10):
            continue
        agent = _demo_owner(session, case, rng, policy=policy, at=at)
        who = agent.email if agent is not None else None
        unanswered = case.first_responded_at is None
        # public, then private: a public complaint answered only in public gets its message too
        if unanswered or (case.public and not cases.answered_privately(session, case)):
            drafted = replies.draft(session, case.id, policy=policy, now=at, perks=False)
            if drafted.blocking:
                continue
            if drafted.public is not None and unanswered:
                replies.send(
                    session,
                    case.id,
                    drafted.public,
                    agent_email=who,
                    now=at,
                    policy=policy,
                    public=True,
                )
            replies.send(
                session,
                case.id,
                drafted.private,
                agent_email=who,
                now=at + timedelta(minutes=1),
                policy=policy,
                public=False if case.public else None,
            )
            answered += unanswered
        last = session.scalar(
            select(func.max(Feedback.received_at)).where(Feedback.case_id == case.id)
        )
        done = max(at, last or at) + timedelta(hours=rng.randint(2, 40))
        if done < now - timedelta(hours=1) and rng.random() < RESOLVED_SHARE:
            cases.transition(
                session, case.id, CaseStatus.RESOLVED, actor=who or "demo", now=done, policy=policy
            )
    return answered


def _demo_owner(
    session: Session, case: Case, rng: random.Random, *, policy: Policy, at: datetime
) -> Agent | None:
    """The agent who worked a demo case: as auto-assignment chose when it arrived, or, out of
    hours or over capacity then, someone of its team who took it from the queue."""
    from amends.cases import service as cases
    from amends.teams.models import Agent

    # the loads auto-assignment counts once a session: count them again at each case's time
    session.info.pop("amends.load", None)
    cases.auto_assign(session, [case], policy=policy, now=case.opened_at)
    agent = session.get(Agent, case.assignee_id) if case.assignee_id is not None else None
    if agent is None and case.team_id is not None:
        team = session.scalars(
            select(Agent).where(Agent.team_id == case.team_id, Agent.active).order_by(Agent.id)
        ).all()
        if team:
            agent = rng.choice(team)
            cases.assign(
                session,
                case.id,
                agent_email=agent.email,
                team_name=None,
                actor=agent.email,
                now=at,
                reason="took it from the queue",
            )
    return agent


@dataclass(frozen=True)
class DemoLoaded:
    summary: IngestSummary
    ticked: TickStats
    password: str
    worked: int = 0


def load_demo(
    engine: Engine, *, count: int, now: datetime, settings: Settings, limits: IngestLimits
) -> DemoLoaded:
    """The example playbook, the demo's accounts, `count` generated feedback items read from
    files in every format, and one tick of the timers; each file in its own transaction."""
    import tempfile

    from amends.db import session_scope
    from amends.feedback import flows
    from amends.playbook.service import example_source, import_playbook
    from amends.sources.base import ParseOptions, Source
    from amends.timers.flows import tick as run_tick

    options = ParseOptions(brand_handles=frozenset({BRAND_HANDLE.lower(), BRAND_ADDRESS}))
    summary = IngestSummary()
    with tempfile.TemporaryDirectory() as tmp:
        with session_scope(engine) as session:
            import_playbook(session, example_source(), now=now, actor="demo")
            password = demo_accounts(session, now=now)
        for path in flows.expand_paths(write_demo_files(Path(tmp), count=count, now=now)):
            with session_scope(engine) as session:
                result = flows.ingest_source(
                    session,
                    Source(name=f"demo/{path.name}", path=path),
                    fmt=None,
                    options=options,
                    now=now,
                    limits=limits,
                )
            summary.add(result.summary)
    with session_scope(engine) as session:
        worked = work_the_backlog(session, now=now)
    ticked = run_tick(engine, now=now, settings=settings)
    return DemoLoaded(summary=summary, ticked=ticked, password=password, worked=worked)
