"""Stored playbook versions: every import is kept; the newest is in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from amends.db import Base


class Playbook(Base):
    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict[str, Any]]  # the validated document, as JSON
    source: Mapped[str] = mapped_column(Text)  # the text as imported, comments and all
    checksum: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str | None] = mapped_column(String(254))
    imported_at: Mapped[datetime]
