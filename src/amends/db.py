"""Database plumbing: the declarative base, portable column types, engines and units of work."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    Enum,
    MetaData,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is timezone-aware in Python and stored as UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; amends stores aware datetimes only")
        value = value.astimezone(UTC)
        # SQLite keeps no zone: store naive UTC there and restore the zone on the way out.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        enum.Enum: Enum(
            enum.Enum,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
        ),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


# Execution option that marks a unit of work as one that writes.
WRITE = "amends_write"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite, enforce foreign keys, use WAL, and take the write lock up
    front in writing transactions, so that concurrent writers wait instead of failing."""
    # Bound values stay out of error messages and logs: they hold complaint text.
    engine = create_engine(url, hide_parameters=True, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, emit BEGIN (see _sqlite_begin) and SAVEPOINTs.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            # A deferred transaction that later writes cannot wait for the lock: SQLite
            # answers "database is locked" at once. Writers therefore begin IMMEDIATE.
            write = connection.get_execution_options().get(WRITE, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        session.connection(execution_options={WRITE: write})
        yield session


def utcnow() -> datetime:
    """The current time, aware, in UTC. Edges call this; domain code receives `now`."""
    return datetime.now(UTC)


# Ids are INTEGER columns on both backends: PostgreSQL refuses to even compare a larger number
# ("integer out of range"), so an id past this is no id at all, wherever it comes from.
MAX_ID = 2**31 - 1


def as_id(text: str) -> int | None:
    """The id `text` spells (ASCII digits only: str.isdigit() also passes "²"), or None."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


# Bound on the number of parameters in one IN (...) list, well under every backend's limit.
IN_CHUNK = 900
T = TypeVar("T")


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterable[Sequence[T]]:
    """Slices of `values` small enough for one IN (...) list."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


V = TypeVar("V")


def lookup(
    session: Session,
    key: InstrumentedAttribute[str],
    value: InstrumentedAttribute[V],
    keys: Iterable[str],
) -> dict[str, V]:
    """`value` for each of `keys` found in `key`'s column, a chunk of keys per query."""
    found: dict[str, V] = {}
    for part in chunked(sorted(set(keys))):
        rows = session.execute(select(key, value).where(key.in_(part))).all()
        found.update(dict(rows))
    return found


_BUCKETS = {"hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d"}


def utc_truncated(session: Session, column: Any, unit: str) -> Any:
    """`column` (a UTCDateTime) cut to the start of its UTC hour or day, as the backend can
    group by it; read the values back with `as_utc`."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(unit, func.timezone("UTC", column))
    return func.strftime(_BUCKETS[unit], column)


def as_utc(value: str | datetime) -> datetime:
    """A value of `utc_truncated` (SQLite gives text, PostgreSQL a naive timestamp) as aware UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
