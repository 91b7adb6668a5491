"""Signing keys the desk makes for itself, kept in the database so links outlive restarts.
`AMENDS_SECRET_KEY`, when set, is used instead."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from amends.db import Base


class DeskSecret(Base):
    __tablename__ = "desk_secrets"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


def signing_key(
    session: Session, name: str, *, now: datetime, override: str | None, create: bool = True
) -> str | None:
    """The key called `name`, made on first use when `create` (the caller commits); None when
    it does not exist and may not be made (nothing was ever signed with it)."""
    if override:
        return f"{override}:{name}"
    value = session.scalar(select(DeskSecret.value).where(DeskSecret.name == name))
    if value is None and not create:
        return None
    if value is None:
        value = secrets.token_urlsafe(48)
        session.add(DeskSecret(name=name, value=value, created_at=now))
        session.flush()
    return value
