"""The offer report's arithmetic over plain rows: spend by category, remedy and month against the
budget, acceptance, vouchers, and whether customers came back. No IO."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from amends.offers.rules import DECIDED, FIXES, SPENT, OfferStatus, RemedyKind

# "Came back": the customer wrote to us again, after the dust of the offer settled and before
# it was forgotten.
CAME_BACK_AFTER = timedelta(days=7)
CAME_BACK_WITHIN = timedelta(days=180)

DEFINITIONS: Mapping[str, str] = {
    "spend": (
        "the value of signs of apology (vouchers, discounts, free months, gifts) made, accepted "
        "or redeemed; refused, withdrawn and pending offers cost nothing, and fixes (refunds, "
        "replacements) give back what was owed, so they are listed by remedy but are not spend"
    ),
    "month": "the calendar month (UTC) in which an offer was made to the customer",
    "acceptance": "accepted or redeemed offers over those the customer answered "
    "(accepted, redeemed or refused)",
    "came_back": (
        "of the customers offered something in the window, the share who wrote to us again "
        "(any inbound, non-automatic message) more than 7 and at most 180 days after their "
        "first offer in the window; customers offered less than 7 days ago are left out"
    ),
}


@dataclass(frozen=True)
class OfferFact:
    """One offer, as the report needs it."""

    kind: RemedyKind
    amount: Decimal | None
    status: OfferStatus
    category: str | None
    customer_id: int
    made_at: datetime | None
    voucher_expires_at: datetime | None = None
    voucher_redeemed_at: datetime | None = None
    voucher_voided_at: datetime | None = None


@dataclass(frozen=True)
class SpendRow:
    key: str
    offers: int
    spend: Decimal


@dataclass(frozen=True)
class RemedyRow:
    kind: str
    fix: bool
    offers: int
    amount: Decimal  # of those made, accepted or redeemed; spend unless a fix


@dataclass(frozen=True)
class MonthRow:
    month: str  # "2026-11"
    spend: Decimal
    budget: Decimal | None
    left: Decimal | None
    over: bool


@dataclass(frozen=True)
class Acceptance:
    accepted: int
    refused: int
    decided: int
    rate_pct: float | None


@dataclass(frozen=True)
class VoucherStats:
    issued: int
    redeemed: int
    expired: int  # past their date, never used
    void: int  # their offer was refused or withdrawn
    open: int  # still usable
    redeemed_pct: float | None


@dataclass(frozen=True)
class CameBack:
    customers: int  # offered something, and 7 days have passed
    came_back: int
    too_early: int  # offered less than 7 days ago
    rate_pct: float | None


@dataclass(frozen=True)
class OfferReport:
    since: datetime
    until: datetime
    now: datetime
    currency: str
    monthly_budget: Decimal | None
    offers: int
    by_status: Mapping[str, int]
    spend: Decimal
    fixes: Decimal  # refunds and replacements made, accepted or redeemed
    by_category: Sequence[SpendRow]
    by_remedy: Sequence[RemedyRow]
    by_month: Sequence[MonthRow]
    acceptance: Acceptance
    vouchers: VoucherStats
    came_back: CameBack
    definitions: Mapping[str, str]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def months(since: datetime, until: datetime) -> list[str]:
    """The calendar months (UTC) that [since, until) touches, oldest first."""
    start = since.astimezone(UTC)
    end = (until - timedelta(microseconds=1)).astimezone(UTC)
    year, month = start.year, start.month
    found: list[str] = []
    while (year, month) <= (end.year, end.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def came_back(first_offer: datetime, inbound: Iterable[datetime], *, now: datetime) -> bool | None:
    """Whether the customer wrote again more than 7 and at most 180 days after `first_offer`;
    None while it is too early to say (fewer than 7 days have passed)."""
    if now - first_offer < CAME_BACK_AFTER:
        return None
    low, high = first_offer + CAME_BACK_AFTER, first_offer + CAME_BACK_WITHIN
    return any(low < at <= high for at in inbound)


def offer_report(
    facts: Iterable[OfferFact],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    currency: str,
    monthly_budget: Decimal | None,
    inbound: Mapping[int, Sequence[datetime]],
) -> OfferReport:
    """Aggregate the offers created in [since, until). `inbound` maps a customer to the times
    of their inbound messages (only those after their first offer are needed)."""
    by_status: Counter[str] = Counter()
    cat_offers: Counter[str] = Counter()
    cat_spend: defaultdict[str, Decimal] = defaultdict(Decimal)
    kind_offers: Counter[RemedyKind] = Counter()
    kind_amount: defaultdict[RemedyKind, Decimal] = defaultdict(Decimal)
    month_spend: defaultdict[str, Decimal] = defaultdict(Decimal)
    first_offer: dict[int, datetime] = {}
    issued = redeemed = expired = void = usable = 0
    total = 0
    for f in facts:
        total += 1
        by_status[f.status.value] += 1
        category = f.category or "uncategorised"
        cat_offers[category] += 1
        kind_offers[f.kind] += 1
        counted = f.status in SPENT and f.amount is not None
        if counted and f.amount is not None:
            kind_amount[f.kind] += f.amount
            if f.kind not in FIXES:
                cat_spend[category] += f.amount
                if f.made_at is not None:
                    month_spend[f"{f.made_at.astimezone(UTC):%Y-%m}"] += f.amount
        if f.made_at is not None:
            seen = first_offer.get(f.customer_id)
            first_offer[f.customer_id] = f.made_at if seen is None else min(seen, f.made_at)
        if f.voucher_expires_at is not None:
            issued += 1
            if f.voucher_redeemed_at is not None:
                redeemed += 1
            elif f.voucher_voided_at is not None:
                void += 1
            elif f.voucher_expires_at <= now:
                expired += 1
            else:
                usable += 1

    accepted = by_status[OfferStatus.ACCEPTED.value] + by_status[OfferStatus.REDEEMED.value]
    decided = sum(by_status[s.value] for s in DECIDED)
    outcomes = [came_back(at, inbound.get(cid, ()), now=now) for cid, at in first_offer.items()]
    judged = [o for o in outcomes if o is not None]

    month_rows = []
    for month in sorted(set(months(since, until)) | set(month_spend)):
        spend = month_spend.get(month, Decimal(0))
        left = None if monthly_budget is None else monthly_budget - spend
        month_rows.append(
            MonthRow(
                month=month,
                spend=spend,
                budget=monthly_budget,
                left=left,
                over=left is not None and left < 0,
            )
        )
    return OfferReport(
        since=since,
        until=until,
        now=now,
        currency=currency,
        monthly_budget=monthly_budget,
        offers=total,
        by_status={s.value: by_status[s.value] for s in OfferStatus},
        spend=sum((a for k, a in kind_amount.items() if k not in FIXES), Decimal(0)),
        fixes=sum((a for k, a in kind_amount.items() if k in FIXES), Decimal(0)),
        by_category=sorted(
            (SpendRow(c, n, cat_spend.get(c, Decimal(0))) for c, n in cat_offers.items()),
            key=lambda r: (-r.spend, -r.offers, r.key),
        ),
        by_remedy=sorted(
            (
                RemedyRow(k.value, k in FIXES, n, kind_amount.get(k, Decimal(0)))
                for k, n in kind_offers.items()
            ),
            key=lambda r: (r.fix, -r.amount, -r.offers, r.kind),
        ),
        by_month=month_rows,
        acceptance=Acceptance(
            accepted=accepted,
            refused=by_status[OfferStatus.REFUSED.value],
            decided=decided,
            rate_pct=_percent(accepted, decided),
        ),
        vouchers=VoucherStats(
            issued=issued,
            redeemed=redeemed,
            expired=expired,
            void=void,
            open=usable,
            redeemed_pct=_percent(redeemed, issued),
        ),
        came_back=CameBack(
            customers=len(judged),
            came_back=sum(judged),
            too_early=len(outcomes) - len(judged),
            rate_pct=_percent(sum(judged), len(judged)),
        ),
        definitions=dict(DEFINITIONS),
    )
