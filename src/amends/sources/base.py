"""What every source parser yields: items ready to store, or rejects to quarantine.

Parsers read files (that is their job) but know nothing of the database. Each format module
exposes `parse(stream: Source, options: ParseOptions) -> Iterator[Item | Rejected]` and a
`sniff(head: bytes, name: str) -> int` score used by format detection.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from amends.customers.rules import IdentityRef
from amends.feedback.rules import Channel, Direction, ScoreScale

# One quarantined piece keeps at most this many raw bytes; the rest is cut and flagged.
MAX_RAW_BYTES = 1_000_000
# What a parser hands over of a piece it cannot read: one byte more than is kept, so that the
# quarantine can tell that the piece was cut.
KEEP_BYTES = MAX_RAW_BYTES + 1


@dataclass(frozen=True)
class Item:
    """One feedback item as a source gave it, not yet matched to a customer."""

    channel: Channel
    text: str
    received_at: datetime
    direction: Direction = Direction.IN
    source_id: str | None = None
    author_name: str | None = None
    author_handle: str | None = None
    # The customer's identities: the author's for incoming items, the recipient's for outgoing.
    identities: tuple[IdentityRef, ...] = ()
    public: bool = False
    reach: int | None = None
    subject: str | None = None
    thread_id: str | None = None
    in_reply_to: str | None = None
    score: float | None = None
    score_scale: ScoreScale | None = None
    automated: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    """A piece of input that could not be read, and why, with enough to try again later."""

    location: str
    reason: str
    raw: bytes
    options: Mapping[str, Any] = field(default_factory=dict)
    # The format `raw` is in, when not the input's own (an item refused after parsing is kept
    # as a feedback JSON object).
    fmt: str | None = None


@dataclass(frozen=True)
class ParseOptions:
    """Choices the user makes on the command line or in an API call."""

    text_column: str | None = None
    time_column: str | None = None
    id_column: str | None = None
    author_column: str | None = None
    email_column: str | None = None
    channel: Channel | None = None
    encoding: str | None = None
    # The company's own handles or addresses: their turns are outgoing replies.
    brand_handles: frozenset[str] = frozenset()
    # The moment of reading, given by the caller: the time of items that carry none.
    now: datetime | None = None

    def reading_time(self) -> datetime:
        """When the input is read: the caller's `now`, else the clock (for direct calls)."""
        return self.now or datetime.now(UTC)

    def to_stored(self) -> dict[str, Any]:
        """The options as JSON, kept with a quarantined piece so a retry reads it the same way."""
        stored: dict[str, Any] = {
            name: getattr(self, name) for name in _STORED_TEXT if getattr(self, name) is not None
        }
        if self.channel is not None:
            stored["channel"] = self.channel.value
        if self.brand_handles:
            stored["brand_handles"] = sorted(self.brand_handles)
        return stored

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> ParseOptions:
        channel = stored.get("channel")
        brands = stored.get("brand_handles") or ()
        texts: dict[str, Any] = {n: str(stored[n]) for n in _STORED_TEXT if stored.get(n)}
        return cls(
            **texts,
            channel=Channel(channel) if channel in set(Channel) else None,
            brand_handles=frozenset(str(b) for b in brands),
        )

    def override(self, other: ParseOptions) -> ParseOptions:
        """These options, with each one that `other` sets taken from `other`."""
        values = {name: getattr(other, name) or getattr(self, name) for name in _STORED_TEXT}
        return ParseOptions(
            **values,
            channel=other.channel or self.channel,
            brand_handles=other.brand_handles or self.brand_handles,
            now=other.now or self.now,
        )


_STORED_TEXT = (
    "text_column",
    "time_column",
    "id_column",
    "author_column",
    "email_column",
    "encoding",
)


@dataclass(frozen=True)
class Source:
    """A named input: a path on disk, or bytes received over the API or from a mailbox."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    def open(self) -> IO[bytes]:
        if self.path is not None:
            return self.path.open("rb")
        import io

        return io.BytesIO(self.data or b"")

    def head(self, size: int = 65536) -> bytes:
        if self.path is not None:
            if self.path.is_dir():
                return b""
            with self.path.open("rb") as handle:
                return handle.read(size)
        return (self.data or b"")[:size]


class Parser(Protocol):
    def __call__(self, source: Source, options: ParseOptions) -> Iterator[Item | Rejected]: ...


def truncate_raw(raw: bytes) -> bytes:
    return raw[:MAX_RAW_BYTES]
