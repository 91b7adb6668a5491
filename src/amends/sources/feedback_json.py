"""The API's own feedback objects, as a JSON array, a JSON object with "items", or JSONL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from amends.customers.rules import IdentityKind, IdentityRef
from amends.feedback.rules import PUBLIC_BY_DEFAULT, Channel
from amends.feedback.schemas import FeedbackIn
from amends.sources.base import Item, ParseOptions, Rejected, Source
from amends.sources.jsonio import iter_json_records


def to_item(data: FeedbackIn, *, now: datetime) -> Item:
    """Turn a validated API object into an item; a missing time means "received now"."""
    refs: list[IdentityRef] = []
    if data.email:
        refs.append(IdentityRef(IdentityKind.EMAIL, data.email))
    if data.handle:
        refs.append(IdentityRef(IdentityKind.HANDLE, data.handle, data.platform or _platform(data)))
    if data.phone:
        refs.append(IdentityRef(IdentityKind.PHONE, data.phone))
    if data.customer_ref:
        refs.append(IdentityRef(IdentityKind.CUSTOMER_REF, data.customer_ref))
    if data.order_ref:
        refs.append(IdentityRef(IdentityKind.ORDER_REF, data.order_ref))
    public = data.public if data.public is not None else data.channel in PUBLIC_BY_DEFAULT
    return Item(
        channel=data.channel,
        text=data.text,
        received_at=(data.received_at or now).astimezone(UTC),
        direction=data.direction,
        source_id=data.source_id,
        author_name=data.author_name,
        author_handle=data.handle,
        identities=tuple(refs),
        public=public,
        reach=data.reach,
        subject=data.subject,
        thread_id=data.thread_id,
        in_reply_to=data.in_reply_to,
        score=data.score,
        score_scale=data.score_scale,
        automated=data.automated,
        meta=data.meta,
    )


def _platform(data: FeedbackIn) -> str:
    return "x" if data.channel is Channel.X else data.channel.value


def describe(error: ValidationError) -> str:
    """A validation error in one line: "field: problem; field: problem"."""
    parts = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"]) or "object"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def sniff(head: bytes, name: str) -> dict[str, int]:
    text = head.lstrip()[:4000]
    if text[:1] in (b"{", b"[") and b'"text"' in text and b"dialogContent" not in text:
        return {"feedback": 30}
    return {}


def parse_feedback(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    now = options.reading_time()
    for record in iter_json_records(source, list_keys=("items", "feedback")):
        if isinstance(record, Rejected):
            yield record
            continue
        location, obj, raw = record
        # A file read twice must give the same item: the reading time is not its time.
        yield read_object(
            _apply_defaults(obj, options), where=location, raw=raw, now=now, mark_assumed=True
        )


def read_object(
    obj: Any, *, where: str, raw: bytes, now: datetime, mark_assumed: bool
) -> Item | Rejected:
    """One feedback object (API body or file record) as an item, or a reject saying why.

    With `mark_assumed`, an item without `received_at` is flagged `time_assumed`, so that its
    content id leaves the reading time out.
    """
    try:
        data = FeedbackIn.model_validate(obj)
    except ValidationError as exc:
        return Rejected(where, describe(exc), raw)
    item = to_item(data, now=now)
    if mark_assumed and data.received_at is None:
        item = replace(item, meta={**item.meta, "time_assumed": True})
    return item


def _apply_defaults(obj: Any, options: ParseOptions) -> Any:
    if isinstance(obj, dict) and options.channel is not None and "channel" not in obj:
        return {**obj, "channel": options.channel.value}
    return obj
