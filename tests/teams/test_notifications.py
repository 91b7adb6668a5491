"""Reading notifications: newest first, a page at a time, the unread, marking read (one's own
only), and that the SLA timers' warnings reach the assignee's list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from amends.config import Settings
from amends.db import session_scope
from amends.errors import NotFound
from amends.teams import notifications
from amends.teams.models import Notification
from amends.timers.flows import run_due
from tests.conftest import FIXED_NOW
from tests.teams.desk import ANN, BOB, HOSTILE, LEAD, START, make_desk, open_desk


def agent(engine: Engine, email: str) -> int:
    with session_scope(engine) as s:
        return notifications.agent_by_email(s, email).id


def test_newest_first_by_time_then_id_with_the_unread_count(engine: Engine) -> None:
    desk = make_desk(engine)
    ann = agent(engine, ANN)
    with session_scope(engine) as s:
        page = notifications.list_notifications(s, ann)
        assert [n.id for n in page.items] == desk.ann[::-1]
        assert page.items[0].message == HOSTILE
        # The out-of-order one (written last, happened earlier) sits by its time.
        assert page.items[1].id == max(desk.ann)
        assert [n.created_at for n in page.items] == sorted(
            (n.created_at for n in page.items), reverse=True
        )
        assert (page.total, page.unread, page.next_before) == (4, 4, None)
        assert {n.case_id for n in page.items} == set(desk.cases)


def test_keyset_pages_walk_everything_once_even_when_read_in_between(engine: Engine) -> None:
    desk = make_desk(engine)
    ann = agent(engine, ANN)
    seen: list[int] = []
    before = None
    with session_scope(engine) as s:
        while True:
            page = notifications.list_notifications(
                s, ann, unread_only=True, before=before, limit=1
            )
            seen += [n.id for n in page.items]
            if page.items:
                # Reading what was just shown does not lose the place.
                notifications.mark_read(s, ann, [page.items[0].id], now=FIXED_NOW)
            if page.next_before is None:
                break
            before = page.next_before
    assert seen == desk.ann[::-1]
    with session_scope(engine) as s:
        assert notifications.count_unread(s, ann) == 0
        two = notifications.list_notifications(s, ann, limit=2)
        assert [n.id for n in two.items] == desk.ann[::-1][:2]
        rest = notifications.list_notifications(s, ann, limit=2, before=two.next_before)
        assert [n.id for n in rest.items] == desk.ann[::-1][2:]
        assert rest.next_before is None


def test_unread_filter_and_marking_some_then_all(engine: Engine) -> None:
    desk = make_desk(engine)
    ann = agent(engine, ANN)
    oldest, newest = desk.ann[0], desk.ann[-1]
    with session_scope(engine) as s:
        assert notifications.mark_read(s, ann, [oldest, newest], now=FIXED_NOW) == 2
        # Marking again changes nothing, and keeps the first time it was read.
        assert notifications.mark_read(s, ann, [oldest], now=FIXED_NOW + timedelta(hours=1)) == 0
    with session_scope(engine) as s:
        unread = notifications.list_notifications(s, ann, unread_only=True)
        assert [n.id for n in unread.items] == desk.ann[1:-1][::-1]
        assert (unread.total, unread.unread) == (2, 2)
        read = s.get(Notification, oldest)
        assert read is not None
        assert read.read_at == FIXED_NOW
        assert notifications.mark_read(s, ann, None, now=FIXED_NOW) == 2
        assert notifications.count_unread(s, ann) == 0
        assert notifications.list_notifications(s, ann, unread_only=True).items == []
        assert notifications.list_notifications(s, ann).total == 4


def test_someone_elses_ids_are_ignored_and_their_cursor_is_unknown(engine: Engine) -> None:
    desk = make_desk(engine)
    ann, bob = agent(engine, ANN), agent(engine, BOB)
    with session_scope(engine) as s:
        assert notifications.mark_read(s, ann, [*desk.bob, 999_999], now=FIXED_NOW) == 0
        assert notifications.mark_read(s, ann, None, now=FIXED_NOW) == 4
        assert notifications.count_unread(s, bob) == 1
        with pytest.raises(NotFound):
            notifications.list_notifications(s, ann, before=desk.bob[0])


def test_a_person_who_is_no_agent_has_none(engine: Engine) -> None:
    make_desk(engine)
    with session_scope(engine) as s:
        page = notifications.list_notifications(s, None)
        assert (page.items, page.total, page.unread) == ([], 0, 0)
        assert notifications.mark_read(s, None, None, now=FIXED_NOW) == 0
        with pytest.raises(NotFound):
            notifications.agent_by_email(s, "nobody@example.com")


def test_the_sla_timers_warnings_reach_the_assignee_and_the_lead(engine: Engine) -> None:
    open_desk(engine)
    # Well past the warning of every case's first response (P1 is due in an hour at most).
    run_due(engine, now=START + timedelta(hours=30), settings=Settings(database_url="sqlite://"))
    with session_scope(engine) as s:
        ann = notifications.agent_by_email(s, ANN).id
        page = notifications.list_notifications(s, ann)
        kinds = {n.kind for n in page.items}
        assert "sla_warning" in kinds, [n.message for n in page.items]
        assert page.unread == page.total > 0
        assert all(n.case_id is not None for n in page.items)
        lead = notifications.agent_by_email(s, LEAD).id
        assert notifications.count_unread(s, lead) > 0
        assert s.scalar(select(Notification.id).where(Notification.agent_id == ann)) is not None
