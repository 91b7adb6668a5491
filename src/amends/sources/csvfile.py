"""CSV of any shape: the user names the columns, or common names are recognised.

The file is streamed. Bytes that do not decode are kept as surrogates so that one bad row is
quarantined ("row 7: invalid bytes") while the rows around it still go in.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from collections.abc import Iterator, Sequence
from typing import IO

from amends.customers.rules import IdentityKind, IdentityRef
from amends.errors import UsageError
from amends.feedback.rules import PUBLIC_BY_DEFAULT, Channel, content_source_id
from amends.sources.base import KEEP_BYTES, Item, ParseOptions, Rejected, Source
from amends.sources.text import UndecodableText, guess_encoding, looks_binary, wide_encoding
from amends.sources.times import BadTime, parse_time

# Long narratives (complaints, reviews) exceed the csv module's 128 KiB default field limit.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

TEXT_NAMES = (
    "text",
    "message",
    "comment",
    "body",
    "complaint",
    "narrative",
    "review",
    "content",
    "feedback",
    "consumer complaint narrative",
)
TIME_NAMES = ("received_at", "time", "timestamp", "date", "created_at", "date received", "datetime")
ID_NAMES = ("id", "source_id", "complaint id", "message_id", "review_id")
AUTHOR_NAMES = ("author", "name", "customer", "customer_name", "reviewer", "author_name")
EMAIL_NAMES = ("email", "e-mail", "email_address", "customer_email")


class ColumnError(UsageError):
    """A named column is not in the file's header."""


def csv_header(head: bytes, name: str) -> list[str] | None:
    """The lowercased header of a CSV file's first line, or None for content that is not CSV."""
    if looks_binary(head) or head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return None
    if not name.lower().endswith((".csv", ".tsv", ".txt")) and b"," not in head[:4096]:
        return None
    first = head.decode("utf-8", "replace").lstrip("\ufeff").splitlines()[:1]
    if not first:
        return None
    delimiter = "\t" if "\t" in first[0] and "," not in first[0] else ","
    cells = next(csv.reader(io.StringIO(first[0]), delimiter=delimiter), [])
    header = [c.strip().lower() for c in cells]
    return header if len(header) >= 2 else None


def sniff(head: bytes, name: str) -> dict[str, int]:
    if name.lower().endswith((".csv", ".tsv")) and not looks_binary(head):
        return {"csv": 10}
    return {}


def open_text(source: Source, options: ParseOptions) -> IO[str]:
    """Open `source` as text in its declared, UTF-8 or detected encoding."""
    head = source.head(262_144)
    if looks_binary(head):
        raise UndecodableText("binary data, not CSV text")
    encoding = options.encoding or wide_encoding(head)
    if encoding is None:
        try:
            head.decode("utf-8")
            encoding = "utf-8-sig"
        except UnicodeDecodeError as exc:
            # A cut multi-byte character at the end of the sample is still UTF-8.
            cut_at_end = exc.start >= len(head) - 3
            encoding = "utf-8-sig" if cut_at_end or _has_utf8(head) else _guess(head)
    codecs.lookup(encoding)
    return io.TextIOWrapper(source.open(), encoding=encoding, errors="surrogateescape", newline="")


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _has_utf8(head: bytes) -> bool:
    """True when the bytes hold real UTF-8 characters: then stray bad bytes are damage, and
    the rows holding them are quarantined, rather than a sign of another encoding."""
    return _UTF8_MULTIBYTE.search(head) is not None


def _guess(head: bytes) -> str:
    try:
        return guess_encoding(head)
    except UndecodableText:
        return "cp1252"


def find_column(header: Sequence[str], wanted: str | None, fallbacks: Sequence[str]) -> str | None:
    """The header name matching `wanted` (case and space insensitive), or a known fallback."""
    folded = {h.strip().lower(): h for h in header}
    if wanted is not None:
        if wanted.strip().lower() in folded:
            return folded[wanted.strip().lower()]
        raise ColumnError(f"no column {wanted!r}; the header has: {', '.join(header)}")
    for name in fallbacks:
        if name in folded:
            return folded[name]
    return None


def row_raw(header: Sequence[str], row: Sequence[str]) -> bytes:
    """A rejected row as a tiny CSV (header and row), so that it can be retried on its own."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerow(row)
    return out.getvalue().encode("utf-8", "surrogateescape")


def rows(
    source: Source, options: ParseOptions
) -> Iterator[tuple[int, list[str], dict[str, str]] | Rejected]:
    """Yield (line number, header, row) for each CSV row, or a reject for an unreadable one."""
    try:
        handle = open_text(source, options)
    except (UndecodableText, LookupError) as exc:
        yield Rejected("file", str(exc), source.head(KEEP_BYTES))
        return
    with handle:
        sample = handle.read(65536)
        handle.seek(0)
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel
        if "\t" in sample.split("\n", 1)[0] and "," not in sample.split("\n", 1)[0]:
            dialect = csv.excel_tab
        reader = csv.reader(handle, dialect)
        try:
            header = next(reader)
        except StopIteration:
            yield Rejected("file", "empty file: expected a header row", b"")
            return
        except csv.Error as exc:
            yield Rejected("line 1", f"unreadable header: {exc}", sample[:2000].encode())
            return
        header = unique_names([h.strip() for h in header])
        line = reader.line_num
        while True:
            start = line + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num
                yield Rejected(f"line {start}", f"malformed CSV: {exc}", b"")
                continue
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if _has_bad_bytes(values):
                yield Rejected(
                    f"line {start}",
                    f"bytes that are not valid {getattr(handle, 'encoding', 'text')}",
                    row_raw(header, values),
                    {"encoding": "utf-8"},
                )
                continue
            if len(values) > len(header):
                yield Rejected(
                    f"line {start}",
                    f"{len(values)} fields but the header has {len(header)}",
                    row_raw(header, values),
                )
                continue
            yield start, header, dict(zip(header, values, strict=False))


def unique_names(header: list[str]) -> list[str]:
    """Header names made unique ("text", "text (2)"), so that no column hides another."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        key = name.lower()
        seen[key] = seen.get(key, 0) + 1
        out.append(name if seen[key] == 1 else f"{name} ({seen[key]})")
    return out


def _has_bad_bytes(values: list[str]) -> bool:
    return any("\udc80" <= ch <= "\udcff" for v in values for ch in v if ch >= "\udc80")


def parse_csv(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    channel = options.channel or Channel.OTHER
    columns: dict[str, str | None] | None = None
    now = options.reading_time()
    for record in rows(source, options):
        if isinstance(record, Rejected):
            yield _with_options(record, options)
            continue
        line, header, row = record
        if columns is None:
            columns = {
                "text": find_column(header, options.text_column, TEXT_NAMES),
                "time": find_column(header, options.time_column, TIME_NAMES),
                "id": find_column(header, options.id_column, ID_NAMES),
                "author": find_column(header, options.author_column, AUTHOR_NAMES),
                "email": find_column(header, options.email_column, EMAIL_NAMES),
            }
            if columns["text"] is None:
                raise UsageError(
                    f"{source.name}: "
                    + "no text column; name it with --text-column (header: "
                    + ", ".join(header)
                    + ")"
                )
        raw = row_raw(header, [row.get(h, "") for h in header])
        where = f"line {line}"
        text = (row.get(columns["text"] or "") or "").strip()
        if not text:
            yield Rejected(
                where, f"no text in column {columns['text']!r}", raw, options.to_stored()
            )
            continue
        try:
            when = (
                parse_time(row[columns["time"]], field=columns["time"]) if columns["time"] else now
            )
        except BadTime as exc:
            yield Rejected(where, str(exc), raw, options.to_stored())
            continue
        author = (row.get(columns["author"] or "") or "").strip() or None
        email = (row.get(columns["email"] or "") or "").strip() or None
        source_id = (row.get(columns["id"] or "") or "").strip() or None
        if source_id is None:
            source_id = content_source_id(*(row.get(h, "") for h in header))
        yield Item(
            channel=channel,
            text=text,
            received_at=when,
            source_id=source_id,
            author_name=author,
            identities=(IdentityRef(IdentityKind.EMAIL, email),) if email else (),
            public=channel in PUBLIC_BY_DEFAULT,
            meta={"columns": {k: v for k, v in row.items() if k not in _used(columns) and v}},
        )


def _used(columns: dict[str, str | None]) -> set[str]:
    return {c for c in columns.values() if c}


def _with_options(rej: Rejected, options: ParseOptions) -> Rejected:
    if rej.options:
        return rej
    return Rejected(rej.location, rej.reason, rej.raw, options.to_stored())
