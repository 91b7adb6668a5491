"""Pydantic shapes of customers at the edges."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from amends.customers.rules import IdentityKind
from amends.offers.schemas import OfferRead


class IdentityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: IdentityKind
    key: str
    display: str


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str | None
    customer_since: datetime | None
    order_count: int | None
    lifetime_value: Decimal | None
    identities: list[IdentityRead]
    created_at: datetime
    abusive: bool = False
    abusive_reason: str | None = None


class CustomerDetail(CustomerRead):
    """One customer, with the offers made to them, newest first."""

    offers: list[OfferRead]
