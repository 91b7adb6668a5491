"""Migration 0004 upgrades a desk that is already in use: customers keep their rows and are not
abusive, and offers and vouchers can be stored at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from amends.db import WRITE, make_engine
from amends.migrate import alembic_config, is_current, upgrade


@pytest.fixture
def blank(database_url: str, pg_schema: str | None) -> Iterator[Engine]:
    if pg_schema is None:
        engine = make_engine(database_url)
        yield engine
        engine.dispose()
        return
    schema = f"{pg_schema}_o4"
    engine = make_engine(database_url, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield engine
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def to_revision(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_an_0003_desk_upgrades_with_its_customers(blank: Engine) -> None:
    to_revision(blank, "0003")
    assert not is_current(blank)
    created = datetime(2026, 1, 5, tzinfo=UTC).replace(tzinfo=None)
    with blank.begin() as conn:
        conn.execute(
            text("INSERT INTO customers (ref, name, created_at) VALUES (:r, :n, :c)"),
            [{"r": "c-1", "n": "Ana", "c": created}, {"r": "c-2", "n": "Bo", "c": created}],
        )
    upgrade(blank)
    assert is_current(blank)
    tables = set(inspect(blank).get_table_names())
    assert {"offers", "vouchers"} <= tables
    with blank.connect() as conn:
        rows = conn.execute(
            text("SELECT name, abusive, abusive_reason FROM customers ORDER BY ref")
        ).all()
    assert [(n, bool(a), r) for n, a, r in rows] == [("Ana", False, None), ("Bo", False, None)]
    upgrade(blank)  # again: nothing to do
