"""Incidents as plain data: the playbook's detection settings and tiers, and what decides a
tier. No IO."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Tier(StrEnum):
    """The public response, by the size of the spill."""

    INDIVIDUAL = "individual"  # personal replies only
    SOCIAL_POST = "social_post"
    BLOG_POST = "blog_post"
    PRESS_RELEASE = "press_release"


# The tiers from smallest to largest; each needs at least its customers or its reach.
TIER_ORDER = (Tier.INDIVIDUAL, Tier.SOCIAL_POST, Tier.BLOG_POST, Tier.PRESS_RELEASE)
KEY_KINDS = ("category", "label", "topic", "channel")


@dataclass(frozen=True)
class Threshold:
    customers: int | None = None
    reach: int | None = None

    def met(self, customers: int, reach: int) -> bool:
        return (self.customers is not None and customers >= self.customers) or (
            self.reach is not None and reach >= self.reach
        )


@dataclass(frozen=True)
class IncidentPolicy:
    """What the playbook's `incidents:` section decides."""

    window: timedelta = timedelta(hours=1)
    history: timedelta = timedelta(weeks=4)
    every: timedelta = timedelta(minutes=15)  # how often the worker looks
    min_count: int = 5
    min_ratio: float = 3.0
    alpha: float = 1e-4
    cooldown: timedelta = timedelta(hours=12)
    keys: tuple[str, ...] = ("category", "label", "topic", "channel")
    tiers: Mapping[Tier, Threshold] = field(
        default_factory=lambda: {
            Tier.SOCIAL_POST: Threshold(customers=10, reach=20_000),
            Tier.BLOG_POST: Threshold(customers=50, reach=200_000),
            Tier.PRESS_RELEASE: Threshold(customers=500, reach=2_000_000),
        }
    )
    similarity: float = 0.6  # open cases this close to an incident's complaints join it
    contact: str = "reply to us here, or write to our support team"


def tier_for(customers: int, reach: int, tiers: Mapping[Tier, Threshold]) -> Tier:
    """The largest tier whose threshold the incident meets."""
    chosen = Tier.INDIVIDUAL
    for tier in TIER_ORDER[1:]:
        threshold = tiers.get(tier)
        if threshold is not None and threshold.met(customers, reach):
            chosen = tier
    return chosen
