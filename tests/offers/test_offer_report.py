"""The offer report's arithmetic over plain rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from amends.offers.report import OfferFact, came_back, months, offer_report
from amends.offers.rules import OfferStatus, RemedyKind

D = Decimal
S = OfferStatus
K = RemedyKind
T0 = datetime(2026, 10, 20, 12, tzinfo=UTC)
NOW = datetime(2026, 12, 15, tzinfo=UTC)


def fact(
    kind: RemedyKind,
    amount: str | None,
    status: OfferStatus,
    *,
    category: str | None = "billing",
    customer: int = 1,
    made: datetime | None = T0,
    expires: datetime | None = None,
    redeemed: datetime | None = None,
    voided: datetime | None = None,
) -> OfferFact:
    return OfferFact(
        kind=kind,
        amount=None if amount is None else D(amount),
        status=status,
        category=category,
        customer_id=customer,
        made_at=made,
        voucher_expires_at=expires,
        voucher_redeemed_at=redeemed,
        voucher_voided_at=voided,
    )


NOV = datetime(2026, 11, 10, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
FACTS = [
    fact(K.VOUCHER, "30", S.REDEEMED, expires=LATER, redeemed=NOV),  # Oct spend
    fact(K.VOUCHER, "25", S.MADE, made=NOV, expires=LATER, customer=2),  # Nov, open
    fact(K.DISCOUNT, "80", S.ACCEPTED, made=NOV, expires=NOV, customer=2, category="delivery"),
    fact(K.GIFT, "15", S.REFUSED, voided=NOV, expires=LATER, customer=3, category="staff"),
    fact(K.VOUCHER, "50", S.PENDING_APPROVAL, made=None, customer=4),
    fact(K.FREE_MONTHS, "9.99", S.WITHDRAWN, customer=4),
    fact(K.REFUND, "120", S.MADE, made=NOV, customer=2, category="delivery"),
    fact(K.REPLACEMENT, None, S.ACCEPTED, made=NOV, customer=5, category=None),
]


def test_spend_acceptance_and_vouchers() -> None:
    r = offer_report(
        FACTS,
        since=datetime(2026, 10, 1, tzinfo=UTC),
        until=datetime(2026, 12, 1, tzinfo=UTC),
        now=NOW,
        currency="GBP",
        monthly_budget=D(100),
        inbound={},
    )
    assert r.offers == 8
    assert r.by_status == {
        "pending_approval": 1,
        "made": 2,
        "accepted": 2,
        "refused": 1,
        "withdrawn": 1,
        "redeemed": 1,
    }
    assert r.spend == D(135)  # 30 + 25 + 80: made, accepted, redeemed perks only
    assert r.fixes == D(120)
    assert [(m.month, m.spend, m.left, m.over) for m in r.by_month] == [
        ("2026-10", D(30), D(70), False),
        ("2026-11", D(105), D(-5), True),
    ]
    assert [(c.key, c.offers, c.spend) for c in r.by_category] == [
        ("delivery", 2, D(80)),
        ("billing", 4, D(55)),
        ("staff", 1, D(0)),
        ("uncategorised", 1, D(0)),
    ]
    remedies = {(m.kind, m.fix): (m.offers, m.amount) for m in r.by_remedy}
    assert remedies == {
        ("voucher", False): (3, D(55)),
        ("discount", False): (1, D(80)),
        ("gift", False): (1, D(0)),
        ("free_months", False): (1, D(0)),
        ("refund", True): (1, D(120)),
        ("replacement", True): (1, D(0)),
    }
    assert [m.kind for m in r.by_remedy][-2:] == ["refund", "replacement"]  # fixes last
    a = r.acceptance
    assert (a.accepted, a.refused, a.decided, a.rate_pct) == (3, 1, 4, 75.0)
    v = r.vouchers
    assert (v.issued, v.redeemed, v.expired, v.void, v.open, v.redeemed_pct) == (
        4,
        1,
        1,
        1,
        1,
        25.0,
    )


def test_no_offers_no_rates() -> None:
    r = offer_report(
        [],
        since=datetime(2026, 11, 1, tzinfo=UTC),
        until=datetime(2026, 12, 1, tzinfo=UTC),
        now=NOW,
        currency="USD",
        monthly_budget=None,
        inbound={},
    )
    assert (r.offers, r.spend) == (0, D(0))
    assert r.acceptance.rate_pct is None
    assert r.came_back.rate_pct is None
    assert [(m.month, m.spend, m.budget, m.over) for m in r.by_month] == [
        ("2026-11", D(0), None, False)
    ]


@pytest.mark.parametrize(
    ("after", "now_after", "expected"),
    [
        ([], timedelta(days=6), None),  # too early to say
        ([timedelta(days=3)], timedelta(days=30), False),  # wrote again, but too soon
        ([timedelta(days=7)], timedelta(days=30), False),  # exactly 7 days: not "more than"
        ([timedelta(days=7, seconds=1)], timedelta(days=30), True),
        ([timedelta(days=180)], timedelta(days=200), True),
        ([timedelta(days=180, seconds=1)], timedelta(days=200), False),
        ([-timedelta(days=2)], timedelta(days=30), False),  # before the offer
        ([], timedelta(days=7), False),
    ],
)
def test_came_back(after: list[timedelta], now_after: timedelta, expected: bool | None) -> None:
    assert came_back(T0, [T0 + d for d in after], now=T0 + now_after) is expected


def test_came_back_counts_each_customer_once_from_their_first_offer() -> None:
    facts = [
        fact(K.VOUCHER, "10", S.MADE, customer=1, made=T0),
        fact(K.VOUCHER, "10", S.MADE, customer=1, made=T0 + timedelta(days=20)),
        fact(K.VOUCHER, "10", S.MADE, customer=2, made=T0),
        fact(K.VOUCHER, "10", S.PENDING_APPROVAL, customer=3, made=None),  # never offered
        fact(K.VOUCHER, "10", S.MADE, customer=4, made=NOW - timedelta(days=2)),
    ]
    r = offer_report(
        facts,
        since=datetime(2026, 10, 1, tzinfo=UTC),
        until=NOW,
        now=NOW,
        currency="GBP",
        monthly_budget=None,
        inbound={1: [T0 + timedelta(days=10)], 2: [T0 + timedelta(days=1)]},
    )
    c = r.came_back
    assert (c.customers, c.came_back, c.too_early, c.rate_pct) == (2, 1, 1, 50.0)


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ((2026, 11, 1), (2026, 12, 1), ["2026-11"]),
        ((2026, 11, 15), (2027, 1, 2), ["2026-11", "2026-12", "2027-01"]),
        ((2026, 12, 31), (2027, 1, 1), ["2026-12"]),
    ],
)
def test_months(
    since: tuple[int, int, int], until: tuple[int, int, int], expected: list[str]
) -> None:
    assert months(datetime(*since, tzinfo=UTC), datetime(*until, tzinfo=UTC)) == expected
