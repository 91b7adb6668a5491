"""/api/v1/feedback and /api/v1/quarantine."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from amends.api.body import read_limited
from amends.api.deps import ClockDep, IdPath, IdQuery, PageDep, SessionDep, SettingsDep
from amends.api.paging import PageOf
from amends.errors import (
    Conflict,
    InvalidInput,
    MalformedRequest,
    UnsupportedMediaType,
)
from amends.feedback import service
from amends.feedback.models import IdempotentRequest
from amends.feedback.rules import Channel, Direction
from amends.feedback.schemas import FeedbackRead, IngestResult, QuarantineRead
from amends.feedback.service import IngestLimits
from amends.sources.base import Item, Rejected
from amends.sources.feedback_json import read_object

router = APIRouter(tags=["feedback"])

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": 'One feedback object, a JSON array of them, or {"items": [...]}.',
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/FeedbackIn"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/FeedbackIn"}},
                        {
                            "type": "object",
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/FeedbackIn"},
                                }
                            },
                        },
                    ]
                }
            }
        },
    }
}


@router.post(
    "/feedback",
    status_code=201,
    response_model=IngestResult,
    openapi_extra=_BODY_DOC,
    summary="Send feedback: one item or a batch",
    responses={
        200: {"description": "A retry under an Idempotency-Key already answered"},
        400: {"description": "The body is not JSON"},
        409: {"description": "Idempotency-Key reused with a different body"},
        413: {"description": "The body is larger than the configured limit"},
        415: {"description": "The body is not sent as application/json"},
        422: {"description": "A single item that does not validate (it is quarantined)"},
    },
)
async def post_feedback(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Ingest feedback. Items with a `source_id` already on the desk count as duplicates."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        # Also keeps other web pages from posting into the desk with a plain form.
        raise UnsupportedMediaType("send the body as application/json")
    body = await read_limited(request, settings.max_payload_bytes)
    body_hash = hashlib.sha256(body).hexdigest()
    if idempotency_key:
        previous = session.get(IdempotentRequest, idempotency_key)
        if previous is not None:
            if previous.request_hash != body_hash:
                raise Conflict("Idempotency-Key was already used with a different body")
            return JSONResponse(
                previous.response,
                status_code=200,
                headers={"Idempotent-Replayed": "true"},
            )
    now = clock()
    try:
        records, single = _records(body, now=now)
    except MalformedRequest as exc:
        # Nothing is lost: an unreadable body is kept in quarantine before the 400 goes back.
        service.ingest(
            session, [Rejected("body", exc.detail, body)], origin="api", fmt="feedback", now=now
        )
        return JSONResponse({"code": exc.code, "detail": exc.detail}, status_code=400)
    if idempotency_key:
        _claim(session, idempotency_key, body_hash, now=now)
    # Storing and analysing are blocking work: run them off the event loop.
    summary = await run_in_threadpool(
        service.ingest,
        session,
        records,
        origin="api",
        fmt="feedback",
        now=now,
        limits=IngestLimits(settings.max_text_chars, settings.default_region),
        keep_ids=True,
    )
    result = IngestResult(**{**summary.as_dict(), "feedback_ids": summary.feedback_ids})
    payload = result.model_dump(mode="json")
    if single and summary.quarantined:
        reason = summary.notes[0].split(": ", 2)[-1] if summary.notes else "invalid item"
        return JSONResponse(
            {"code": "invalid_input", "detail": reason, "quarantined": 1}, status_code=422
        )
    if idempotency_key:
        _remember(session, idempotency_key, payload)
    return JSONResponse(payload, status_code=201)


def _records(body: bytes, *, now: Any) -> tuple[list[Item | Rejected], bool]:
    if not body.strip():
        raise InvalidInput("empty body: send one feedback object or a list of them")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise MalformedRequest("body is nested too deeply") from exc
    single = isinstance(doc, dict) and "items" not in doc
    if single:
        objects: list[Any] = [doc]
    elif isinstance(doc, list):
        objects = doc
    elif isinstance(doc, dict) and isinstance(doc.get("items"), list):
        objects = doc["items"]
    else:
        raise InvalidInput('expected a feedback object, a list, or {"items": [...]}')
    if not objects:
        raise InvalidInput("empty batch: no items to ingest")
    records = [
        read_object(
            obj,
            where="body" if single else f"items[{index}]",
            raw=json.dumps(obj, ensure_ascii=False, default=str).encode(),
            now=now,
            mark_assumed=False,  # over the API, the time of receipt is the real time
        )
        for index, obj in enumerate(objects)
    ]
    return records, single


def _claim(session: Session, key: str, body_hash: str, *, now: Any) -> None:
    """Take the key before doing the work, so that two concurrent retries cannot both ingest."""
    try:
        with session.begin_nested():
            session.add(
                IdempotentRequest(
                    key=key, request_hash=body_hash, response={}, status_code=0, created_at=now
                )
            )
            session.flush()
    except IntegrityError as exc:
        raise Conflict("a request with this Idempotency-Key was just made; retry it") from exc


def _remember(session: Session, key: str, payload: dict[str, Any]) -> None:
    row = session.get(IdempotentRequest, key)
    assert row is not None  # claimed in this unit of work
    row.response = payload
    row.status_code = 201
    session.flush()


@router.get("/feedback", summary="List feedback, newest first")
def list_feedback(
    session: SessionDep,
    page: PageDep,
    customer_id: IdQuery = None,
    case_id: IdQuery = None,
    channel: Channel | None = None,
    direction: Direction | None = None,
) -> PageOf[FeedbackRead]:
    rows, total = service.list_feedback(
        session,
        limit=page.limit,
        offset=page.offset,
        customer_id=customer_id,
        case_id=case_id,
        channel=channel,
        direction=direction,
    )
    return PageOf[FeedbackRead](
        items=[FeedbackRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/feedback/{feedback_id}", summary="One feedback item")
def get_feedback(feedback_id: IdPath, session: SessionDep) -> FeedbackRead:
    return FeedbackRead.model_validate(service.get_feedback(session, feedback_id))


@router.get("/quarantine", summary="Items that could not be read, with their reasons")
def list_quarantine(session: SessionDep, page: PageDep) -> PageOf[QuarantineRead]:
    rows, total = service.list_quarantine(session, limit=page.limit, offset=page.offset)
    return PageOf[QuarantineRead](
        items=[QuarantineRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
