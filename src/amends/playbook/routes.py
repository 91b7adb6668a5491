"""/api/v1/playbook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from amends.api.body import read_limited
from amends.api.deps import ClockDep, IdPath, SessionDep
from amends.errors import InvalidInput, UnsupportedMediaType
from amends.playbook import service

router = APIRouter(tags=["playbook"])

_TEXT_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}


class PlaybookVersion(BaseModel):
    version: int
    name: str
    imported_by: str | None
    imported_at: datetime


class PlaybookRead(BaseModel):
    version: int | None  # None: the built-in default
    document: dict[str, Any]


@router.get("/playbook", summary="The playbook in force, as JSON")
def get_playbook(session: SessionDep) -> PlaybookRead:
    row = service.active_playbook(session)
    return PlaybookRead(
        version=row.version if row else None, document=service.document_json(session)
    )


@router.get(
    "/playbook/export",
    response_class=PlainTextResponse,
    summary="The playbook in force (or a version) as it was written, in YAML",
)
def export_playbook(
    session: SessionDep, version: Annotated[int | None, Query(ge=1, le=2**31)] = None
) -> PlainTextResponse:
    return PlainTextResponse(service.export_source(session, version), media_type="application/yaml")


@router.get("/playbook/versions", summary="Every imported version, newest first")
def versions(session: SessionDep) -> list[PlaybookVersion]:
    return [
        PlaybookVersion(
            version=r.version, name=r.name, imported_by=r.imported_by, imported_at=r.imported_at
        )
        for r in service.list_versions(session)
    ]


@router.put(
    "/playbook",
    summary="Import a playbook (YAML or JSON body); it is stored as a new version",
    responses={
        413: {"description": "Larger than 1 MB"},
        415: {"description": "Not YAML or JSON"},
        422: {"description": "Not a valid playbook: every problem with its place"},
    },
)
async def put_playbook(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    x_amends_agent: Annotated[str | None, Header(max_length=254)] = None,
) -> PlaybookVersion:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and media not in _TEXT_TYPES:
        raise UnsupportedMediaType("send the playbook as application/yaml or application/json")
    body = await read_limited(request, service.MAX_PLAYBOOK_BYTES)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the body is not UTF-8 (byte {exc.start})") from None
    row = service.import_playbook(session, text, now=clock(), actor=x_amends_agent)
    return PlaybookVersion(
        version=row.version, name=row.name, imported_by=row.imported_by, imported_at=row.imported_at
    )


@router.post(
    "/playbook/versions/{version}/restore",
    summary="Put an earlier version back in force (imported again as a new version)",
    responses={404: {"description": "No such version"}, 422: {"description": "Not valid today"}},
)
def restore_playbook(
    version: IdPath,
    session: SessionDep,
    clock: ClockDep,
    x_amends_agent: Annotated[str | None, Header(max_length=254)] = None,
) -> PlaybookVersion:
    row = service.restore_version(session, version, now=clock(), actor=x_amends_agent)
    return PlaybookVersion(
        version=row.version, name=row.name, imported_by=row.imported_by, imported_at=row.imported_at
    )
