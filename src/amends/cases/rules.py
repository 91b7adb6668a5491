"""The case lifecycle as data. No IO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CaseStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES: frozenset[CaseStatus] = frozenset(
    {
        CaseStatus.NEW,
        CaseStatus.ACKNOWLEDGED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.WAITING_ON_CUSTOMER,
    }
)

_ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset(
        {
            CaseStatus.ACKNOWLEDGED,
            CaseStatus.IN_PROGRESS,
            CaseStatus.WAITING_ON_CUSTOMER,
            CaseStatus.RESOLVED,
            CaseStatus.CLOSED,
        }
    ),
    CaseStatus.ACKNOWLEDGED: frozenset(
        {
            CaseStatus.IN_PROGRESS,
            CaseStatus.WAITING_ON_CUSTOMER,
            CaseStatus.RESOLVED,
            CaseStatus.CLOSED,
        }
    ),
    CaseStatus.IN_PROGRESS: frozenset(
        {CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.WAITING_ON_CUSTOMER: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    # Reopening: a resolved or closed case goes back to work.
    CaseStatus.RESOLVED: frozenset({CaseStatus.CLOSED, CaseStatus.IN_PROGRESS}),
    CaseStatus.CLOSED: frozenset({CaseStatus.IN_PROGRESS}),
}


def can_transition(current: CaseStatus, target: CaseStatus) -> bool:
    return target in _ALLOWED[current]


def is_reopen(current: CaseStatus, target: CaseStatus) -> bool:
    return current not in OPEN_STATUSES and target in OPEN_STATUSES


class Clock(StrEnum):
    """The three promises a case's SLA makes."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")


def raised(priority: str | None) -> str:
    """One step more urgent, never beyond P1; a case without a priority becomes P3."""
    if priority not in PRIORITIES:
        return "P3"
    return PRIORITIES[max(0, PRIORITIES.index(priority) - 1)]


# Categories that say nothing about what a complaint is about: such a message joins any open case.
_UNSPECIFIC = frozenset({"", "other"})


def same_matter(
    case_category: str | None, category: str | None, *, same_thread: bool = False
) -> bool:
    """Whether a new message belongs with an open case: the same conversation, the same
    category, or one of the two says nothing specific."""
    if same_thread:
        return True
    a, b = case_category or "", category or ""
    return a in _UNSPECIFIC or b in _UNSPECIFIC or a == b


@dataclass(frozen=True)
class Deadline:
    clock: Clock
    due: datetime
    met_at: datetime | None  # when the promise was kept; None while it runs
    flagged: bool = False  # a breach was recorded (its due time may have moved since)

    def breached(self, now: datetime) -> bool:
        """Late: recorded as breached, kept after its due time, or still running past it."""
        return self.flagged or (self.met_at or now) > self.due


def agent_actor(email: str | None, *, otherwise: str) -> str:
    """Who did it, as case histories and timelines write it: "agent:<email>", or `otherwise`
    ("cli", "api") when no agent was named."""
    return f"agent:{email.strip().lower()}" if email else otherwise
