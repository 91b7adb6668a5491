"""Running the Alembic migrations that ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from amends.db import WRITE

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# Any constant: the PostgreSQL advisory lock that serialises schema upgrades.
_UPGRADE_LOCK = 0x616D656E6473


def upgrade(engine: Engine) -> None:
    """Bring the database up to the newest schema; safe to run again, and concurrently: the
    first command upgrades while the others wait, then find nothing left to do."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest revision (one cheap query)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == heads


def ensure_current(engine: Engine) -> None:
    """Upgrade the schema if it is behind, so that a first command on a new database works."""
    if not is_current(engine):
        upgrade(engine)
