"""Email: single messages (.eml), mbox files of any size, and Maildir folders.

Every message goes through `message_to_item`, which the IMAP poller uses too. The body is the
first text/plain part, else the HTML part turned into plain text (never markup); quoted reply
history and signatures are cut where they are marked reliably. Threads follow Message-ID,
In-Reply-To and References. Auto-replies, bounces and bulk mail are flagged as automated so that
they never open a case.

An mbox is read line by line and split on its "From " lines, so a file of any size is read in
constant memory; one broken message is quarantined with its number and byte offset and the
rest go in.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import policy
from email.errors import MessageError
from email.headerregistry import AddressHeader, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from functools import partial
from typing import IO, Any

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
from bs4.element import Tag

from amends.customers.rules import IdentityKind, IdentityRef
from amends.feedback.rules import Channel, Direction, content_source_id
from amends.sources.base import KEEP_BYTES, Item, ParseOptions, Rejected, Source
from amends.sources.text import UndecodableText, clean, decode, looks_binary
from amends.sources.times import BadTime, parse_time

log = logging.getLogger(__name__)

# A message larger than this is quarantined unread (its first MAX_RAW_BYTES kept), so that one
# giant message cannot exhaust memory.
MAX_MESSAGE_BYTES = 50 * 1024 * 1024
# mbox lines are read in pieces of at most this size, so a file with no line breaks is safe.
_LINE_LIMIT = 1 << 20

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?\S?", re.MULTILINE)
_KNOWN_HEADERS = re.compile(
    rb"^(from|to|subject|date|message-id|received|return-path|mime-version|delivered-to"
    rb"|reply-to|cc|in-reply-to|references|content-type|x-[\w-]+):",
    re.IGNORECASE | re.MULTILINE,
)
# A "From " separator in the middle of an mbox carries a time and a year ("From sender Mon Jan
# 1 10:00:00 2024"), so that an unescaped "From what I saw..." in a body does not split a message.
_FROM_LINE = re.compile(rb"^From \S+\s+.*\b\d{1,2}:\d{2}\b.*\b\d{4}\b")
_ESCAPED_FROM = re.compile(rb"^>+From ")
_MSGID = re.compile(r"<([^<>\s]+)>")
_LINE_BREAKS = re.compile(r"[\r\n]")

# The common shapes of an address header: "ann@example.com", "Ann Lee <ann@example.com>" and
# '"Lee, Ann" <ann@example.com>', in plain ASCII. They are read directly; anything else (encoded
# words, comments, groups, quoted local parts, 8-bit bytes) goes through the full parser.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*"
_SIMPLE_MAILBOX = re.compile(
    rf"[ \t]*(?:(?P<bare>{_ADDR_SPEC})"
    rf"|(?:(?P<phrase>{_ATOM}(?:[ \t]+{_ATOM})*)|\"(?P<quoted>[ \t!#-\[\]-~]*)\")?"
    rf"[ \t]*<(?P<addr>{_ADDR_SPEC})>)[ \t]*"
)

_AUTO_SUBJECTS = (
    "out of office",
    "automatic reply",
    "auto:",
    "autoreply",
    "auto-reply",
    "auto reply",
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")

# Charsets that mail clients declare for text written in a larger, compatible one.
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
}

_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    }
)
_LINE_TAGS = frozenset({"li", "tr", "dt", "dd"})
_DROPPED_TAGS = (
    "script",
    "style",
    "head",
    "title",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "meta",
    "link",
)

# Any line that might start quoted history or a signature; most messages have none.
_HISTORY_HINT = re.compile(
    r"^(on |.*wrote:[ \t]*$|--[ \t]*$|[ \t]*-{2,}[ \t]*(original|forwarded))",
    re.IGNORECASE | re.MULTILINE,
)
_OUTLOOK_SEPARATORS = (
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.IGNORECASE),
)


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, but each header class is made once, not on every use."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


class _ParsedOnce(policy.EmailPolicy):
    """`policy.default`, except that a header value is parsed once and then reused.

    The standard policy parses a header again on every read, and the parser itself reads
    Content-Type several times per part. Header objects are immutable, and most values recur
    from message to message (Content-Type, MIME-Version, the desk's own address), so the parsed
    objects are kept in a bounded cache shared by all messages.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):
            return value
        if name.lower() in _UNIQUE_HEADERS:
            return super().header_fetch_parse(name, value)
        key = (name, value)
        parsed = _PARSED_HEADERS.get(key)
        if parsed is None:
            parsed = super().header_fetch_parse(name, value)
            if len(_PARSED_HEADERS) >= _PARSED_HEADERS_MAX:
                _PARSED_HEADERS.clear()
            _PARSED_HEADERS[key] = parsed
        return parsed


_PARSED_HEADERS: dict[tuple[str, str], Any] = {}
_PARSED_HEADERS_MAX = 256  # a parsed header takes a few kB
# Never the same in two messages, and read once: not worth a place in the cache.
_UNIQUE_HEADERS = frozenset({"message-id", "date"})
_POLICY = _ParsedOnce(header_factory=_HeaderClasses())


class _Unreadable(ValueError):
    """A message that cannot become a feedback item; its text is the reason."""


# ---- format detection -----------------------------------------------------------------------


def sniff(head: bytes, name: str) -> dict[str, int]:
    """Score `head` as an mbox (it starts with a "From " line) or one message (headers)."""
    lower = name.lower()
    if lower.endswith((".mbox", ".mbx")) or lower.endswith("/mbox") or lower == "mbox":
        return {"mbox": 45}
    if lower.endswith(".eml"):
        return {"eml": 45}
    if looks_binary(head):
        return {}
    start = head.lstrip(b"\r\n")
    if start.startswith(b"From "):
        lines = start.split(b"\n", 2)
        if len(lines) > 1 and _HEADER_LINE.match(lines[1]):
            return {"mbox": 50}
    block = start.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    first = block.split(b"\n", 1)[0]
    if _HEADER_LINE.match(first) and len(_KNOWN_HEADERS.findall(block)) >= 2:
        return {"eml": 42}
    return {}


# ---- one message ----------------------------------------------------------------------------


def message_to_item(
    raw: bytes,
    *,
    location: str,
    options: ParseOptions,
    envelope_time: datetime | None = None,
) -> Item | Rejected:
    """Turn one RFC 5322 message into an item, or a reject that keeps `raw` and says why.

    `envelope_time` (an mbox "From " line's date) is used when the message has no usable Date.
    """
    return _message_to_item(
        raw, location=location, options=options, envelope_time=lambda: envelope_time
    )


def _message_to_item(
    raw: bytes,
    *,
    location: str,
    options: ParseOptions,
    envelope_time: Callable[[], datetime | None],
) -> Item | Rejected:
    if not raw.strip():
        return Rejected(location, "empty message", raw)
    if len(raw) > MAX_MESSAGE_BYTES:
        return Rejected(location, f"message of {len(raw):,} bytes is over the limit", raw)
    if looks_binary(raw):
        return Rejected(location, "binary data, not an email message", raw)
    try:
        msg = BytesParser(policy=_POLICY).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        return _to_item(msg, raw, options=options, envelope_time=envelope_time)
    except _Unreadable as exc:
        return Rejected(location, str(exc), raw)
    except (MessageError, ValueError, LookupError, IndexError, TypeError, AttributeError) as exc:
        # The stdlib parser is lenient, but some malformed headers still raise when read.
        log.debug("unreadable message at %s: %s", location, type(exc).__name__)
        return Rejected(location, f"unreadable message: {_short(exc)}", raw)


def _to_item(
    msg: EmailMessage,
    raw: bytes,
    *,
    options: ParseOptions,
    envelope_time: Callable[[], datetime | None],
) -> Item:
    first = next(
        (found for name in _IDENTIFYING if (found := _first_raw(msg, name)) is not None), None
    )
    if first is None:
        raise _Unreadable("no email headers (From, Date, Subject or Message-ID)")
    if not _is_plain(*first):
        _parsed(*first)  # a header that the parser cannot read fails here, as it always did
    subject = _header(msg, "Subject")
    body, attachments, from_html = _body(msg)
    text = _strip_history(body)
    if not text:
        # A message with only a subject ("Refund not received!") still says something.
        text = subject
    if not text:
        raise _Unreadable("no readable text (no text part, or only attachments)")

    message_id = _first_id(_header(msg, "Message-ID"))
    source_id = message_id or content_source_id("email", raw.decode("latin-1"))
    references = _MSGID.findall(_header(msg, "References"))
    in_reply_to = _first_id(_header(msg, "In-Reply-To")) or None
    thread_id = (references[0] if references else None) or in_reply_to or source_id

    meta: dict[str, Any] = {}
    received_at = _received_at(msg, envelope_time)
    if received_at is None:
        received_at = options.reading_time()
        meta["time_assumed"] = True

    from_name, from_addr = _first_address(msg, "From")
    to_addrs = [addr for _, addr in _addresses(msg, "To") if addr]
    direction = Direction.OUT if _is_brand(from_addr, options.brand_handles) else Direction.IN
    # The customer is the sender, or for the brand's own replies the first recipient.
    customer = from_addr if direction is Direction.IN else next(iter(to_addrs), "")
    identities = (IdentityRef(IdentityKind.EMAIL, customer),) if "@" in customer else ()

    reason = automated_reason(msg, subject=subject, sender=from_addr)
    if reason:
        meta["automated_reason"] = reason
    if attachments:
        meta["attachments"] = attachments
    if from_html:
        meta["html_only"] = True
    if to_addrs:
        meta["to"] = to_addrs[:20]
    return Item(
        channel=Channel.EMAIL,
        text=text,
        received_at=received_at,
        direction=direction,
        source_id=source_id,
        author_name=from_name or None,
        author_handle=from_addr or None,
        identities=identities,
        public=False,
        subject=subject or None,
        thread_id=thread_id,
        in_reply_to=in_reply_to,
        automated=reason is not None,
        meta=meta,
    )


_IDENTIFYING = ("From", "Date", "Subject", "Message-ID")


def _first_raw(msg: Message, name: str) -> tuple[str, str] | None:
    """The first `name` header as (name as written, value as received), or None."""
    wanted = name.lower()
    return next(((k, v) for k, v in msg.raw_items() if k.lower() == wanted), None)


def _parsed(name: str, raw: str) -> Any:
    """The header object that `msg.get(name)` gives under the standard policy."""
    return _POLICY.header_fetch_parse(name, raw)


def _unfolded(raw: str) -> str:
    # What the standard policy does before parsing: line breaks go, the indent stays.
    return _LINE_BREAKS.sub("", raw) if "\n" in raw or "\r" in raw else raw


def _is_plain(name: str, raw: str) -> bool:
    """Whether a fast reading below gives exactly what the header parser would."""
    if _header_class(name, UnstructuredHeader):
        return "=?" not in raw and not _has_surrogates(raw)
    return _header_class(name, AddressHeader) and _simple_addresses(raw) is not None


def _header_class(name: str, kind: type) -> bool:
    factory = _POLICY.header_factory
    assert isinstance(factory, HeaderRegistry)
    return issubclass(factory[name], kind)


def _header(msg: Message, name: str) -> str:
    """A header's decoded value ("" when absent), RFC 2047 words and undeclared 8-bit alike."""
    found = _first_raw(msg, name)
    if found is None:
        return ""
    key, raw = found
    if _has_surrogates(raw):
        _parsed(key, raw)  # fails where it always failed
        # Raw 8-bit bytes with no declared charset: the parser shows them as U+FFFD; guess.
        text = str(_POLICY.header_factory(name, _fix_surrogates(raw)))
    elif "=?" not in raw and _header_class(key, UnstructuredHeader):
        text = _unfolded(raw)  # no encoded words: the parser would give it back unchanged
    else:
        text = str(_parsed(key, raw))
    return " ".join(text.split())


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _fix_surrogates(text: str) -> str:
    if not _has_surrogates(text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return decode(data)
    except UndecodableText:
        return data.decode("utf-8", "replace")


def _first_id(value: str) -> str:
    found = _MSGID.search(value)
    if found:
        return found.group(1)
    words = value.strip().strip("<>").split()
    return words[0] if words else ""


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) of each mailbox in the header; a bad one has address ""."""
    found: list[tuple[str, str]] = []
    wanted = name.lower()
    for key, raw in msg.raw_items():
        if key.lower() != wanted:
            continue
        simple = _simple_addresses(raw)
        if simple is not None:
            found.extend(simple)
            continue
        for address in getattr(_parsed(key, raw), "addresses", ()):
            spec = str(address.addr_spec) if address.domain else ""
            found.append((_fix_surrogates(str(address.display_name or "")).strip(), spec))
    return found


def _simple_addresses(raw: str) -> list[tuple[str, str]] | None:
    """The (display name, address) pairs of a plain ASCII address list, or None if not plain."""
    value = _unfolded(raw)
    if "=?" in value or not value.isascii():  # encoded words, or 8-bit bytes as surrogates
        return None
    pieces = value.split(",") if '"' not in value else [value]
    found: list[tuple[str, str]] = []
    for piece in pieces:
        match = _SIMPLE_MAILBOX.fullmatch(piece)
        if match is None:
            return None
        bare, phrase, quoted, addr = match.group("bare", "phrase", "quoted", "addr")
        if bare:
            found.append(("", bare))
        else:
            display = " ".join(phrase.split()) if phrase else (quoted or "")
            found.append((display.strip(), addr))
    return found


def _first_address(msg: Message, name: str) -> tuple[str, str]:
    for display, addr in _addresses(msg, name):
        if addr or display:
            return display, addr
    return "", ""


def _is_brand(address: str, brand: frozenset[str]) -> bool:
    """The brand's own address, its "+tag" variant, or any address at a brand domain."""
    if not address or not brand:
        return False
    address = address.lower()
    local, _, domain = address.rpartition("@")
    plain = f"{local.split('+', 1)[0]}@{domain}"
    return address in brand or plain in brand or (bool(domain) and domain in brand)


def _received_at(msg: Message, envelope_time: Callable[[], datetime | None]) -> datetime | None:
    found = _first_raw(msg, "Date")
    when = _header_date(found[1]) if found is not None else None
    if when is not None:
        return _utc(when)
    when = _date(_header(msg, "Date"))
    if when is not None:
        return when
    # The newest Received header is the first; its date follows the last ";".
    for received in msg.get_all("Received") or []:
        text = str(received)
        if ";" in text:
            when = _date(text.rsplit(";", 1)[1])
            if when is not None:
                return when
    return envelope_time()


def _header_date(raw: str) -> datetime | None:
    """The `datetime` of the standard Date header object, without building that object."""
    value = _unfolded(raw)
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except ValueError:
        return None


def _date(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            return parse_time(value, field="Date")
        except BadTime:
            return None
    return _utc(when)


def _utc(when: datetime) -> datetime:
    # "-0000" (zone unknown) parses as naive: the moment is UTC all the same.
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def automated_reason(msg: Message, *, subject: str, sender: str) -> str | None:
    """Why a message is an auto-reply, a bounce or bulk mail, or None for a person's message."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if msg.get(name) is not None:
            return f"{name} header"
    for name in ("List-Id", "List-Unsubscribe"):
        if msg.get(name) is not None:
            return f"bulk mail ({name} header)"
    lowered = subject.lower()
    for prefix in _AUTO_SUBJECTS:
        if lowered.startswith(prefix):
            return f"auto-reply subject ({subject[: len(prefix)]!r})"
    report = msg.get_content_type() == "multipart/report" and (
        (msg.get_param("report-type") or "") == "delivery-status"
    )
    has_dsn = report or any(p.get_content_type() == "message/delivery-status" for p in msg.walk())
    null_sender = _header(msg, "Return-Path").replace(" ", "") == "<>"
    if has_dsn and (null_sender or sender.lower().startswith(_BOUNCE_SENDERS) or report):
        return "delivery status report (bounce)"
    return None


# ---- the body -------------------------------------------------------------------------------


def _body(msg: EmailMessage) -> tuple[str, list[str], bool]:
    """(text, attachment names, whether the text came from HTML)."""
    plain: list[Message] = []
    html: list[Message] = []
    attachments: list[str] = []
    _collect(msg, plain, html, attachments)
    for part in plain:
        text = _part_text(part)
        if text.strip():
            return text, attachments, False
    for part in html:
        text = html_to_text(_part_text(part))
        if text.strip():
            return text, attachments, True
    return "", attachments, False


def _collect(
    part: Message, plain: list[Message], html: list[Message], attachments: list[str]
) -> None:
    if part.is_multipart():
        for sub in part.get_payload():
            if not isinstance(sub, Message):
                continue
            ctype = sub.get_content_type()
            if ctype in ("message/rfc822", "message/global"):
                # A forwarded or bounced message is context, not the sender's own words.
                attachments.append(_filename(sub) or "forwarded message")
            elif not ctype.startswith("message/"):  # delivery reports: machine fields only
                _collect(sub, plain, html, attachments)
        return
    ctype = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    name = _filename(part)
    if disposition == "attachment" or ctype not in ("text/plain", "text/html"):
        if name or disposition == "attachment":
            attachments.append(name or ctype)
        return
    (plain if ctype == "text/plain" else html).append(part)


def _filename(part: Message) -> str:
    try:
        return str(part.get_filename() or "")
    except (ValueError, LookupError, TypeError):
        return ""


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "").strip().lower() or None
    if charset is not None:
        charset = _SUPERSETS.get(charset, charset)
    try:
        return decode(payload, charset)
    except UndecodableText as exc:
        raise _Unreadable(f"the {part.get_content_type()} part is {exc}") from exc


def html_to_text(html: str) -> str:
    """Plain text of an HTML body: no scripts, styles or markup; blocks and <br> keep breaks."""
    with warnings.catch_warnings():
        # A short body can look like a URL or like XML to bs4; it is HTML all the same.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(list(_DROPPED_TAGS)):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    _drop_quoted_html(soup)
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(sorted(_BLOCK_TAGS)):
        if not isinstance(tag, Tag):
            continue
        if tag.name == "li":
            tag.insert(0, "- ")
        if tag.name not in _LINE_TAGS:
            tag.insert_before("\n")  # paragraphs and such stand apart; rows and items do not
        tag.insert_after("\n")
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after("\t")
    text = soup.get_text()
    lines = (" ".join(line.replace("\xa0", " ").split()) for line in text.split("\n"))
    return clean("\n".join(lines))


def _drop_quoted_html(soup: BeautifulSoup) -> None:
    """Remove the quoted history that Gmail, Apple Mail and Thunderbird mark in HTML."""
    quoted = [
        *soup.find_all(class_="gmail_quote"),
        *soup.find_all("blockquote", attrs={"type": "cite"}),
        *soup.find_all(id="divRplyFwdMsg"),
    ]
    if not quoted:
        return
    rest = [q.extract() for q in quoted if isinstance(q, Tag)]
    if not soup.get_text().strip():
        # Nothing but the quote: keep it rather than nothing.
        for q in rest:
            soup.append(q)


def _strip_history(text: str) -> str:
    """Cut quoted replies ("On ... wrote:" and "> " lines), forwarded originals, signatures.

    Only markers that mail clients write reliably are used; if cutting would leave nothing,
    the text is kept whole.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _HISTORY_HINT.search(text):
        return clean(text)
    lines = text.split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line == "-- " or (line.rstrip() == "--" and _looks_like_signature(lines[index + 1 :])):
            break
        if any(sep.match(line) for sep in _OUTLOOK_SEPARATORS):
            break
        quote = _quote_after_attribution(lines, index)
        if quote is not None:
            index = quote
            while index < len(lines) and (lines[index].startswith(">") or not lines[index].strip()):
                index += 1
            continue
        kept.append(line)
        index += 1
    return clean("\n".join(kept)) or clean(text)


def _quote_after_attribution(lines: list[str], index: int) -> int | None:
    """Where the "> " block starts if `index` is an attribution ("On <date>, X wrote:")."""
    line = lines[index].strip()
    if line.lower().startswith("on "):
        # Clients wrap a long "On <date>, <name> <address> wrote:" over two or three lines.
        window = range(index, min(index + 3, len(lines)))
        end = next((i for i in window if lines[i].rstrip().endswith("wrote:")), None)
    elif line.endswith("wrote:"):
        end = index
    else:
        return None
    if end is None:
        return None
    after = end + 1
    while after < len(lines) and not lines[after].strip():
        after += 1
    if after < len(lines) and lines[after].startswith(">"):
        return after
    return None


def _looks_like_signature(rest: list[str]) -> bool:
    # A bare "--" is a signature marker only when a few short lines follow it.
    tail = [ln for ln in rest if ln.strip()]
    return 0 < len(tail) <= 6 and all(len(ln) < 80 for ln in tail)


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


# ---- formats --------------------------------------------------------------------------------


def parse_eml(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    """One message per file (or per uploaded payload)."""
    raw = _read_limited(source)
    if raw is None:
        yield Rejected("message", "message is over the size limit", source.head(KEEP_BYTES))
        return
    yield message_to_item(raw, location="message", options=options)


def _read_limited(source: Source) -> bytes | None:
    with source.open() as handle:
        raw = handle.read(MAX_MESSAGE_BYTES + 1)
    return None if len(raw) > MAX_MESSAGE_BYTES else raw


def parse_maildir(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    """Each file of cur/ and new/, in name order; a single file is read as one message."""
    path = source.path
    if path is None or not path.is_dir():
        yield from parse_eml(source, options)
        return
    for sub in ("cur", "new"):
        folder = path / sub
        if not folder.is_dir():
            continue
        for file in sorted(f for f in folder.iterdir() if f.is_file() and f.name[:1] != "."):
            where = f"{sub}/{file.name}"
            raw = _read_limited(Source(name=where, path=file))
            if raw is None:
                yield Rejected(where, "message is over the size limit", file.read_bytes()[:1000])
                continue
            yield message_to_item(raw, location=where, options=options)


def parse_mbox(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    """Every message of an mbox, streamed: memory does not grow with the file."""
    head = source.head(8192)
    if not head.strip():
        yield Rejected("file", "empty file, not an mbox", b"")
        return
    if looks_binary(head):
        yield Rejected("file", "binary data, not an mbox", source.head(KEEP_BYTES))
        return
    if not head.lstrip(b"\r\n").startswith(b"From "):
        yield Rejected(
            "file",
            'not an mbox: it does not start with a "From " line (for a single message use '
            "--format eml)",
            source.head(KEEP_BYTES),
        )
        return
    with source.open() as handle:
        for number, offset, envelope, body, too_big in _split_mbox(handle):
            where = f"message {number} (byte {offset})"
            if too_big:
                yield Rejected(where, "message is over the size limit", envelope + body)
                continue
            item = _message_to_item(
                _unescape(body),
                location=where,
                options=options,
                # Read only when the message has no usable date of its own.
                envelope_time=partial(_envelope_time, envelope),
            )
            if isinstance(item, Rejected):
                # Kept with its "From " line, so that the quarantined piece is an mbox again.
                item = Rejected(item.location, item.reason, envelope + body, item.options)
            yield item


def _split_mbox(handle: IO[bytes]) -> Iterator[tuple[int, int, bytes, bytes, bool]]:
    """(number, byte offset, "From " line, raw message, too big) for each message."""
    number = 0
    offset = 0
    position = 0
    envelope = b""
    parts: list[bytes] = []
    size = 0
    too_big = False
    previous_blank = True
    line_start = True
    while True:
        line = handle.readline(_LINE_LIMIT)
        if not line:
            break
        at = position
        position += len(line)
        is_separator = (
            line_start
            and line.startswith(b"From ")
            and (number == 0 or (previous_blank and _FROM_LINE.match(line) is not None))
        )
        line_start = line.endswith(b"\n")
        if is_separator:
            if number:
                yield number, offset, envelope, _drop_separator_blank(parts), too_big
            number += 1
            offset, envelope, parts, size, too_big = at, line, [], 0, False
            previous_blank = False
            continue
        previous_blank = line in (b"\n", b"\r\n")
        size += len(line)
        if size > MAX_MESSAGE_BYTES:
            if not too_big:
                too_big = True
                parts = [b"".join(parts)[:KEEP_BYTES]]
            continue
        parts.append(line)
    if number:
        yield number, offset, envelope, b"".join(parts), too_big


def _drop_separator_blank(parts: list[bytes]) -> bytes:
    # The blank line before the next "From " line belongs to the separator, not the message.
    if parts and parts[-1] in (b"\n", b"\r\n"):
        parts = parts[:-1]
    return b"".join(parts)


def _unescape(body: bytes) -> bytes:
    if b">From " not in body:
        return body
    lines = body.split(b"\n")
    return b"\n".join(ln[1:] if _ESCAPED_FROM.match(ln) else ln for ln in lines)


def _envelope_time(envelope: bytes) -> datetime | None:
    """The date of a "From sender date" line, if it has one."""
    parts = envelope.decode("latin-1").split(None, 2)
    if len(parts) < 3:
        return None
    try:
        return parse_time(parts[2].strip(), field="From line")
    except BadTime:
        return None
