"""Request-scoped dependencies: one session (one unit of work) per request, and the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from amends.config import Settings
from amends.db import MAX_ID, session_scope


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request; only methods that change things take the write lock."""
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    with session_scope(request.app.state.engine, write=write) as session:
        yield session


def get_clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


class Page:
    """Paging parameters shared by every list endpoint."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="items to skip")] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset


PageDep = Annotated[Page, Depends()]


# An id past the id columns is a bad request, not a database error.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="an id")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def actor(agent: str | None) -> str:
    """The agent a request names, or "api"."""
    from amends.cases.rules import agent_actor

    return agent_actor(agent, otherwise="api")
