"""Pure outbox rules: the retry schedule, event filters, signatures, canonical JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from amends.outbound.rules import (
    MAX_ATTEMPTS,
    brief,
    canonical_json,
    check_event_filter,
    event_matches,
    has_line_break,
    retry_delay,
    sign,
    verify,
)

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
T = int(NOW.timestamp())


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [
        (1, timedelta(seconds=30)),
        (2, timedelta(minutes=2)),
        (3, timedelta(minutes=10)),
        (4, timedelta(hours=1)),
        (5, timedelta(hours=6)),
        (6, timedelta(hours=24)),
        (7, None),  # the 7th failed attempt is the last
        (8, None),
    ],
)
def test_retry_delay(attempts: int, delay: timedelta | None) -> None:
    assert retry_delay(attempts) == delay
    assert MAX_ATTEMPTS == 7


def test_retry_delay_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retry_delay(0)


@pytest.mark.parametrize(
    ("patterns", "event", "expected"),
    [
        (["*"], "case.opened", True),
        (["case.*"], "case.sla_breached", True),
        (["case.*"], "followup.sent", False),
        (["followup.sent"], "followup.sent", True),
        (["followup.sent"], "followup.answered", False),
        (["case.opened", "followup.*"], "followup.answered", True),
        ([], "case.opened", False),
        (["cas*"], "case.opened", False),  # only whole-segment prefixes
    ],
)
def test_event_matches(patterns: list[str], event: str, expected: bool) -> None:
    assert event_matches(patterns, event) is expected


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("*", True),
        ("case.*", True),
        ("followup.*", True),
        ("case.opened", True),
        ("case.closed", False),
        ("invoice.*", False),
        ("case", False),
        ("", False),
    ],
)
def test_check_event_filter(pattern: str, ok: bool) -> None:
    assert (check_event_filter(pattern) is None) is ok


def test_sign_and_verify() -> None:
    body = b'{"event":"case.opened"}'
    header = sign("s3cret-s3cret-s3cret", body, T)
    assert header.startswith(f"t={T},v1=")
    assert len(header.split("v1=")[1]) == 64
    assert verify("s3cret-s3cret-s3cret", body, header, now=NOW)
    assert verify("s3cret-s3cret-s3cret", body, header, now=NOW + timedelta(seconds=300))
    # Wrong secret, changed body, too old, from the future, garbage.
    assert not verify("other-secret-other", body, header, now=NOW)
    assert not verify("s3cret-s3cret-s3cret", body + b" ", header, now=NOW)
    assert not verify("s3cret-s3cret-s3cret", body, header, now=NOW + timedelta(seconds=301))
    assert not verify("s3cret-s3cret-s3cret", body, header, now=NOW - timedelta(minutes=10))
    assert not verify("s3cret-s3cret-s3cret", body, "v1=abc", now=NOW)
    assert not verify("s3cret-s3cret-s3cret", body, "t=x,v1=abc", now=NOW)
    # A signature over another timestamp does not verify with this one.
    moved = header.replace(f"t={T}", f"t={T + 1}")
    assert not verify("s3cret-s3cret-s3cret", body, moved, now=NOW)
    # Rotation: any of several v1 values may match.
    rotated = f"{header},v1={sign('old-secret-old-secret', body, T).split('v1=')[1]}"
    assert verify("old-secret-old-secret", body, rotated, now=NOW)


def test_canonical_json_is_stable_through_a_round_trip() -> None:
    payload = {"b": [1, 2.5, "é"], "a": {"z": None, "y": True}, "big": 10**20, "f": 1e16}
    once = canonical_json(payload)
    assert once == canonical_json(json.loads(once))
    assert once.startswith(b'{"a":{"y":true,"z":null},"b":[1,2.5,"\\u00e9"]')


@pytest.mark.parametrize(
    ("value", "bad"),
    [("Hello", False), ("a\r\nBcc: x@y", True), ("a\nb", True), ("a\u2028b", True), ("é", False)],
)
def test_has_line_break(value: str, bad: bool) -> None:
    assert has_line_break(value) is bad


def test_brief_masks_secrets_and_cuts() -> None:
    assert brief("login failed for pw hunter22\n  again", hide=["hunter22"]) == (
        "login failed for pw *** again"
    )
    assert len(brief("x" * 900)) == 500
