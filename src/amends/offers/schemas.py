"""Pydantic shapes of offers, vouchers and the offer report at the edges."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from amends.offers.rules import OfferStatus, RemedyKind

Email = Annotated[
    str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$", description="email")
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OfferIn(_In):
    kind: RemedyKind
    amount: Decimal | None = Field(
        None, ge=0, le=1_000_000, decimal_places=2, description="a perk's value; a refund's sum"
    )
    agent: Email = Field(description="the agent making it (email)")
    note: str | None = Field(None, max_length=2000)


class ApproveIn(_In):
    agent: Email = Field(description="the approving team lead (email)")


class DecisionIn(_In):
    agent: Email | None = Field(None, description="the agent recording it (email)")
    reason: str | None = Field(None, max_length=2000, description="why (kept on the offer)")


class RedeemIn(_In):
    ref: str | None = Field(None, max_length=200, description="the order it is used on")


class FlagIn(_In):
    abusive: bool
    reason: str | None = Field(None, max_length=2000, description="needed when flagging")
    agent: Email | None = Field(None, description="the agent flagging (email)")


class SuggestionRead(BaseModel):
    """Suggestion.to_dict(): amounts as decimal strings."""

    severity: int
    category: str | None
    customer_value: str
    fix: RemedyKind | None
    options: list[RemedyKind]
    perk: RemedyKind | None
    amount: str | None
    currency: str
    role: Literal["agent", "lead"]
    cap: str | None
    needs_approval: bool
    reasons: list[str]


class SuggestionAnswer(BaseModel):
    case_id: int
    suggestion: SuggestionRead | None = Field(description="null: the apology alone is enough")


class VoucherRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    expires_at: datetime
    redeemed_at: datetime | None
    redeemed_ref: str | None
    voided_at: datetime | None


class OfferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    customer_id: int
    kind: RemedyKind
    amount: Decimal | None
    currency: str
    status: OfferStatus
    made_by: str
    approved_by: str | None
    approved_at: datetime | None
    note: str | None
    reason: str | None
    created_at: datetime
    made_at: datetime | None
    decided_at: datetime | None
    suggestion: dict[str, Any] | None
    voucher: VoucherRead | None


class VoucherState(VoucherRead):
    offer_id: int
    kind: RemedyKind
    amount: Decimal | None
    currency: str
    status: Literal["open", "redeemed", "expired", "void"]


class FlagRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    abusive: bool
    abusive_reason: str | None


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SpendRowRead(_Read):
    key: str
    offers: int
    spend: Decimal


class RemedyRowRead(_Read):
    kind: str
    fix: bool
    offers: int
    amount: Decimal


class MonthRowRead(_Read):
    month: str
    spend: Decimal
    budget: Decimal | None
    left: Decimal | None
    over: bool


class AcceptanceRead(_Read):
    accepted: int
    refused: int
    decided: int
    rate_pct: float | None


class VoucherStatsRead(_Read):
    issued: int
    redeemed: int
    expired: int
    void: int
    open: int
    redeemed_pct: float | None


class CameBackRead(_Read):
    customers: int
    came_back: int
    too_early: int
    rate_pct: float | None


class OfferReportRead(_Read):
    since: datetime
    until: datetime
    now: datetime
    currency: str
    monthly_budget: Decimal | None
    offers: int
    by_status: dict[str, int]
    spend: Decimal
    fixes: Decimal
    by_category: list[SpendRowRead]
    by_remedy: list[RemedyRowRead]
    by_month: list[MonthRowRead]
    acceptance: AcceptanceRead
    vouchers: VoucherStatsRead
    came_back: CameBackRead
    definitions: dict[str, str]
