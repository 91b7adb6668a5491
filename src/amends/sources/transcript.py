"""Chat and call transcripts: `Speaker: text` turns in plain text, or JSON segments.

Plain text: an optional header block ("Date:", "Customer:", "Email:", "Phone:", "Channel: chat",
"Conversation-ID:", "Agent: Maria"), then turns such as `Agent: ...`, `[10:02] Customer: ...` or
`10:02:33 Maria: ...`; a turn goes on over the following lines until the next speaker's line.
A line like "Note: ..." is a new turn only when "Note" is a known role, is named in the header,
or speaks more than once; otherwise it continues the turn before it.

JSON: `{"segments": [{"speaker", "text", "start" | "timestamp"}], "metadata": {...}}`, a bare
list of segments, JSONL of segments or of such documents, and Amazon Connect chat transcripts and
Contact Lens call analyses (`"Transcript": [{"ParticipantRole" | "ParticipantId", "Content",
"AbsoluteTime" | "BeginOffsetMillis"}]`).

Who speaks for the company: roles such as Agent, Support, Rep, Operator or Advisor, a name given
in the header as "Agent: Maria", and the brand's own names (`ParseOptions.brand_handles`); bots
and "System" lines are the company's too, marked automated. When the header names the customer,
every other speaker is the company; otherwise other speakers are the customer.

Each turn is one item, in one thread per conversation (its id from the header or metadata, else
a hash of the content), so a re-import finds the same `<thread>:<turn>` source ids. Without an
email, phone or reference in the header, the conversation itself identifies its customer, so all
its turns land in one case.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from amends.customers.rules import IdentityKind, IdentityRef
from amends.feedback.rules import Channel, Direction
from amends.sources.base import KEEP_BYTES, Item, ParseOptions, Rejected, Source
from amends.sources.jsonio import iter_json_records
from amends.sources.text import UndecodableText, decode, looks_binary
from amends.sources.times import BadTime, parse_time

# A transcript is read whole; anything larger is surely not one conversation.
MAX_TRANSCRIPT_BYTES = 50_000_000

COMPANY_ROLES = frozenset(
    {
        "agent",
        "support",
        "rep",
        "representative",
        "operator",
        "advisor",
        "adviser",
        "associate",
        "specialist",
        "csr",
        "staff",
        "moderator",
        "helpdesk",
        "service",
    }
)
BOT_ROLES = frozenset({"bot", "chatbot", "system", "assistant", "virtual", "automated", "ivr"})
CUSTOMER_ROLES = frozenset({"customer", "client", "caller", "user", "visitor", "guest", "member"})
HEADER_KEYS = frozenset(
    {
        "date",
        "time",
        "started",
        "start",
        "start time",
        "customer",
        "customer name",
        "email",
        "e-mail",
        "customer email",
        "phone",
        "customer phone",
        "channel",
        "type",
        "conversation-id",
        "conversation id",
        "conversation",
        "chat id",
        "chat-id",
        "call id",
        "call-id",
        "ticket",
        "ticket id",
        "subject",
        "agent",
        "agent name",
        "queue",
        "duration",
        "language",
        "customer id",
        "customer-id",
        "order",
        "order id",
    }
)
_ROLE_KEYS = frozenset({"agent", "agent name", "customer", "customer name"})
_ID_KEYS = (
    "conversation-id",
    "conversation id",
    "conversation_id",
    "conversationid",
    "conversation",
    "chat id",
    "chat-id",
    "chat_id",
    "call id",
    "call-id",
    "call_id",
    "contactid",
    "initialcontactid",
    "ticket",
    "ticket id",
    "id",
)
_HEADER_LINE = re.compile(r"^([A-Za-z][\w -]{0,30}?)\s*:\s*(.*)$")
_TURN = re.compile(
    r"^\s*(?:\[(?P<ts>[^\]]{1,40})\]\s*|(?P<ts2>\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)"
    r"\s+(?:-\s*)?)?(?P<speaker>[^\W\d_][^:\[\]\n]{0,39}?)\s*:(?:\s+(?P<text>.*)|\s*$)"
)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$")
_NOT_TEXT = (".csv", ".tsv", ".json", ".jsonl", ".eml", ".mbox", ".msg", ".xml", ".html", ".htm")
_MAIL_HEADERS = ("received:", "message-id:", "mime-version:", "return-path:", "delivered-to:")


def sniff(head: bytes, name: str) -> dict[str, int]:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:65536]
    if stripped[:1] in (b"{", b"["):
        if b'"segments"' in stripped or (
            b'"Transcript"' in stripped
            and (b'"ParticipantId"' in stripped or b'"ParticipantRole"' in stripped)
        ):
            return {"transcript": 55}
        if b'"speaker"' in stripped and b'"text"' in stripped:
            return {"transcript": 50}
        return {}
    if name.lower().endswith(_NOT_TEXT) or looks_binary(head) or stripped.startswith(b"From "):
        return {}
    lines = [ln for ln in head.decode("utf-8", "replace").splitlines() if ln.strip()][:80]
    if any(ln.lower().startswith(_MAIL_HEADERS) for ln in lines[:40]):
        return {}
    speakers: dict[str, int] = {}
    for line in lines:
        match = _TURN.match(line)
        if match is None or not match.group("text"):
            continue
        key = match.group("speaker").strip().lower()
        if key not in HEADER_KEYS - _ROLE_KEYS and len(key.split()) <= 4:
            speakers[key] = speakers.get(key, 0) + 1
    turns = sum(speakers.values())
    known = any(_role_word(s) is not None for s in speakers)
    repeated = sum(1 for n in speakers.values() if n >= 2)
    if turns >= 2 and (known or repeated >= 2) and len(speakers) <= 12:
        return {"transcript": 45}
    return {}


def _role_word(speaker: str) -> str | None:
    """ "out", "bot" or "in" when a speaker's label starts with a role word ("Agent (Maria)")."""
    words = re.findall(r"[^\W\d_]+", speaker.lower())
    if not words:
        return None
    if words[0] in COMPANY_ROLES or " ".join(words[:2]) in {"customer service", "customer care"}:
        return "out"
    if words[0] in BOT_ROLES:
        return "bot"
    if words[0] in CUSTOMER_ROLES:
        return "in"
    return None


@dataclass
class _Turn:
    speaker: str
    text: str
    stamp: str | None = None  # as written: "10:02", "2024-03-01T10:02:00Z"
    offset: float | None = None  # seconds from the start of the conversation


@dataclass
class _Conversation:
    turns: list[_Turn]
    header: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    call: bool = False


def parse_transcript(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    head = source.head(4096)
    if looks_binary(head):
        yield Rejected("file", "binary data, not a transcript", source.head(KEEP_BYTES))
        return
    fallback = _file_time(source, options)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        for conversation in _json_conversations(source):
            if isinstance(conversation, Rejected):
                yield conversation
            else:
                yield from _items(conversation, options, fallback)
        return
    with source.open() as handle:
        raw = handle.read(MAX_TRANSCRIPT_BYTES + 1)
    if len(raw) > MAX_TRANSCRIPT_BYTES:
        yield Rejected("file", "larger than 50 MB: too large for one transcript", raw[:KEEP_BYTES])
        return
    try:
        text = decode(raw, options.encoding)
    except UndecodableText as exc:
        yield Rejected("file", str(exc), raw)
        return
    conversation = _text_conversation(text, options)
    conversation.content = raw
    if not conversation.turns:
        yield Rejected(
            "file",
            "no `Speaker: text` turns found (expected lines such as 'Agent: ...' and "
            "'Customer: ...')",
            raw,
        )
        return
    yield from _items(conversation, options, fallback)


def _file_time(source: Source, options: ParseOptions) -> datetime:
    """When a transcript with no date of its own happened: its file's time, else now."""
    if source.path is not None:
        try:
            return datetime.fromtimestamp(source.path.stat().st_mtime, UTC)
        except OSError:
            pass
    return options.reading_time()


# ---- plain text ------------------------------------------------------------------------------


def _text_conversation(text: str, options: ParseOptions) -> _Conversation:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header, start = _header(lines)
    named = _named_speakers(header, options)
    candidates: list[tuple[int, re.Match[str]]] = []
    counts: dict[str, int] = {}
    for number, line in enumerate(lines[start:], start=start):
        match = _TURN.match(line)
        if match is None or len(match.group("speaker").split()) > 4:
            continue
        candidates.append((number, match))
        key = match.group("speaker").strip().lower()
        counts[key] = counts.get(key, 0) + 1
    chosen = [
        (number, match)
        for index, (number, match) in enumerate(candidates)
        if _is_speaker(match.group("speaker"), counts, named) or index == 0
    ]
    customer_named = "in" in named.values()
    sides = {_side(m.group("speaker").strip().lower(), named, customer_named) for _, m in chosen}
    if "in" not in sides:
        # Only the company speaks so far: the customer is among the once-only labels.
        chosen = candidates
    real = {number for number, _ in chosen}
    turns: list[_Turn] = []
    for number in range(start, len(lines)):
        line = lines[number]
        if number in real:
            match = _TURN.match(line)
            assert match is not None
            turns.append(
                _Turn(
                    match.group("speaker").strip(),
                    match.group("text") or "",
                    match.group("ts") or match.group("ts2"),
                )
            )
        elif turns:
            turns[-1].text += "\n" + line
    for turn in turns:
        turn.text = turn.text.strip()
    return _Conversation([t for t in _merged(turns) if t.text], header)


def _header(lines: Sequence[str]) -> tuple[dict[str, str], int]:
    """The header block's fields and the index of the first line after it."""
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    fields: dict[str, str] = {}
    paragraph: list[tuple[str, str]] = []
    end = index
    while end < len(lines) and lines[end].strip():
        match = _HEADER_LINE.match(lines[end].strip())
        if match is None or match.group(1).strip().lower() not in HEADER_KEYS:
            break
        paragraph.append((match.group(1).strip().lower(), match.group(2).strip()))
        end += 1
    whole = end >= len(lines) or not lines[end].strip()
    roles = [value for key, value in paragraph if key in _ROLE_KEYS]
    if (
        whole
        and len(roles) < len(paragraph)
        and all(_looks_like_name(value) for value in roles)
        and len({key for key, _ in paragraph}) == len(paragraph)
    ):
        # The whole first paragraph is header: "Agent: Maria" there names, it does not speak.
        fields.update(paragraph)
        return fields, end
    # Turns follow at once: the leading lines that cannot be turns are header, and so are
    # "Agent: Maria" lines when Maria speaks further down.
    rest = "\n".join(lines[index + len(paragraph) :]).lower()
    taken = 0
    for key, value in paragraph:
        if key in _ROLE_KEYS and not (_looks_like_name(value) and _speaks(value, rest)):
            break
        fields[key] = value
        taken += 1
    return fields, index + taken


def _speaks(name: str, text: str) -> bool:
    first = re.escape(name.split()[0].lower())
    return re.search(rf"^(?:\S+\s+)?{first}\b[^:\n]{{0,30}}:", text, re.MULTILINE) is not None


def _looks_like_name(value: str) -> bool:
    """ "Maria" or "Jane Doe <jane@example.com>" names someone; "Hi, how can I help?" speaks."""
    return (
        0 < len(value.split()) <= 4
        and not any(ch in value for ch in ",?!")
        and (not value.endswith("."))
    )


def _named_speakers(header: Mapping[str, str], options: ParseOptions) -> dict[str, str]:
    """Speaker names the header or the options assign a side: name -> "out" or "in"."""
    sides: dict[str, str] = {b.lower(): "out" for b in options.brand_handles}
    for key in ("agent", "agent name"):
        for name in _names(header.get(key, "")):
            sides[name] = "out"
    for key in ("customer", "customer name"):
        for name in _names(header.get(key, "")):
            sides.setdefault(name, "in")
    return sides


def _names(value: str) -> list[str]:
    """A person's name and its first word, lowercased: "Jane Doe" answers to "Jane" too."""
    value = value.strip().lower()
    if not value or "@" in value:
        return []
    first = value.split()[0]
    return [value] if first == value else [value, first]


def _side(key: str, named: Mapping[str, str], customer_named: bool) -> str:
    """ "in", "out" or "bot": named speakers, then role words; the rest are the customer, or,
    when the header names the customer, the company."""
    return named.get(key) or _role_word(key) or ("out" if customer_named else "in")


def _is_speaker(speaker: str, counts: Mapping[str, int], named: Mapping[str, str]) -> bool:
    key = speaker.strip().lower()
    return key in named or _role_word(key) is not None or counts.get(key, 0) >= 2


def _merged(turns: list[_Turn]) -> list[_Turn]:
    """Consecutive turns of one speaker are one turn (chat bursts, split speech segments)."""
    out: list[_Turn] = []
    for turn in turns:
        if out and out[-1].speaker.lower() == turn.speaker.lower():
            out[-1].text = f"{out[-1].text}\n{turn.text}".strip()
            continue
        out.append(turn)
    return out


# ---- JSON ------------------------------------------------------------------------------------

_SEGMENT_LISTS = ("segments", "turns", "messages", "utterances", "transcript", "Transcript")


def _json_conversations(source: Source) -> Iterator[_Conversation | Rejected]:
    loose: list[_Turn] = []
    loose_raw: list[bytes] = []
    for record in iter_json_records(source):
        if isinstance(record, Rejected):
            yield record
            continue
        location, obj, raw = record
        if isinstance(obj, dict) and any(isinstance(obj.get(k), list) for k in _SEGMENT_LISTS):
            yield from _json_document(obj, location, raw)
            continue
        segment = _segment(obj, location, raw)
        if isinstance(segment, Rejected):
            yield segment
        elif segment is not None:
            loose.append(segment)
            loose_raw.append(raw)
    if loose:
        yield _Conversation(_merged(loose), {}, b"\n".join(loose_raw))


def _json_document(
    doc: dict[str, Any], location: str, raw: bytes
) -> Iterator[_Conversation | Rejected]:
    segments = next(doc[k] for k in _SEGMENT_LISTS if isinstance(doc.get(k), list))
    header: dict[str, str] = {}
    for part in (doc, doc.get("metadata"), doc.get("meta"), doc.get("CustomerMetadata")):
        if isinstance(part, dict):
            for key, value in part.items():
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    header.setdefault(key.lower().replace("_", " "), str(value))
    turns: list[_Turn] = []
    call = False
    prefix = "" if location == "object" else f"{location}, "
    for index, obj in enumerate(segments, start=1):
        if isinstance(obj, dict) and "BeginOffsetMillis" in obj and "AbsoluteTime" not in obj:
            call = True
        segment = _segment(obj, f"{prefix}segment {index}", raw)
        if isinstance(segment, Rejected):
            yield segment
        elif segment is not None:
            turns.append(segment)
    if not turns:
        yield Rejected(
            location if prefix else "file", "a transcript with no readable segments", raw
        )
        return
    yield _Conversation(_merged(turns), header, raw, call=call)


def _first(obj: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        value = obj.get(key)
        if value not in (None, ""):
            return value
    return None


def _segment(obj: object, where: str, raw: bytes) -> _Turn | Rejected | None:
    """One segment as a turn; None for events that carry no words (a participant joined)."""
    if not isinstance(obj, dict):
        return Rejected(where, "a segment that is not a JSON object", raw)
    text = _first(obj, ("text", "Content", "content", "message", "transcript", "body"))
    if text is None and (obj.get("Type") == "EVENT" or "ContentType" in obj):
        return None
    speaker = _first(
        obj,
        (
            "speaker",
            "ParticipantRole",
            "role",
            "speaker_label",
            "participant",
            "ParticipantId",
            "from",
            "author",
            "DisplayName",
            "name",
        ),
    )
    if not isinstance(text, str) or not text.strip():
        return Rejected(where, "a segment with no text", raw)
    if isinstance(speaker, dict):
        speaker = speaker.get("name") or speaker.get("role")
    if not isinstance(speaker, str) or not speaker.strip():
        return Rejected(where, "a segment with no speaker", raw)
    stamp = _first(obj, ("timestamp", "AbsoluteTime", "time", "created_at", "datetime"))
    offset = _first(obj, ("start", "start_time", "offset"))
    millis = obj.get("BeginOffsetMillis")
    seconds: float | None = None
    if isinstance(millis, int | float) and not isinstance(millis, bool):
        seconds = float(millis) / 1000
    elif isinstance(offset, int | float) and not isinstance(offset, bool):
        seconds = float(offset)
    elif isinstance(offset, str):
        seconds = _as_seconds(offset)
    return _Turn(speaker.strip(), text.strip(), str(stamp) if stamp is not None else None, seconds)


def _as_seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        clock = _CLOCK.match(value.strip())
        if clock is None or clock.group(4):
            return None
        a, b, c = int(clock.group(1)), int(clock.group(2)), clock.group(3)
        return a * 3600 + b * 60 + int(c) if c is not None else a * 60 + b


# ---- turns to items --------------------------------------------------------------------------


def _channel(conversation: _Conversation, options: ParseOptions) -> Channel:
    if options.channel is not None:
        return options.channel
    said = (conversation.header.get("channel") or conversation.header.get("type") or "").lower()
    if any(word in said for word in ("call", "phone", "voice")):
        return Channel.CALL
    if any(word in said for word in ("chat", "messag", "web", "whatsapp", "sms")):
        return Channel.CHAT
    return Channel.CALL if conversation.call else Channel.CHAT


def _items(
    conversation: _Conversation, options: ParseOptions, fallback: datetime
) -> Iterator[Item | Rejected]:
    header = conversation.header
    channel = _channel(conversation, options)
    conversation_id = _first(header, _ID_KEYS)
    thread = (
        str(conversation_id).strip()
        if conversation_id is not None
        else "transcript-" + hashlib.sha256(conversation.content).hexdigest()[:24]
    )
    try:
        base = _base_time(header)
    except BadTime as exc:
        yield Rejected("header", str(exc), conversation.content[:KEEP_BYTES])
        return
    identities = _identities(header, thread, channel)
    named = _named_speakers(header, options)
    customer_named = any(side == "in" for side in named.values())
    customer_name = header.get("customer name") or header.get("customer")
    if customer_name and "@" in customer_name:
        customer_name = None
    agent_name = header.get("agent name") or header.get("agent")
    times = _Clock(base or fallback, offsets=_offsets(conversation.turns, base))
    previous: str | None = None
    for index, turn in enumerate(conversation.turns, start=1):
        key = turn.speaker.lower()
        side = _side(key, named, customer_named)
        try:
            when = times.at(turn, dated=base is not None)
        except BadTime as exc:
            yield Rejected(f"turn {index}", str(exc), turn.text.encode())
            continue
        outgoing = side in ("out", "bot")
        role = _role_word(key) is not None
        name: str | None
        if outgoing:
            name = agent_name if role and agent_name and side == "out" else turn.speaker
        else:
            name = customer_name if role else turn.speaker
        source_id = f"{thread}:{index}"
        meta: dict[str, Any] = {"speaker": turn.speaker}
        if turn.stamp is not None:
            meta["said_at"] = turn.stamp
        yield Item(
            channel=channel,
            text=turn.text,
            received_at=when,
            direction=Direction.OUT if outgoing else Direction.IN,
            source_id=source_id,
            author_name=name or None,
            identities=identities,
            public=False,
            subject=header.get("subject") or None,
            thread_id=thread,
            in_reply_to=previous,
            automated=side == "bot",
            meta=meta,
        )
        previous = source_id


def _base_time(header: Mapping[str, str]) -> datetime | None:
    for key in (
        "date",
        "started",
        "started at",
        "start time",
        "start",
        "time",
        "datetime",
        "timestamp",
        "created at",
    ):
        if header.get(key):
            return parse_time(header[key], field=key.capitalize())
    return None


def _identities(
    header: Mapping[str, str], thread: str, channel: Channel
) -> tuple[IdentityRef, ...]:
    refs: list[IdentityRef] = []
    email = header.get("email") or header.get("e-mail") or header.get("customer email")
    customer = header.get("customer") or ""
    if not email and "@" in customer:
        email = customer
    if email:
        refs.append(IdentityRef(IdentityKind.EMAIL, email))
    phone = header.get("phone") or header.get("customer phone")
    if phone:
        refs.append(IdentityRef(IdentityKind.PHONE, phone))
    ref = header.get("customer id") or header.get("customer-id")
    if ref:
        refs.append(IdentityRef(IdentityKind.CUSTOMER_REF, ref))
    order = header.get("order id") or header.get("order")
    if order:
        refs.append(IdentityRef(IdentityKind.ORDER_REF, order))
    if not refs:
        # Nobody named: the conversation stands for its customer, so its turns share one case.
        value = re.sub(r"[^\w.\-]", "-", thread)[-100:]
        refs.append(IdentityRef(IdentityKind.HANDLE, value, f"{channel.value}-conversation"))
    return tuple(refs)


def _offsets(turns: Sequence[_Turn], base: datetime | None) -> bool:
    """Whether clock stamps count from the start of a call ("[00:05]") rather than tell time."""
    if base is None or (base.hour, base.minute, base.second) == (0, 0, 0):
        return False
    first = next((t.stamp for t in turns if t.stamp), None)
    seconds = _as_seconds(first) if first and _CLOCK.match(first.strip()) else None
    return seconds is not None and seconds < 600


class _Clock:
    """Turns' times from their stamps and offsets, on the conversation's date."""

    def __init__(self, base: datetime, *, offsets: bool) -> None:
        self.base = base
        self.offsets = offsets
        self.last = base

    def at(self, turn: _Turn, *, dated: bool) -> datetime:
        if turn.offset is not None:
            return self._keep(self.base + timedelta(seconds=turn.offset))
        stamp = (turn.stamp or "").strip()
        if not stamp:
            return self.last
        clock = _CLOCK.match(stamp)
        if clock is None:
            return self._keep(parse_time(stamp, field="turn time"))
        if self.offsets:
            seconds = _as_seconds(stamp)
            return self._keep(self.base + timedelta(seconds=seconds or 0))
        if not dated:
            return self.last
        hour, minute = int(clock.group(1)), int(clock.group(2))
        second = int(clock.group(3) or 0)
        if clock.group(4):
            hour = hour % 12 + (12 if clock.group(4).lower() == "pm" else 0)
        if hour > 23 or minute > 59 or second > 59:
            raise BadTime(f"turn time {stamp!r} is not a time of day")
        moment = self.base.replace(hour=hour, minute=minute, second=second, microsecond=0)
        while moment < self.last - timedelta(hours=1):
            moment += timedelta(days=1)  # past midnight
        return self._keep(moment)

    def _keep(self, moment: datetime) -> datetime:
        self.last = moment
        return moment
