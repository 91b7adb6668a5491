"""The outbox tables: mail to send, webhooks, and one delivery row per webhook per event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from amends.db import Base
from amends.outbound.rules import OutboxStatus


class OutboundMail(Base):
    __tablename__ = "outbound_mail"
    __table_args__ = (Index("ix_outbound_mail_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # reply, followup, sla_warning, ...
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(default=OutboxStatus.PENDING)
    # Claims made so far, the one in flight included; a claim is an attempt even if the
    # worker dies before it can record the outcome.
    attempts: Mapped[int] = mapped_column(default=0)
    # When the row is next due: a retry time, or for a `sending` row the end of its lease.
    next_attempt_at: Mapped[datetime]
    leased_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Kept in clear: signing needs it. Shown once, when the webhook is added.
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]]  # "case.opened", "case.*" or "*"
    active: Mapped[bool] = mapped_column(default=True, index=True)
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    disabled_reason: Mapped[str | None] = mapped_column(String(500))

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="webhook", passive_deletes=True
    )


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(36))  # one uuid per emitted event
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)  # X-Amends-Delivery
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    leased_until: Mapped[datetime | None]
    response_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")
