"""Pydantic shapes of the outbox at the edges. A webhook's secret leaves only in WebhookCreated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from amends.outbound.rules import OutboxStatus


class WebhookCreate(BaseModel):
    url: str = Field(max_length=2000, examples=["https://example.com/hooks/amends"])
    events: list[str] = Field(min_length=1, max_length=50, examples=[["case.*"]])
    secret: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=500)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    active: bool
    description: str | None
    created_at: datetime
    disabled_reason: str | None


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret; shown only in this response.")


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    webhook_id: int
    event: str
    event_id: str
    delivery_id: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    response_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class MailRead(BaseModel):
    """A queued or sent mail, without its body."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    case_id: int | None
    to_addr: str
    subject: str
    message_id: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
