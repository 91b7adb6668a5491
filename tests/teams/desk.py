"""A small desk whose agents have real notifications, made the way the desk makes them
(`cases.flows.notify` on real cases), shared by the notification tests of every edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, select

from amends.cases import service as cases
from amends.cases.flows import notify
from amends.cases.models import Case
from amends.customers.rules import IdentityKind, IdentityRef
from amends.db import session_scope
from amends.feedback.rules import Channel
from amends.feedback.service import ingest
from amends.playbook.service import active_policy, import_playbook
from amends.sources.base import Item
from amends.teams.models import Agent, Notification
from tests.conftest import FIXED_NOW

PLAYBOOK = """
name: notifications desk
teams:
  - name: Payments
    lead: lead@example.com
    agents:
      - {name: Lea Lead, email: lead@example.com}
      - {name: Ann Agent, email: ann@example.com}
      - {name: Bob Agent, email: bob@example.com}
default_team: Payments
assignment: {auto: false}
sla:
  calendar: 24/7
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
"""

ANN = "ann@example.com"
BOB = "bob@example.com"
LEAD = "lead@example.com"
START = FIXED_NOW - timedelta(hours=6)
HOSTILE = "case escalated <script>alert('x')</script> & more"


@dataclass(frozen=True)
class Desk:
    cases: tuple[int, int]  # Ann's two cases
    bobs_case: int
    ann: list[int]  # Ann's notification ids, oldest first
    bob: list[int]  # Bob's


def _complaint(engine: Engine, n: int) -> None:
    who = IdentityRef(IdentityKind.EMAIL, f"customer{n}@example.com")
    item = Item(
        Channel.EMAIL,
        f"I was charged twice for order {n}. Please refund the second payment.",
        START + timedelta(minutes=n),
        source_id=f"mail-{n}",
        author_name=f"Customer {n}",
        identities=(who,),
        subject=f"Charged twice ({n})",
    )
    with session_scope(engine) as s:
        ingest(s, [item], origin="test", fmt="feedback", now=item.received_at)


def open_desk(engine: Engine) -> None:
    """The playbook and three assigned cases (two Ann's, one Bob's), no notifications yet."""
    with session_scope(engine) as s:
        import_playbook(s, PLAYBOOK, now=START - timedelta(days=1), actor=None)
    for n in (1, 2, 3):
        _complaint(engine, n)
    with session_scope(engine) as s:
        first, second, third = s.scalars(select(Case.id).order_by(Case.id)).all()
        for case_id, who in ((first, ANN), (second, ANN), (third, BOB)):
            cases.assign(s, case_id, agent_email=who, team_name=None, actor="system", now=START)


def make_desk(engine: Engine) -> Desk:
    """Ann gets four notifications an hour apart, the last one's message hostile markup; the
    third is written out of id order (an earlier time, a later id), as a replayed tick may.
    Bob gets one."""
    open_desk(engine)
    with session_scope(engine) as s:
        policy = active_policy(s)
        first, second, third = (
            s.get(Case, i) for i in s.scalars(select(Case.id).order_by(Case.id))
        )
        assert first
        assert second
        assert third
        plan = [
            (first, "sla_warning", "case #1: first response due soon", START + timedelta(hours=1)),
            (second, "sla_warning", "case #2: first response due soon", START + timedelta(hours=2)),
            (third, "escalation", "case #3 escalated (level 1)", START + timedelta(hours=2)),
            (first, "escalation", HOSTILE, START + timedelta(hours=4)),
            # Out of id order: written last, but it happened before the hostile one.
            (second, "escalation", "case #2 escalated (level 1)", START + timedelta(hours=3)),
        ]
        for case, kind, message, at in plan:
            notify(s, case, ["assignee"], kind=kind, message=message, at=at, policy=policy)
        s.flush()
        ann_id = s.scalar(select(Agent.id).where(Agent.email == ANN))
        bob_id = s.scalar(select(Agent.id).where(Agent.email == BOB))

        def ids(agent_id: int | None) -> list[int]:
            return list(
                s.scalars(
                    select(Notification.id)
                    .where(Notification.agent_id == agent_id)
                    .order_by(Notification.created_at, Notification.id)
                )
            )

        return Desk(
            cases=(first.id, second.id), bobs_case=third.id, ann=ids(ann_id), bob=ids(bob_id)
        )
