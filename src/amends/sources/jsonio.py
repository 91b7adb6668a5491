"""Reading JSON inputs of any size: a document, an array of records, or JSON Lines.

Arrays are streamed with ijson so a large export is never read whole into memory. A truncated or
malformed document quarantines what could not be read and keeps every record read before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

import ijson

from amends.sources.base import KEEP_BYTES, Rejected, Source
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
        except (ValueError, RecursionError):
            return False
        return any(rest.strip() for rest in iter(lambda: handle.readline(65536), b""))


# Real records nest a few levels; a document nested deeper is hostile or broken.
MAX_DEPTH = 64


class _TooDeep(ValueError):
    pass


def _stream_array(handle: IO[bytes], prefix: str, source: Source) -> Iterator[Record | Rejected]:
    """Stream the items of the array at `prefix` ("item", or "key.item" under a top-level key).

    Built on ijson's event parser with a depth limit: ijson's own item builder keeps a path
    string per level, so a hostile "[[[[..." of 100 KB would need gigabytes.
    """
    index = 0
    try:
        for obj in _items(ijson.basic_parse(handle, use_float=True), prefix.split(".")[:-1]):
            index += 1
            raw = json.dumps(obj, ensure_ascii=False, default=str).encode()
            yield (f"item {index}", obj, raw)
    except _TooDeep:
        yield Rejected(
            f"item {index + 1}",
            f"JSON nested deeper than {MAX_DEPTH} levels; the items before it were read",
            _tail(source, handle),
        )
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
        yield Rejected(
            f"after item {index}",
            f"malformed JSON after item {index}: {_short(exc)}; the items before it were read",
            _tail(source, handle),
        )


def _items(events: Iterator[tuple[str, Any]], keys: list[str]) -> Iterator[Any]:
    """Values of the target array, from (event, value) pairs."""
    depth = 0
    key_at_top: str | None = None
    array_depth: int | None = None
    builder: Any = None
    for event, value in events:
        opens = event in ("start_map", "start_array")
        closes = event in ("end_map", "end_array")
        if opens:
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooDeep
        if builder is not None:
            builder.event(event, value)
            if closes:
                depth -= 1
                if depth == array_depth:
                    yield builder.value
                    builder = None
            continue
        if array_depth is None:
            wanted = depth == 1 if not keys else depth == 2 and key_at_top == keys[0]
            if event == "start_array" and wanted:
                array_depth = depth
            elif event == "map_key" and depth == 1:
                key_at_top = value
            elif closes:
                depth -= 1
            continue
        if closes:  # the target array itself ends
            depth -= 1
            array_depth = None
            continue
        builder = ijson.ObjectBuilder()
        builder.event(event, value)
        if not opens:  # a scalar item
            yield builder.value
            builder = None


def _tail(source: Source, handle: IO[bytes]) -> bytes:
    """The unread remainder of a broken document, kept for the quarantine."""
    try:
        position = handle.tell()
    except (OSError, ValueError):
        position = 0
    with source.open() as again:
        again.seek(max(0, position - 65536))
        return again.read(KEEP_BYTES)


def _object(source: Source, list_keys: tuple[str, ...]) -> Iterator[Record | Rejected]:
    with source.open() as handle:
        raw = handle.read()
    try:
        doc = json.loads(decode(raw))
    except RecursionError:
        yield Rejected("file", "JSON nested too deeply", raw[:KEEP_BYTES])
        return
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
            except RecursionError:
                yield Rejected(f"line {number}", "JSON nested too deeply", line[:KEEP_BYTES])
                continue
            except (ValueError, UndecodableText) as exc:
                yield Rejected(f"line {number}", f"malformed JSON: {_short(exc)}", line)
                continue
            yield (f"line {number}", obj, line)


def _short(exc: BaseException) -> str:
    """A parser's message on one line, its padding and pointer art squeezed out."""
    return " ".join(str(exc).split())[:200]
