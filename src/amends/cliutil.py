"""What every CLI command shares: settings, the engine, the clock, and error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import typer
from sqlalchemy import Engine

from amends.config import Settings, get_settings
from amends.db import make_engine, utcnow
from amends.errors import DomainError
from amends.sources.times import BadTime, parse_time

# Exit codes, documented in README: 0 done, 1 error, 2 usage error, 3 done but some input
# was quarantined.
EXIT_ERROR = 1
EXIT_QUARANTINED = 3


def settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        typer.echo(f"Error: invalid settings: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc


def engine() -> Engine:
    return make_engine(settings().database_url)


def now_option(value: str | None) -> datetime:
    """`--now T` replays a moment; without it, the real clock."""
    if value is None:
        return utcnow()
    try:
        return parse_time(value, field="--now")
    except BadTime as exc:
        raise typer.BadParameter(str(exc)) from exc


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a DomainError as one line and exit 1, as click does; no traceback."""
    try:
        yield
    except DomainError as exc:
        typer.echo(f"Error: {exc.detail}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
