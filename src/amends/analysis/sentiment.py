"""Sentiment in -1 .. 1: VADER's lexicon blended with the emotion model's polarity head."""

from __future__ import annotations

from functools import cache
from typing import Protocol

VADER_WEIGHT = 0.5
# VADER's cost grows with length; the opening of a long message carries its tone
VADER_MAX_CHARS = 2000


class _Vader(Protocol):
    def polarity_scores(self, text: str) -> dict[str, float]: ...


@cache
def vader() -> _Vader:
    """VADER's analyser (its lexicon ships inside the vaderSentiment package)."""
    from vaderSentiment.vaderSentiment import (
        SentimentIntensityAnalyzer,
    )

    analyser: _Vader = SentimentIntensityAnalyzer()
    return analyser


def vader_compound(text: str) -> float:
    """VADER's compound score (-1 .. 1)."""
    return float(vader().polarity_scores(text[:VADER_MAX_CHARS])["compound"])


def blend(
    compound: float, positive_probability: float, *, vader_weight: float = VADER_WEIGHT
) -> float:
    """Blend VADER's compound with the model's P(positive), as a score in -1 .. 1."""
    model = 2.0 * positive_probability - 1.0
    return round(max(-1.0, min(1.0, vader_weight * compound + (1 - vader_weight) * model)), 4)
