"""Customers and the identities (email, handle, phone, references) that resolve to them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from amends.customers.rules import IdentityKind, new_customer_ref
from amends.db import Base

if TYPE_CHECKING:
    from amends.cases.models import Case


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A public, unguessable reference (for links and integrations); ids stay internal.
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_customer_ref)
    name: Mapped[str | None] = mapped_column(String(200))
    customer_since: Mapped[datetime | None]
    order_count: Mapped[int | None]
    lifetime_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # Keeps attacking staff: offers to them are never larger than before, and get no uplift.
    abusive: Mapped[bool] = mapped_column(default=False, server_default=false())
    abusive_reason: Mapped[str | None] = mapped_column(Text)
    # Set when this record was found to be the same person as another and folded into it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime]

    identities: Mapped[list[Identity]] = relationship(
        back_populates="customer", order_by="Identity.id"
    )
    cases: Mapped[list[Case]] = relationship(back_populates="customer", order_by="Case.id")


class Identity(Base):
    """One way to recognise a customer. `key` is "kind:normalised value", unique desk-wide."""

    __tablename__ = "identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[IdentityKind]
    key: Mapped[str] = mapped_column(String(320), unique=True)
    # As first seen, for display ("Ana.Lopez@Example.com", "@AnaLopez").
    display: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship(back_populates="identities")
