"""Closed sets and pure helpers for feedback items. No IO."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from enum import StrEnum


class Direction(StrEnum):
    IN = "in"  # from a customer
    OUT = "out"  # from the company


class Channel(StrEnum):
    EMAIL = "email"
    X = "x"
    SOCIAL = "social"  # other social networks
    REVIEW = "review"
    SURVEY = "survey"
    CHAT = "chat"
    CALL = "call"
    WEB = "web"  # forms and the HTTP API
    OTHER = "other"


class ScoreScale(StrEnum):
    STARS = "stars"  # 1..5
    NPS = "nps"  # 0..10
    CSAT = "csat"  # 1..5


# The valid scores of each scale, inclusive.
SCORE_RANGES: dict[ScoreScale, tuple[float, float]] = {
    ScoreScale.STARS: (1, 5),
    ScoreScale.NPS: (0, 10),
    ScoreScale.CSAT: (1, 5),
}

# Items dated further ahead than this are refused: a clock or a parser is wrong.
FUTURE_TOLERANCE = timedelta(days=1)

# Channels whose items everyone can read unless the source says otherwise.
PUBLIC_BY_DEFAULT: frozenset[Channel] = frozenset({Channel.X, Channel.SOCIAL, Channel.REVIEW})


def is_praise(scale: ScoreScale | None, score: float | None) -> bool:
    """A top score with nothing to recover: it is kept as feedback but opens no case."""
    if scale is None or score is None:
        return False
    if scale is ScoreScale.NPS:
        return score >= 9
    return score >= 4.5 if scale is ScoreScale.STARS else score >= 5


def content_source_id(*parts: str) -> str:
    """A stable id for an item whose source gave none, so that re-imports are recognised."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest[:40]}"


def source_key(channel: Channel, source_id: str) -> str:
    """The desk-wide unique key of an item: the same id on two channels is two items."""
    return f"{channel.value}:{source_id}"
