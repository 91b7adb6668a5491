"""An agent's notifications (SLA warnings, escalations, recurring problems): read newest first,
a page at a time, count the unread, mark read. A person reaches only their own agent's.
Services flush; callers commit."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, and_, func, or_, select, update
from sqlalchemy.orm import Session

from amends.db import chunked
from amends.errors import NotFound
from amends.teams.models import Agent, Notification

MAX_LIMIT = 500


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]  # newest first
    total: int  # the agent's notifications that match the filter, on every page
    unread: int  # the agent's unread notifications, whatever the filter
    next_before: int | None  # `before` for the next, older page; None on the last one


def agent_by_email(session: Session, email: str) -> Agent:
    """The agent whose notifications a command reads (`--as EMAIL`)."""
    agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        raise NotFound("agent", email.strip())
    return agent


def count_unread(session: Session, agent_id: int | None) -> int:
    """One indexed COUNT (agent_id, read_at): cheap enough for every page's navigation."""
    if agent_id is None:
        return 0
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.agent_id == agent_id, Notification.read_at.is_(None))
        )
        or 0
    )


def list_notifications(
    session: Session,
    agent_id: int | None,
    *,
    unread_only: bool = False,
    before: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> NotificationPage:
    """The agent's notifications, newest first (by time, then id). `before` is the id of the
    last one already shown: the page holds those older than it. None (no agent): nothing."""
    if agent_id is None:
        return NotificationPage(items=[], total=0, unread=0, next_before=None)
    limit = max(1, min(limit, MAX_LIMIT))
    mine = Notification.agent_id == agent_id
    where: list[ColumnElement[bool]] = [mine]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    query = select(Notification).where(*where)
    if before is not None:
        # The anchor is looked up among the agent's own (read or not): someone else's id
        # reads as unknown, and an anchor marked read since does not break the paging.
        anchor = session.execute(
            select(Notification.created_at, Notification.id).where(mine, Notification.id == before)
        ).one_or_none()
        if anchor is None:
            raise NotFound("notification", before)
        query = query.where(
            or_(
                Notification.created_at < anchor.created_at,
                and_(Notification.created_at == anchor.created_at, Notification.id < anchor.id),
            )
        )
    rows = list(
        session.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    unread = (
        total if unread_only and before is None and offset == 0 else count_unread(session, agent_id)
    )
    return NotificationPage(
        items=rows,
        total=total,
        unread=unread,
        next_before=rows[-1].id if more and rows else None,
    )


def mark_read(
    session: Session, agent_id: int | None, ids: Collection[int] | None, *, now: datetime
) -> int:
    """Mark the agent's notifications read: those of `ids`, or every unread one when `ids` is
    None. Ids that are not the agent's (or not there) are ignored, and one already read keeps
    the time it was first read. Returns how many were newly marked."""
    if agent_id is None:
        return 0
    base = (
        update(Notification)
        .where(Notification.agent_id == agent_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if ids is None:
        marked = _updated(session, base)
    else:
        marked = sum(
            _updated(session, base.where(Notification.id.in_(part)))
            for part in chunked(sorted(set(ids)))
        )
    session.flush()
    return marked


def _updated(session: Session, statement: Update) -> int:
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount or 0
