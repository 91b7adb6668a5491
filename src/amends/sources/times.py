"""Reading the many ways sources write a moment in time. No IO."""

from __future__ import annotations

from datetime import UTC, datetime

from dateutil import parser as dateparser


class BadTime(ValueError):
    pass


def parse_time(value: str | int | float | None, *, field: str = "time") -> datetime:
    """Parse ISO 8601, RFC 2822, Twitter's and US dates, or a Unix epoch; naive means UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadTime(f"{field} is missing")
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise BadTime(f"{field} is not a valid epoch: {value!r}") from exc
    text = str(value).strip()
    try:
        # ISO 8601 is by far the most common, and fromisoformat is ~50x faster than dateutil.
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _slow_parse(text, field)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _slow_parse(text: str, field: str) -> datetime:
    try:
        return dateparser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise BadTime(f"{field} is not a date: {text[:60]!r}") from exc
