"""Offers of compensation made on cases, and the vouchers that some of them carry."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from amends.db import Base
from amends.offers.rules import OfferStatus, RemedyKind

if TYPE_CHECKING:
    from amends.cases.models import Case
    from amends.customers.models import Customer


class Offer(Base):
    """One remedy put to (or waiting to be put to) a customer. The customer's history of
    offers, refused ones included, limits what the next suggestion may be worth."""

    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_customer_status", "customer_id", "status"),
        Index("ix_offers_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[RemedyKind]
    # A perk's value; a fix may carry what was refunded; None where nothing is counted.
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[OfferStatus]
    made_by: Mapped[str] = mapped_column(String(254))  # the agent's email
    approved_by: Mapped[str | None] = mapped_column(String(254))
    approved_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)  # the agent's, when making it
    reason: Mapped[str | None] = mapped_column(Text)  # why it was refused or withdrawn
    created_at: Mapped[datetime]
    made_at: Mapped[datetime | None]  # put to the customer (after approval, if it needed one)
    decided_at: Mapped[datetime | None]  # accepted, refused, withdrawn or redeemed
    # What the desk suggested when the offer was made (Suggestion.to_dict()), kept for audit.
    suggestion: Mapped[dict[str, Any] | None]

    case: Mapped[Case] = relationship()
    customer: Mapped[Customer] = relationship()
    voucher: Mapped[Voucher | None] = relationship(back_populates="offer")


class Voucher(Base):
    """A code the customer redeems once, before it expires. The code is the secret: 80 random
    bits, written "XXXX-XXXX-XXXX-XXXX" in base32."""

    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    redeemed_ref: Mapped[str | None] = mapped_column(String(200))  # the order it was used on
    voided_at: Mapped[datetime | None]  # its offer was refused or withdrawn

    offer: Mapped[Offer] = relationship(back_populates="voucher")
