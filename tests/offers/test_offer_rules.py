"""The pure offer rules: suggestions as tables, the ceilings after a refusal or for an abusive
customer, customer value, the offer lifecycle and voucher codes."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from amends.offers.rules import (
    Compensation,
    CustomerValue,
    OfferStatus,
    PastOffer,
    RemedyKind,
    Suggestion,
    can_transition,
    ceiling,
    money,
    normalise_code,
    suggest,
    value_tier,
    voucher_code,
    voucher_state,
)

D = Decimal
V = RemedyKind
NEW, REPEAT, LOYAL, HIGH = (
    CustomerValue.NEW,
    CustomerValue.REPEAT,
    CustomerValue.LOYAL,
    CustomerValue.HIGH_VALUE,
)
DEFAULT = Compensation()  # USD; 0/10/20/50 by severity; loyal x1.5, high value x2; caps 25/200
# The documented example playbook's policy.
GBP = Compensation(
    currency="GBP",
    monthly_budget=D(2000),
    amounts={1: D(0), 2: D(5), 3: D(15), 4: D(40)},
    caps={"agent": D(20), "lead": D(150)},
)
NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)
TIMES = "\N{MULTIPLICATION SIGN}"  # as in "loyal customer x1.5"


def run(
    severity: int | None,
    category: str | None,
    asked: str | None = None,
    value: CustomerValue = NEW,
    policy: Compensation = DEFAULT,
    *,
    history: Sequence[PastOffer] = (),
    abusive: bool = False,
    spent_this_month: Decimal = Decimal(0),
    role: str = "agent",
) -> Suggestion | None:
    return suggest(
        severity,
        category,
        asked=asked,
        value=value,
        policy=policy,
        history=history,
        abusive=abusive,
        spent_this_month=spent_this_month,
        role=role,
    )


# ---- what is offered ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "category", "asked", "fix", "options", "perk", "amount"),
    [
        # A fix the category allows, and a perk only from severity 3.
        (2, "billing", "refund", V.REFUND, (), None, None),
        (3, "billing", "refund", V.REFUND, (), V.VOUCHER, D(20)),
        (4, "billing", "none", V.REFUND, (), V.VOUCHER, D(50)),
        # The customer's own ask wins when the category allows it; else the category's fix.
        (2, "wrong_or_damaged_item", "refund", V.REFUND, (), None, None),
        (2, "wrong_or_damaged_item", "replacement", V.REPLACEMENT, (), None, None),
        (2, "wrong_or_damaged_item", "none", V.REPLACEMENT, (), None, None),
        (2, "wrong_or_damaged_item", None, V.REPLACEMENT, (), None, None),
        (2, "billing", "replacement", V.REFUND, (), None, None),
        (2, "billing", "apology", V.REFUND, (), None, None),
        # The perk takes the category's form when the usual one (voucher) is not listed.
        (3, "delivery_delay", "none", V.REFUND, (), V.DISCOUNT, D(20)),
        (3, "cancellation", "cancellation", V.REFUND, (), V.VOUCHER, D(20)),
        # No single fix: at least two options, each worth the amount.
        (2, "app_or_website_fault", "none", None, (V.FREE_MONTHS, V.VOUCHER), None, D(10)),
        (3, "app_or_website_fault", "refund", None, (V.FREE_MONTHS, V.VOUCHER), V.VOUCHER, D(20)),
        (2, "waiting_no_response", None, None, (V.VOUCHER, V.DISCOUNT), None, D(10)),
        (3, "staff_behaviour", None, None, (V.GIFT, V.VOUCHER), V.VOUCHER, D(20)),
        (2, "other", None, None, (V.VOUCHER, V.DISCOUNT), None, D(10)),
        (2, None, None, None, (V.VOUCHER, V.DISCOUNT), None, D(10)),  # uncategorised: "other"
        (2, "a-category-nobody-knows", None, None, (V.VOUCHER, V.DISCOUNT), None, D(10)),
        # Severity 1 and no fix: the apology is enough.
        (1, "app_or_website_fault", None, None, (), None, None),
        (1, "billing", "refund", V.REFUND, (), None, None),
    ],
)
def test_what_is_offered(
    severity: int,
    category: str | None,
    asked: str | None,
    fix: RemedyKind | None,
    options: tuple[RemedyKind, ...],
    perk: RemedyKind | None,
    amount: Decimal | None,
) -> None:
    s = run(severity, category, asked)
    if fix is None and not options and perk is None:
        assert s is None
        return
    assert s is not None
    assert (s.fix, s.options, s.perk, s.amount) == (fix, options, perk, amount)
    assert s.severity == severity
    assert s.reasons[0] == f"severity {severity}"
    if fix is None:
        assert len(s.options) >= 2
        assert not set(s.options) & {V.REFUND, V.REPLACEMENT}


@pytest.mark.parametrize(
    ("severity", "category", "expected"),
    [
        (1, "app_or_website_fault", None),  # nothing to fix, worth nothing
        (4, "unwanted_marketing", None),  # the category takes no compensation at all
        (2, "unwanted_marketing", None),
    ],
)
def test_nothing_beyond_the_apology(severity: int, category: str, expected: None) -> None:
    assert run(severity, category) is expected


def test_a_missing_severity_counts_as_minor_and_says_so() -> None:
    s = run(None, "billing", "refund")
    assert s is not None
    assert s.severity == 1
    assert s.reasons[0] == "severity not assessed: taken as 1"
    assert s.perk is None


@pytest.mark.parametrize(("severity", "shown"), [(0, 1), (7, 4), (-3, 1)])
def test_severity_is_clamped_to_the_scale(severity: int, shown: int) -> None:
    s = run(severity, "billing", "refund")
    assert s is not None
    assert s.severity == shown


def test_an_ask_the_category_does_not_offer_is_named() -> None:
    s = run(2, "app_or_website_fault", "refund")
    assert s is not None
    assert "asked for a refund: not offered for app_or_website_fault" in s.reasons
    assert s.fix is None


# ---- how much -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "value", "policy", "amount", "uplift"),
    [
        (3, NEW, DEFAULT, D(20), None),
        (3, REPEAT, DEFAULT, D(20), None),
        (3, LOYAL, DEFAULT, D(30), f"loyal customer {TIMES}1.5"),
        (3, HIGH, DEFAULT, D(40), f"high-value customer {TIMES}2"),
        (4, LOYAL, DEFAULT, D(75), f"loyal customer {TIMES}1.5"),
        (3, NEW, GBP, D(15), None),
        (3, LOYAL, GBP, D(23), f"loyal customer {TIMES}1.5"),  # 22.5 rounds half up to whole units
        (4, HIGH, GBP, D(80), f"high-value customer {TIMES}2"),
    ],
)
def test_amount_is_severity_times_customer_value(
    severity: int, value: CustomerValue, policy: Compensation, amount: Decimal, uplift: str | None
) -> None:
    s = run(severity, "billing", "refund", value, policy)
    assert s is not None
    assert s.amount == amount
    assert s.currency == policy.currency
    assert s.amount == s.amount.to_integral_value()
    assert (uplift in s.reasons) if uplift else not any(TIMES in r for r in s.reasons)


@pytest.mark.parametrize(
    ("severity", "value", "role", "spent", "needs", "why"),
    [
        (3, NEW, "agent", D(0), False, None),  # 15 <= 20
        (3, LOYAL, "agent", D(0), True, "over the agent cap of 20 GBP: a lead approves"),
        (4, NEW, "agent", D(0), True, "over the agent cap of 20 GBP: a lead approves"),
        (4, HIGH, "lead", D(0), False, None),  # 80 <= 150
        (3, NEW, "agent", D(1985), False, None),  # 1985 + 15 = 2000: at the budget, not over
        (
            3,
            NEW,
            "agent",
            D(1990),
            True,
            "over the monthly budget (1990 GBP of 2000 GBP spent): a lead approves",
        ),
        (
            3,
            NEW,
            "lead",
            D(1990),
            True,
            "over the monthly budget (1990 GBP of 2000 GBP spent): a lead approves",
        ),
    ],
)
def test_approval_above_the_cap_or_the_budget(
    severity: int,
    value: CustomerValue,
    role: str,
    spent: Decimal,
    needs: bool,
    why: str | None,
) -> None:
    s = run(severity, "billing", "refund", value, GBP, role=role, spent_this_month=spent)
    assert s is not None
    assert s.needs_approval is needs
    assert s.cap == GBP.caps[role]
    if why:
        assert why in s.reasons
    else:
        assert not any("approves" in r for r in s.reasons)


def test_a_fix_alone_needs_no_approval_whatever_the_budget() -> None:
    s = run(2, "billing", "refund", policy=GBP, spent_this_month=D(5000))
    assert s is not None
    assert (s.fix, s.amount, s.needs_approval) == (V.REFUND, None, False)


def test_never_above_the_largest_cap() -> None:
    policy = Compensation(amounts={1: D(0), 2: D(0), 3: D(0), 4: D(500)})
    s = run(4, "billing", "refund", HIGH, policy, role="lead")
    assert s is not None
    assert s.amount == D(200)
    assert "limited to the largest cap (200 USD)" in s.reasons
    assert not s.needs_approval


def test_sign_of_apology_threshold_comes_from_the_policy() -> None:
    never = Compensation(sign_of_apology_from=5)
    s = run(4, "billing", "refund", policy=never)
    assert s is not None
    assert (s.perk, s.amount) == (None, None)
    early = Compensation(sign_of_apology_from=2)
    s = run(2, "billing", "refund", policy=early)
    assert s is not None
    assert (s.perk, s.amount) == (V.VOUCHER, D(10))


# ---- never more after a refusal, or to an abusive customer ------------------------------------


@pytest.mark.parametrize(
    ("history", "abusive", "severity", "value", "amount", "why"),
    [
        # After a refusal: at most the smallest refused amount, uplift or not.
        ([("voucher", D(15), "refused")], False, 4, LOYAL, D(15), "(15 USD)"),
        ([("voucher", D(15), "refused"), ("voucher", D(10), "refused")], False, 4, NEW, D(10), ""),
        ([("voucher", D("12.50"), "refused")], False, 4, NEW, D(12), "(12.50 USD)"),
        ([("voucher", D(100), "refused")], False, 3, NEW, D(20), None),  # already below
        ([("voucher", D(5), "made")], False, 3, NEW, D(20), None),  # not refused: no ceiling
        ([("replacement", None, "refused")], False, 3, NEW, D(20), None),  # no amount refused
        # Abusive: no uplift, and at most the smallest amount ever put to them.
        ([], True, 3, LOYAL, D(20), None),
        ([], True, 4, HIGH, D(50), None),
        ([("voucher", D(10), "accepted"), ("gift", D(30), "made")], True, 4, HIGH, D(10), ""),
        ([("voucher", D(8), "withdrawn")], True, 3, NEW, D(8), ""),
        ([("voucher", D(5), "pending_approval")], True, 3, NEW, D(20), None),  # never put
        ([("voucher", D(30), "redeemed")], True, 3, LOYAL, D(20), None),  # base below 30
    ],
)
def test_the_next_offer_is_never_larger(
    history: list[tuple[str, Decimal | None, str]],
    abusive: bool,
    severity: int,
    value: CustomerValue,
    amount: Decimal,
    why: str | None,
) -> None:
    s = run(severity, "billing", "refund", value, history=history, abusive=abusive)
    assert s is not None
    assert s.amount == amount
    capped = [r for r in s.reasons if "capped at" in r]
    if why is None:
        assert not capped
    else:
        assert capped
        assert why in capped[0]
    if abusive:
        assert "flagged abusive: no uplift" in s.reasons
        assert not any(TIMES in r for r in s.reasons)


@pytest.mark.parametrize("value", list(CustomerValue))
@pytest.mark.parametrize("severity", [1, 2, 3, 4])
@pytest.mark.parametrize("refused", [D(0), D(1), D("7.99"), D(15), D(60)])
@pytest.mark.parametrize("category", ["billing", "app_or_website_fault", "staff_behaviour"])
def test_after_a_refusal_every_suggestion_is_smaller_or_equal(
    value: CustomerValue, severity: int, refused: Decimal, category: str
) -> None:
    for abusive in (False, True):
        s = run(
            severity,
            category,
            value=value,
            policy=GBP,
            history=[("voucher", refused, "refused")],
            abusive=abusive,
        )
        if s is not None and s.amount is not None:
            assert s.amount <= refused


def test_ceiling_picks_the_tighter_limit() -> None:
    history = [("voucher", D(20), "refused"), ("gift", D(12), "made")]
    assert ceiling(history, abusive=False) == (D(20), "capped at the refused offer ({})")
    amount, why = ceiling(history, abusive=True)
    assert amount == D(12)
    assert why is not None
    assert "abusive" in why
    assert ceiling([], abusive=True) == (None, None)


# ---- the shape a reply composer reads ---------------------------------------------------------


def test_to_dict_is_plain_json() -> None:
    s = run(3, "billing", "refund", LOYAL, GBP)
    assert s is not None
    assert s.to_dict() == {
        "severity": 3,
        "category": "billing",
        "customer_value": "loyal",
        "fix": "refund",
        "options": [],
        "perk": "voucher",
        "amount": "23",
        "currency": "GBP",
        "role": "agent",
        "cap": "20",
        "needs_approval": True,
        "reasons": [
            "severity 3",
            "asked for a refund",
            f"loyal customer {TIMES}1.5",
            "a sign of apology: voucher",
            "over the agent cap of 20 GBP: a lead approves",
        ],
    }


# ---- customer value ---------------------------------------------------------------------------


def years_ago(years: float) -> datetime:
    return NOW - timedelta(days=round(years * 365.25) + 1)


@pytest.mark.parametrize(
    ("ltv", "since", "orders", "earlier", "line", "tier"),
    [
        (D(1000), None, None, 0, D(1000), HIGH),  # at the line counts
        (D("999.99"), None, None, 0, D(1000), NEW),
        (D(5000), None, None, 0, None, NEW),  # no line: never high value
        (None, years_ago(2), None, 0, D(1000), LOYAL),
        (None, NOW - timedelta(days=700), None, 0, D(1000), NEW),
        (None, None, 10, 0, D(1000), LOYAL),
        (None, None, 9, 0, D(1000), NEW),
        (None, None, 9, 1, D(1000), REPEAT),
        (None, years_ago(1), 3, 2, D(1000), REPEAT),
        (D(2000), years_ago(6), 40, 5, D(1000), HIGH),  # the highest tier wins
        (None, None, None, 0, D(1000), NEW),
    ],
)
def test_value_tier(
    ltv: Decimal | None,
    since: datetime | None,
    orders: int | None,
    earlier: int,
    line: Decimal | None,
    tier: CustomerValue,
) -> None:
    got = value_tier(
        lifetime_value=ltv,
        customer_since=since,
        order_count=orders,
        earlier_cases=earlier,
        now=NOW,
        high_value_over=line,
    )
    assert got is tier


# ---- the offer lifecycle ----------------------------------------------------------------------

S = OfferStatus


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.PENDING_APPROVAL, S.MADE, True),
        (S.PENDING_APPROVAL, S.WITHDRAWN, True),
        (S.PENDING_APPROVAL, S.ACCEPTED, False),
        (S.PENDING_APPROVAL, S.REFUSED, False),
        (S.MADE, S.ACCEPTED, True),
        (S.MADE, S.REFUSED, True),
        (S.MADE, S.WITHDRAWN, True),
        (S.MADE, S.REDEEMED, True),
        (S.ACCEPTED, S.REDEEMED, True),
        (S.ACCEPTED, S.REFUSED, False),
        (S.ACCEPTED, S.WITHDRAWN, False),
        (S.REFUSED, S.ACCEPTED, False),
        (S.REFUSED, S.MADE, False),
        (S.WITHDRAWN, S.MADE, False),
        (S.REDEEMED, S.ACCEPTED, False),
    ],
)
def test_offer_lifecycle(current: OfferStatus, target: OfferStatus, allowed: bool) -> None:
    assert can_transition(current, target) is allowed


# ---- voucher codes ----------------------------------------------------------------------------

CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")


def test_voucher_codes_carry_80_random_bits() -> None:
    assert voucher_code(bytes(10)) == "AAAA-AAAA-AAAA-AAAA"
    assert voucher_code(b"\xff" * 10) == "7777-7777-7777-7777"
    codes = {voucher_code(secrets.token_bytes(10)) for _ in range(500)}
    assert len(codes) == 500
    assert all(CODE.match(c) for c in codes)
    with pytest.raises(ValueError, match="10 random bytes"):
        voucher_code(b"short")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ABCD-EFGH-IJKL-MN23", "ABCD-EFGH-IJKL-MN23"),
        ("abcd-efgh-ijkl-mn23", "ABCD-EFGH-IJKL-MN23"),
        ("abcdefghijklmn23", "ABCD-EFGH-IJKL-MN23"),
        (" ab cd ef gh-ij kl mn 23 ", "ABCD-EFGH-IJKL-MN23"),
        ("ABCD--EFGH-IJKL-MN23", "ABCD-EFGH-IJKL-MN23"),
        ("0BCD-EFGH-1JKL-MN28", "OBCD-EFGH-IJKL-MN2B"),  # look-alikes read as base32
        ("ABCD-EFGH-IJKL-MN2", None),  # too short
        ("ABCD-EFGH-IJKL-MN234", None),  # too long
        ("ABCD-EFGH-IJKL-MN29", None),  # 9 is not base32
        ("ABCD_EFGH_IJKL_MN23", None),
        ("", None),
    ],
)
def test_codes_are_read_in_any_case_and_spacing(typed: str, stored: str | None) -> None:
    assert normalise_code(typed) == stored


@pytest.mark.parametrize(
    ("redeemed", "voided", "expires", "state"),
    [
        (None, None, NOW + timedelta(seconds=1), "open"),
        (None, None, NOW, "expired"),
        (NOW, None, NOW - timedelta(days=1), "redeemed"),
        (None, NOW, NOW + timedelta(days=1), "void"),
    ],
)
def test_voucher_state(
    redeemed: datetime | None, voided: datetime | None, expires: datetime, state: str
) -> None:
    got = voucher_state(expires_at=expires, redeemed_at=redeemed, voided_at=voided, now=NOW)
    assert got == state


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(D(15), "15 GBP"), (D("15.00"), "15 GBP"), (D("12.50"), "12.50 GBP"), (D(0), "0 GBP")],
)
def test_money(amount: Decimal, shown: str) -> None:
    assert money(amount, "GBP") == shown
