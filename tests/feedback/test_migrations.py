"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from amends.db import make_engine
from amends.migrate import upgrade
from amends.models import Base


def test_migrations_match_the_models(database_url: str, pg_schema: str | None) -> None:
    if pg_schema is None:
        engine: Engine = make_engine(database_url)
    else:
        engine = make_engine(
            database_url, connect_args={"options": f"-csearch_path={pg_schema}_mig"}
        )
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{pg_schema}_mig" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{pg_schema}_mig"'))
    try:
        upgrade(engine)
        upgrade(engine)  # running it again is harmless
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        if pg_schema is not None:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{pg_schema}_mig" CASCADE'))
        engine.dispose()
