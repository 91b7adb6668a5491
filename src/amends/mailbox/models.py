"""IMAP mailboxes the desk polls, and which messages of each it has already fetched."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amends.db import Base


class Mailbox(Base):
    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int]
    username: Mapped[str] = mapped_column(String(255))
    # The password is read from this environment variable at poll time, never stored.
    password_env: Mapped[str] = mapped_column(String(100))
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    use_ssl: Mapped[bool] = mapped_column(default=True)
    starttls: Mapped[bool] = mapped_column(default=False)
    # IMAP UIDVALIDITY of the folder when last polled: if it changes, UIDs start over.
    uid_validity: Mapped[int | None]
    last_uid: Mapped[int] = mapped_column(default=0)
    last_polled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class MailboxMessage(Base):
    __tablename__ = "mailbox_messages"
    __table_args__ = (UniqueConstraint("mailbox_id", "uid_validity", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    uid_validity: Mapped[int]
    uid: Mapped[int]
    fetched_at: Mapped[datetime]
