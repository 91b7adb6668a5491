"""Scheduling and cancelling timers. Services flush; callers commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from amends.db import chunked
from amends.timers.models import Timer, TimerStatus


def schedule(
    session: Session,
    kind: str,
    due_at: datetime,
    *,
    now: datetime,
    case_id: int | None = None,
    clock: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    schedule_many(session, [(kind, due_at, case_id, clock, data or {})], now=now)


def schedule_many(
    session: Session,
    timers: Sequence[tuple[str, datetime, int | None, str | None, dict[str, Any]]],
    *,
    now: datetime,
) -> None:
    """Insert (kind, due_at, case_id, clock, data) timers in one statement."""
    if timers:
        session.execute(
            insert(Timer),
            [
                {
                    "kind": kind,
                    "due_at": due_at,
                    "case_id": case_id,
                    "clock": clock,
                    "data": data,
                    "status": TimerStatus.PENDING,
                    "created_at": now,
                }
                for kind, due_at, case_id, clock, data in timers
            ],
        )


def cancel(
    session: Session,
    case_ids: Iterable[int],
    *,
    kinds: Iterable[str] | None = None,
    clocks: Iterable[str] | None = None,
) -> None:
    """Cancel the pending timers of these cases (of these kinds, for these clocks)."""
    kind_list = list(kinds) if kinds is not None else None
    clock_list = list(clocks) if clocks is not None else None
    for part in chunked(sorted(set(case_ids))):
        stmt = (
            update(Timer)
            .where(Timer.case_id.in_(part), Timer.status == TimerStatus.PENDING)
            .values(status=TimerStatus.CANCELLED)
            .execution_options(synchronize_session=False)
        )
        if kind_list is not None:
            stmt = stmt.where(Timer.kind.in_(kind_list))
        if clock_list is not None:
            stmt = stmt.where(Timer.clock.in_(clock_list))
        session.execute(stmt)
