"""Fixtures: a fresh database per test (SQLite in memory, or PostgreSQL when
AMENDS_TEST_DATABASE_URL names one), a session, an API client and a CLI runner.

The suite runs the default install's analysis even where the optional encoder is installed
(AMENDS_ENCODER=off, unless set otherwise); the encoder's own tests switch it on."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from amends.api.app import create_app
from amends.config import Settings
from amends.db import make_engine
from amends.migrate import upgrade
from amends.models import Base

os.environ.setdefault("AMENDS_ENCODER", "off")
PG_URL = os.environ.get("AMENDS_TEST_DATABASE_URL", "")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"
FIXED_NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def backend() -> str:
    return "postgresql" if PG_URL else "sqlite"


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str | None]:
    """One schema per test run, so that runs sharing the server never meet."""
    if not PG_URL:
        yield None
        return
    name = f"amends_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    migrated = make_engine(PG_URL, connect_args={"options": f"-csearch_path={name}"})
    upgrade(migrated)
    migrated.dispose()
    try:
        yield name
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database_url(pg_schema: str | None, tmp_path: Path) -> str:
    """A URL for tests that need a real file or server (CLI runs in another engine)."""
    if pg_schema is None:
        return f"sqlite:///{tmp_path / 'amends.db'}"
    return PG_URL


@pytest.fixture
def engine(pg_schema: str | None, database_url: str) -> Iterator[Engine]:
    if pg_schema is None:
        eng = make_engine(
            "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
        Base.metadata.create_all(eng)
        yield eng
        eng.dispose()
        return
    # The schema was built once by the migrations (pg_schema); tests share it, emptied between.
    eng = make_engine(PG_URL, connect_args={"options": f"-csearch_path={pg_schema}"})
    yield eng
    # A fresh database for the next test: every row deleted and every id counter back at 1.
    # DELETE with foreign-key triggers off (replica role) takes ~4 ms here; TRUNCATE of the
    # same tables ~250 ms, which over the suite was most of the PostgreSQL run.
    with eng.begin() as conn:
        conn.exec_driver_sql(_emptying(conn, pg_schema))
    eng.dispose()


_EMPTYING: dict[str, str] = {}


def _emptying(conn: Connection, schema: str) -> str:
    if schema not in _EMPTYING:
        sequences = conn.execute(
            text(
                "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = :s"
            ),
            {"s": schema},
        ).scalars()
        deletes = " ".join(f'DELETE FROM "{t.name}";' for t in Base.metadata.sorted_tables)
        resets = ", ".join(f"setval('\"{name}\"', 1, false)" for name in sequences)
        _EMPTYING[schema] = (
            "SET LOCAL session_replication_role = replica; "
            + deletes
            + (f" SELECT {resets};" if resets else "")
        )
    return _EMPTYING[schema]


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://")


def admin_token(engine: Engine) -> str:
    """An API token with every scope, for an admin who cannot sign in with a password."""
    from amends.db import session_scope
    from amends.users import service as users
    from amends.users.rules import Role, Scope

    with session_scope(engine) as s:
        users.add_user(
            s,
            email="admin@tests.invalid",
            name="Test Admin",
            role=Role.ADMIN,
            password=None,
            now=FIXED_NOW,
        )
        _, secret = users.issue_token(
            s, "admin@tests.invalid", name="tests", scopes=frozenset(Scope), now=FIXED_NOW
        )
    return secret


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """The API as an integration with an admin's token sees it."""
    app = create_app(settings, engine=engine, clock=lambda: FIXED_NOW)
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {admin_token(engine)}"
        yield c


@pytest.fixture
def anonymous(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """The app as someone with no credentials sees it."""
    app = create_app(settings, engine=engine, clock=lambda: FIXED_NOW)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, pg_schema: str | None
) -> Callable[[], Engine]:
    """Point the CLI at a database of its own; return a factory for an engine on it."""
    from amends.config import get_settings

    url = database_url
    if pg_schema is not None:
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{pg_schema}"
    monkeypatch.setenv("AMENDS_DATABASE_URL", url)
    get_settings.cache_clear()
    eng = make_engine(url)
    if pg_schema is None:
        upgrade(eng)

    def factory() -> Engine:
        return eng

    yield factory  # type: ignore[misc]
    if pg_schema is not None:
        with eng.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    eng.dispose()
    get_settings.cache_clear()


def needs_data(*parts: str) -> Path:
    """The path of a shared data file, or skip the test with the reason."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared data sets are not beside this checkout")
    return path
