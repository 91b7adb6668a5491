"""/api/v1/webhooks, /api/v1/webhook-deliveries and /api/v1/outbox."""

from __future__ import annotations

from fastapi import APIRouter, Response

from amends.api.deps import ClockDep, IdPath, PageDep, SessionDep
from amends.api.paging import PageOf
from amends.outbound import service
from amends.outbound.rules import OutboxStatus
from amends.outbound.schemas import (
    DeliveryRead,
    MailRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)

router = APIRouter(tags=["outbound"])


@router.get("/webhooks", summary="Webhooks (secrets are never listed)")
def list_webhooks(session: SessionDep) -> list[WebhookRead]:
    return [WebhookRead.model_validate(w) for w in service.list_webhooks(session)]


@router.post("/webhooks", status_code=201, summary="Add a webhook; the response holds its secret")
def add_webhook(data: WebhookCreate, session: SessionDep, clock: ClockDep) -> WebhookCreated:
    hook, secret = service.add_webhook(
        session,
        data.url,
        events=data.events,
        now=clock(),
        secret=data.secret,
        description=data.description,
    )
    return WebhookCreated.model_validate(
        {**WebhookRead.model_validate(hook).model_dump(), "secret": secret}
    )


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook and its deliveries"
)
def remove_webhook(webhook_id: IdPath, session: SessionDep) -> Response:
    service.remove_webhook(session, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", summary="A webhook's deliveries, newest first")
def list_deliveries(
    webhook_id: IdPath, session: SessionDep, page: PageDep, status: OutboxStatus | None = None
) -> PageOf[DeliveryRead]:
    rows, total = service.list_deliveries(
        session, webhook_id=webhook_id, status=status, limit=page.limit, offset=page.offset
    )
    return PageOf[DeliveryRead](
        items=[DeliveryRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/webhook-deliveries/{delivery_id}/redeliver", summary="Send a delivery again")
def redeliver(delivery_id: IdPath, session: SessionDep, clock: ClockDep) -> DeliveryRead:
    return DeliveryRead.model_validate(service.redeliver(session, delivery_id, now=clock()))


@router.get("/outbox", summary="Outbound mail, newest first (without bodies)")
def list_outbox(
    session: SessionDep, page: PageDep, status: OutboxStatus | None = None
) -> PageOf[MailRead]:
    rows, total = service.list_mail(session, status=status, limit=page.limit, offset=page.offset)
    return PageOf[MailRead](
        items=[MailRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
