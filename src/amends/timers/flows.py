"""Running what is due: `amends tick`, the worker loop, and the timer thread of `amends serve`.

A due timer fires inside the same transaction that marks it done, so after a crash or a
restart it fires exactly once: either the whole batch committed, or none of it did. Each
handler acts as of the timer's own due time, so replaying a day with one `tick --now` gives
what ticking all day would have given.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from amends.cases import flows as case_flows
from amends.cases import service as case_service
from amends.cases.flows import TickContext
from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES
from amends.config import Settings
from amends.db import chunked, session_scope, utcnow
from amends.errors import DomainError
from amends.playbook.service import active_policy
from amends.teams.models import Agent, Team
from amends.timers.models import Timer, TimerStatus

log = logging.getLogger(__name__)

Handler = Callable[..., None]


def _handlers() -> dict[str, Handler]:
    from amends.followups import flows as followups

    return {
        "sla.warning": case_flows.on_warning,
        "sla.breach": case_flows.on_breach,
        "sla.escalate": case_flows.on_escalate,
        "followup.send": followups.on_send,
        "followup.expire": followups.on_expire,
    }


@dataclass
class TickStats:
    fired: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    assigned: int = 0
    mail_sent: int = 0
    webhooks_delivered: int = 0
    incidents_opened: int = 0

    @property
    def total_fired(self) -> int:
        return sum(self.fired.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "fired": self.total_fired,
            "by_kind": dict(sorted(self.fired.items())),
            "failed": self.failed,
            "assigned": self.assigned,
            "mail_sent": self.mail_sent,
            "webhooks_delivered": self.webhooks_delivered,
            "incidents_opened": self.incidents_opened,
        }


def run_due(
    engine: Engine, *, now: datetime, settings: Settings | None = None, batch: int = 200
) -> TickStats:
    """Fire every pending timer due at or before `now`, oldest first, a batch per
    transaction. Timers that handlers schedule at or before `now` fire in the same run."""
    stats = TickStats()
    handlers = _handlers()
    while True:
        fired: dict[str, int] = {}
        try:
            # The fast way: the whole batch in one transaction.
            with session_scope(engine, write=True) as session:
                due = _claim_due(session, now=now, batch=batch)
                if not due:
                    return stats
                ctx = _context(session, settings)
                _hold(session, due)
                with session.no_autoflush:  # one flush at commit, not one per query
                    for timer in due:
                        _run(session, timer, handlers, ctx, now=now)
                        fired[timer.kind] = fired.get(timer.kind, 0) + 1
        except (DomainError, ValueError):
            # One timer failed and the batch rolled back: run it again a timer at a time, each
            # in a savepoint, so that only the broken one is set aside.
            fired = {}
            with session_scope(engine, write=True) as session:
                ctx = _context(session, settings)
                for timer in _claim_due(session, now=now, batch=batch):
                    _fire(session, timer, handlers, ctx=ctx, now=now, stats=stats, fired=fired)
        for kind, n in fired.items():
            stats.fired[kind] = stats.fired.get(kind, 0) + n


def _hold(session: Session, due: list[Timer]) -> None:
    """Load the batch's cases, and every team and agent, once: the session keeps only weak
    references, so without this each handler would read them again."""
    ids = sorted({t.case_id for t in due if t.case_id is not None})
    held: list[object] = []
    for part in chunked(ids):
        held += session.scalars(select(Case).where(Case.id.in_(part))).all()
    held += session.scalars(select(Team)).all()
    held += session.scalars(select(Agent)).all()
    session.info["amends.held"] = held


def _context(session: Session, settings: Settings | None) -> TickContext:
    return TickContext(
        policy=active_policy(session),
        secret=_secret(settings),
        public_url=settings.public_url if settings else TickContext.public_url,
    )


def _claim_due(session: Session, *, now: datetime, batch: int) -> list[Timer]:
    query = (
        select(Timer)
        .where(Timer.status == TimerStatus.PENDING, Timer.due_at <= now)
        .order_by(Timer.due_at, Timer.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _run(
    session: Session, timer: Timer, handlers: dict[str, Handler], ctx: TickContext, *, now: datetime
) -> None:
    handler = handlers.get(timer.kind)
    if handler is None:
        raise DomainError(f"no handler for timer kind {timer.kind!r}")
    handler(session, timer, ctx, at=min(timer.due_at, now))
    timer.status = TimerStatus.DONE
    timer.fired_at = now


def _secret(settings: Settings | None) -> str | None:
    if settings is None or settings.secret_key is None:
        return None
    return settings.secret_key.get_secret_value()


def _fire(
    session: Session,
    timer: Timer,
    handlers: dict[str, Handler],
    *,
    ctx: TickContext,
    now: datetime,
    stats: TickStats,
    fired: dict[str, int],
) -> None:
    try:
        with session.begin_nested():
            _run(session, timer, handlers, ctx, now=now)
    except (DomainError, ValueError) as exc:
        # One broken timer (a case deleted by hand, a playbook that no longer fits) must not
        # hold up the rest: it is kept, failed, with its reason.
        timer.status = TimerStatus.FAILED
        timer.last_error = f"{type(exc).__name__}: {exc}"[:500]
        timer.fired_at = now
        stats.failed += 1
        log.warning("timer %s (%s) failed: %s", timer.id, timer.kind, type(exc).__name__)
        return
    fired[timer.kind] = fired.get(timer.kind, 0) + 1


def assign_waiting(engine: Engine, *, now: datetime, batch: int = 500) -> int:
    """Try again to assign open cases that no agent could take when they came in."""
    with session_scope(engine, write=True) as session:
        policy = active_policy(session)
        if not policy.auto_assign:
            return 0
        cases = list(
            session.scalars(
                select(Case)
                .where(Case.status.in_(OPEN_STATUSES), Case.assignee_id.is_(None))
                .order_by(Case.priority.is_(None), Case.priority, Case.opened_at)
                .limit(batch)
            )
        )
        return case_service.auto_assign(session, cases, policy=policy, now=now)


def tick(engine: Engine, *, now: datetime, settings: Settings) -> TickStats:
    """Everything due up to `now`: timers, waiting assignments, spike detection (once its
    interval has passed), then outgoing mail and webhooks."""
    from amends.incidents.flows import detect_if_due
    from amends.outbound.flows import deliver_due

    stats = run_due(engine, now=now, settings=settings)
    stats.assigned = assign_waiting(engine, now=now)
    stats.incidents_opened = detect_if_due(engine, now=now)
    delivered = deliver_due(engine, now=now, settings=settings)
    stats.mail_sent = delivered.mail_sent
    stats.webhooks_delivered = delivered.webhooks_delivered
    return stats


class TimerThread:
    """Ticks in the background of `amends serve` (or in `amends worker`) until stopped."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        every: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._every = every
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="amends-timers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def run_once(self) -> TickStats | None:
        try:
            stats = tick(self._engine, now=self._clock(), settings=self._settings)
        except Exception:  # the loop must survive a bad tick; the next one tries again
            log.exception("tick failed")
            return None
        if stats.total_fired or stats.assigned or stats.mail_sent or stats.webhooks_delivered:
            log.info("tick: %s", stats.as_dict())
        return stats

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._every)
