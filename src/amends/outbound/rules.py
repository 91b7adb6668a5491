"""Outbound rules as data: statuses, the retry schedule, event filters, the webhook signature
and the canonical JSON body. No IO."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class OutboxStatus(StrEnum):
    """The life of one outbound mail or webhook delivery.

    pending -> sending (claimed, leased) -> sent | failed (retry scheduled) | dead (given up).
    A `sending` row whose lease ran out is due again: its worker died mid-send."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


# Rows that deliver_due may claim once their next_attempt_at has come. A claimed row's
# next_attempt_at is its lease end, so an expired lease is due like any retry.
DUE_STATUSES: frozenset[OutboxStatus] = frozenset(
    {OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SENDING}
)

KNOWN_EVENTS: frozenset[str] = frozenset(
    {
        "case.opened",
        "case.status_changed",
        "case.assigned",
        "case.priority_raised",
        "case.merged",
        "case.split",
        "case.replied",
        "case.sla_warning",
        "case.sla_breached",
        "case.escalated",
        "followup.sent",
        "followup.answered",
    }
)

# Waits after the 1st, 2nd, ... failed attempt; after the last one's next failure, give up.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1  # the 7th failed attempt is the last

# Mail kinds written by a person; every other kind is sent with Auto-Submitted: auto-generated
# (RFC 3834), so that autoresponders do not answer it.
MANUAL_KINDS: frozenset[str] = frozenset({"reply", "manual"})
_KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,39}$")


def retry_delay(attempts: int) -> timedelta | None:
    """How long to wait after `attempts` failed attempts, or None when it is time to give up."""
    if attempts < 1:
        raise ValueError("attempts counts the failed attempt just made: at least 1")
    if attempts >= MAX_ATTEMPTS:
        return None
    return BACKOFF[attempts - 1]


def is_valid_kind(kind: str) -> bool:
    return bool(_KIND.match(kind))


def is_automatic(kind: str) -> bool:
    return kind not in MANUAL_KINDS


def has_line_break(value: str) -> bool:
    """True when a header value could smuggle in another header (CR, LF and kin)."""
    return any(ch in value for ch in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00")


def check_event_filter(pattern: str) -> str | None:
    """Why `pattern` is not a valid event filter ("*", a known event, or "prefix.*"), or None."""
    if pattern == "*" or pattern in KNOWN_EVENTS:
        return None
    if pattern.endswith(".*"):
        prefix = pattern[:-1]  # keeps the dot: "case."
        if any(e.startswith(prefix) for e in KNOWN_EVENTS):
            return None
        return f"no known event starts with {prefix!r}"
    return f"unknown event {pattern!r}"


def event_matches(patterns: Iterable[str], event: str) -> bool:
    """True when any of a webhook's filters selects `event`."""
    for p in patterns:
        if p == "*" or p == event:
            return True
        if p.endswith(".*") and event.startswith(p[:-1]):
            return True
    return False


def canonical_json(obj: Any) -> bytes:
    """The one serialisation of a payload: compact, sorted keys, ASCII. Serialising the decoded
    result again gives the same bytes, so a retry signs and sends exactly what was stored."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def sign(secret: str, body: bytes, t: int) -> str:
    """The X-Amends-Signature header value for `body` sent at unix time `t`."""
    return f"t={t},v1={_digest(secret, body, t)}"


def verify(secret: str, body: bytes, header: str, *, now: datetime, tolerance: int = 300) -> bool:
    """True when `header` signs `body` with `secret` and its timestamp is within `tolerance`
    seconds of `now` (refuses replays of old deliveries). Compares in constant time."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        t = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - t) > tolerance:
        return False
    expected = _digest(secret, body, t)
    # Several v1 values let a sender sign with an old and a new secret while rotating.
    return any(hmac.compare_digest(expected, v) for v in parts.get("v1", []))


def _digest(secret: str, body: bytes, t: int) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def brief(text: str, *, hide: Iterable[str] = (), limit: int = 500) -> str:
    """`text` on one line, cut to `limit` characters, with every secret in `hide` masked."""
    for secret in hide:
        if secret:
            text = text.replace(secret, "***")
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
