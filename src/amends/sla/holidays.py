"""Public holidays for a calendar, from the `holidays` package's bundled data (no network)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import holidays as _holidays

__all__ = ["public_holidays"]


def public_holidays(
    country: str, *, subdivision: str | None = None, years: Iterable[int]
) -> frozenset[date]:
    """Local dates of the public holidays of `country` (ISO 3166 alpha-2, e.g. "GB") in `years`.

    `subdivision` is the package's code for a region (GB: "ENG", "SCT", "WLS", "NIR"; US: "NY").
    Observed days are included (Boxing Day on a Saturday is also observed on the Monday).
    An unknown country or subdivision raises `ValueError`.
    """
    if not isinstance(country, str) or not country.strip():
        raise ValueError(f"country must be an ISO 3166 code such as 'GB', got {country!r}")
    if subdivision is not None and (not isinstance(subdivision, str) or not subdivision.strip()):
        raise ValueError(f"subdivision must be a code such as 'ENG', got {subdivision!r}")
    wanted = tuple(sorted({int(year) for year in years}))
    return _public_holidays(
        country.strip().upper(),
        subdivision.strip() if subdivision is not None else None,
        wanted,
    )


@lru_cache(maxsize=256)
def _public_holidays(
    country: str, subdivision: str | None, years: tuple[int, ...]
) -> frozenset[date]:
    supported = _holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(
            f"unknown country {country!r} for public holidays: expected an ISO 3166 alpha-2 "
            "code such as 'GB', 'US' or 'DE'"
        )
    if subdivision is not None and subdivision.upper() in supported[country]:
        subdivision = subdivision.upper()
    try:
        # Built even for no years, so that a bad subdivision is refused whatever the years.
        found = _holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError as exc:
        known = ", ".join(supported[country]) or "none"
        raise ValueError(
            f"unknown subdivision {subdivision!r} of {country} for public holidays (known: {known})"
        ) from exc
    return frozenset(found.keys())
