"""Reading JSON inputs of any size: a document, an array of records, or JSON Lines.

Arrays are streamed with ijson so a large export is never read whole into memory. A truncated or
malformed document quarantines what could not be read and keeps every record read before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

import ijson

from amends.sources.base import Rejected, Source
from amends.sources.text import UndecodableText, decode, looks_binary

Record = tuple[str, Any, bytes]  # (location, parsed object, raw bytes)


def iter_json_records(
    source: Source, *, list_keys: tuple[str, ...] = ()
) -> Iterator[Record | Rejected]:
    """Yield each record: lines of JSONL, items of a top-level array, or of `obj[list_key]`."""
    head = source.head(4096)
    if looks_binary(head):
        yield Rejected("file", "binary data, not JSON", source.head())
        return
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first == b"[":
        with source.open() as handle:
            yield from _stream_array(handle, "item", source)
        return
    if first == b"{" and not _looks_like_jsonl(source):
        yield from _object(source, list_keys)
        return
    yield from _lines(source)


def _looks_like_jsonl(source: Source) -> bool:
    """True when the first line is a whole JSON value and more lines follow it."""
    with source.open() as handle:
        line = handle.readline(64 * 1024 * 1024)
        try:
            json.loads(line)
        except ValueError:
            return False
        return any(rest.strip() for rest in iter(lambda: handle.readline(65536), b""))


def _stream_array(handle: IO[bytes], prefix: str, source: Source) -> Iterator[Record | Rejected]:
    index = 0
    try:
        for obj in ijson.items(handle, prefix, use_float=True):
            index += 1
            raw = json.dumps(obj, ensure_ascii=False, default=str).encode()
            yield (f"item {index}", obj, raw)
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
        yield Rejected(
            f"after item {index}",
            f"malformed JSON after item {index}: {_short(exc)}; the items before it were read",
            _tail(source, handle),
        )


def _tail(source: Source, handle: IO[bytes]) -> bytes:
    """The unread remainder of a broken document, kept for the quarantine."""
    try:
        position = handle.tell()
    except (OSError, ValueError):
        position = 0
    with source.open() as again:
        again.seek(max(0, position - 65536))
        return again.read(1_000_000)


def _object(source: Source, list_keys: tuple[str, ...]) -> Iterator[Record | Rejected]:
    with source.open() as handle:
        raw = handle.read()
    try:
        doc = json.loads(decode(raw))
    except (ValueError, UndecodableText) as exc:
        # Perhaps a large object with a list inside: stream what can be read of it.
        for key in list_keys:
            if f'"{key}"'.encode() in raw[:65536]:
                with source.open() as handle:
                    yield from _stream_array(handle, f"{key}.item", source)
                return
        yield Rejected("file", f"malformed JSON: {_short(exc)}", raw)
        return
    for key in list_keys:
        if isinstance(doc, dict) and isinstance(doc.get(key), list):
            for index, obj in enumerate(doc[key], start=1):
                yield (f"{key}[{index}]", obj, json.dumps(obj, ensure_ascii=False).encode())
            return
    yield ("object", doc, raw)


def _lines(source: Source) -> Iterator[Record | Rejected]:
    with source.open() as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(decode(line))
            except (ValueError, UndecodableText) as exc:
                yield Rejected(f"line {number}", f"malformed JSON: {_short(exc)}", line)
                continue
            yield (f"line {number}", obj, line)


def _short(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return text[:200]
