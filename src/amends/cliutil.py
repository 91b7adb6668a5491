"""What every CLI command shares: settings, the engine, the clock, and error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from amends.config import Settings, get_settings
from amends.db import make_engine, session_scope, utcnow
from amends.errors import DomainError, UsageError
from amends.feedback.service import IngestLimits

# Exit codes, documented in README: 0 done, 1 error, 2 usage error, 3 done but some input
# was quarantined.
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_QUARANTINED = 3


def settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        typer.echo(f"Error: invalid settings: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc


@contextmanager
def database() -> Iterator[Engine]:
    """The configured database, its schema brought up to date on first use; closed after."""
    from amends.migrate import ensure_current

    eng = make_engine(settings().database_url)
    try:
        try:
            ensure_current(eng)
        except SQLAlchemyError as exc:
            typer.echo(f"Error: cannot open the database: {_one_line(exc)}", err=True)
            raise typer.Exit(EXIT_ERROR) from exc
        yield eng
    finally:
        eng.dispose()


@contextmanager
def session(*, write: bool) -> Iterator[Session]:
    """One unit of work on the configured database. Readers (`write=False`) never wait for a
    long import to finish; writers take the write lock up front."""
    with database() as eng, session_scope(eng, write=write) as s:
        yield s


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__


def now(value: str | None = None) -> datetime:
    """The moment a command acts: `--now` when given, else the real clock."""
    return parse_now(value)


def parse_now(value: str | None) -> datetime:
    """The moment a command acts: the real clock when `value` is None, else `value` read as
    ISO-8601 (a naive time means UTC). Raises UsageError (exit 2 under user_errors)."""
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise UsageError(f"--now: not an ISO-8601 date and time: {value!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# Every command that depends on the time takes --now, so that a day can be replayed.
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        metavar="TIME",
        help="Act as of this moment (ISO 8601; no zone means UTC) instead of the clock.",
    ),
]


def limits() -> IngestLimits:
    """The configured limits on what one ingested item may be."""
    config = settings()
    return IngestLimits(config.max_text_chars, config.default_region)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a DomainError as one line and exit 1, as click does; no traceback."""
    try:
        yield
    except DomainError as exc:
        typer.echo(f"Error: {exc.detail}", err=True)
        raise typer.Exit(EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR) from exc
    except OperationalError as exc:
        typer.echo(f"Error: database error: {_one_line(exc)}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def actor(email: str | None) -> str:
    """The `--as` agent of a command, or "cli"."""
    from amends.cases.rules import agent_actor

    return agent_actor(email, otherwise="cli")
