"""Offers: their closed sets, the compensation policy as data, and the suggestion. No IO."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from amends.analysis.priority import DEFAULT_RULES


class RemedyKind(StrEnum):
    DISCOUNT = "discount"
    VOUCHER = "voucher"
    FREE_MONTHS = "free_months"
    REFUND = "refund"
    REPLACEMENT = "replacement"
    GIFT = "gift"


# Remedies that put the problem right; the rest are signs of apology (perks).
FIXES: frozenset[RemedyKind] = frozenset({RemedyKind.REFUND, RemedyKind.REPLACEMENT})


class CustomerValue(StrEnum):
    NEW = "new"
    REPEAT = "repeat"
    LOYAL = "loyal"
    HIGH_VALUE = "high_value"


# What each default category may be offered, the fix first. The playbook can replace any row.
DEFAULT_REMEDIES: Mapping[str, tuple[RemedyKind, ...]] = {
    "billing": (RemedyKind.REFUND, RemedyKind.VOUCHER),
    "refunds": (RemedyKind.REFUND, RemedyKind.VOUCHER),
    "delivery_delay": (RemedyKind.REFUND, RemedyKind.REPLACEMENT, RemedyKind.DISCOUNT),
    "wrong_or_damaged_item": (RemedyKind.REPLACEMENT, RemedyKind.REFUND, RemedyKind.VOUCHER),
    "product_defect": (RemedyKind.REPLACEMENT, RemedyKind.REFUND, RemedyKind.VOUCHER),
    "app_or_website_fault": (RemedyKind.FREE_MONTHS, RemedyKind.VOUCHER),
    "account_access": (RemedyKind.FREE_MONTHS, RemedyKind.VOUCHER),
    "waiting_no_response": (RemedyKind.VOUCHER, RemedyKind.DISCOUNT),
    "staff_behaviour": (RemedyKind.GIFT, RemedyKind.VOUCHER),
    "unwanted_marketing": (),
    "cancellation": (RemedyKind.REFUND,),
    "other": (RemedyKind.VOUCHER,),
}


@dataclass(frozen=True)
class Compensation:
    """The playbook's compensation policy as plain data."""

    currency: str = "USD"
    monthly_budget: Decimal | None = None
    # From this severity on, a case's reply carries a sign of apology (a perk) as well.
    sign_of_apology_from: int = 3
    # The value of a sign of apology by severity (1..4), before the customer's value counts.
    amounts: Mapping[int, Decimal] = field(
        default_factory=lambda: {1: Decimal(0), 2: Decimal(10), 3: Decimal(20), 4: Decimal(50)}
    )
    multipliers: Mapping[CustomerValue, Decimal] = field(
        default_factory=lambda: {
            CustomerValue.NEW: Decimal(1),
            CustomerValue.REPEAT: Decimal(1),
            CustomerValue.LOYAL: Decimal("1.5"),
            CustomerValue.HIGH_VALUE: Decimal(2),
        }
    )
    # The lifetime value from which a customer is high value.
    high_value_over: Decimal | None = Decimal(1000)
    caps: Mapping[str, Decimal] = field(
        default_factory=lambda: {"agent": Decimal(25), "lead": Decimal(200)}
    )  # by role; above its cap an offer waits for a lead's approval
    remedies: Mapping[str, tuple[RemedyKind, ...]] = field(
        default_factory=lambda: dict(DEFAULT_REMEDIES)
    )
    perk: RemedyKind = RemedyKind.VOUCHER  # the usual sign of apology
    voucher_expires: timedelta = timedelta(days=90)

    def remedies_for(self, category: str | None) -> tuple[RemedyKind, ...]:
        return self.remedies.get(category or "other", self.remedies.get("other", ()))


class OfferStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"  # above the maker's cap or the budget: a lead decides
    MADE = "made"  # put to the customer
    ACCEPTED = "accepted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    REDEEMED = "redeemed"  # its voucher was used


_ALLOWED: Mapping[OfferStatus, frozenset[OfferStatus]] = {
    OfferStatus.PENDING_APPROVAL: frozenset({OfferStatus.MADE, OfferStatus.WITHDRAWN}),
    OfferStatus.MADE: frozenset(
        {OfferStatus.ACCEPTED, OfferStatus.REFUSED, OfferStatus.WITHDRAWN, OfferStatus.REDEEMED}
    ),
    OfferStatus.ACCEPTED: frozenset({OfferStatus.REDEEMED}),
    OfferStatus.REFUSED: frozenset(),
    OfferStatus.WITHDRAWN: frozenset(),
    OfferStatus.REDEEMED: frozenset(),
}


def can_transition(current: OfferStatus, target: OfferStatus) -> bool:
    return target in _ALLOWED[current]


# What counts as spent: offers the customer has (or had) in hand. A refused, withdrawn or
# pending offer costs nothing.
SPENT: frozenset[OfferStatus] = frozenset(
    {OfferStatus.MADE, OfferStatus.ACCEPTED, OfferStatus.REDEEMED}
)
# Offers the customer answered: the acceptance rate's denominator.
DECIDED: frozenset[OfferStatus] = frozenset(
    {OfferStatus.ACCEPTED, OfferStatus.REDEEMED, OfferStatus.REFUSED}
)
# Kinds that come with a voucher code the customer redeems.
VOUCHER_KINDS: frozenset[RemedyKind] = frozenset(
    {RemedyKind.VOUCHER, RemedyKind.DISCOUNT, RemedyKind.GIFT}
)
ROLES = ("agent", "lead")

# The customer's words (amends.analysis.rules.Remedy values) that name a remedy we offer.
_ASKED: Mapping[str, RemedyKind] = {
    "refund": RemedyKind.REFUND,
    "replacement": RemedyKind.REPLACEMENT,
}


def is_spend(kind: RemedyKind | str) -> bool:
    """Whether an offer of this kind counts against caps and the budget: signs of apology do;
    a fix (a refund, a replacement) gives back what the customer was owed and does not."""
    return RemedyKind(kind) not in FIXES


def whole(amount: Decimal) -> Decimal:
    """Round to whole currency units, halves up."""
    return amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> str:
    """15 GBP, 12.50 GBP."""
    text = f"{amount:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".") if amount == amount.to_integral_value() else text
    return f"{text} {currency}"


def value_tier(
    *,
    lifetime_value: Decimal | None,
    customer_since: datetime | None,
    order_count: int | None,
    earlier_cases: int,
    now: datetime,
    high_value_over: Decimal | None,
    loyal_years: float = DEFAULT_RULES.loyal_years,
    loyal_orders: int = DEFAULT_RULES.loyal_orders,
) -> CustomerValue:
    """What the customer is worth to us: high value (lifetime value at or over the policy's
    line), loyal (tenure or orders, as priority counts them), repeat (a case before) or new."""
    line, ltv = high_value_over, lifetime_value
    if line is not None and ltv is not None and ltv >= line:
        return CustomerValue.HIGH_VALUE
    years = (now - customer_since).days / 365.25 if customer_since is not None else None
    if (years is not None and years >= loyal_years) or (
        order_count is not None and order_count >= loyal_orders
    ):
        return CustomerValue.LOYAL
    if earlier_cases >= 1:
        return CustomerValue.REPEAT
    return CustomerValue.NEW


@dataclass(frozen=True)
class Suggestion:
    """What to offer for one case, and why. `amount` is the value of the perk, or of the option
    the customer picks when there is no single fix; None when neither is offered."""

    severity: int
    category: str | None
    value: CustomerValue
    fix: RemedyKind | None
    options: tuple[RemedyKind, ...]
    perk: RemedyKind | None
    amount: Decimal | None
    currency: str
    role: str
    cap: Decimal | None
    needs_approval: bool
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; amounts as decimal strings ("15")."""
        return {
            "severity": self.severity,
            "category": self.category,
            "customer_value": self.value.value,
            "fix": self.fix.value if self.fix else None,
            "options": [o.value for o in self.options],
            "perk": self.perk.value if self.perk else None,
            "amount": None if self.amount is None else f"{self.amount:f}",
            "currency": self.currency,
            "role": self.role,
            "cap": None if self.cap is None else f"{self.cap:f}",
            "needs_approval": self.needs_approval,
            "reasons": list(self.reasons),
        }


PastOffer = tuple[str, Decimal | None, str]  # (kind, amount, status), as stored


def ceiling(history: Sequence[PastOffer], *, abusive: bool) -> tuple[Decimal | None, str | None]:
    """The most the next offer may be worth, and why: after a refusal, the smallest refused
    amount; for a customer flagged abusive, the smallest amount ever put to them."""
    refused = [a for _k, a, s in history if s == OfferStatus.REFUSED and a is not None]
    offered = [a for _k, a, s in history if s != OfferStatus.PENDING_APPROVAL and a is not None]
    limits: list[tuple[Decimal, str]] = []
    if refused:
        limits.append((min(refused), "capped at the refused offer ({})"))
    if abusive and offered:
        limits.append((min(offered), "flagged abusive: capped at the smallest offer so far ({})"))
    if not limits:
        return None, None
    amount, why = min(limits, key=lambda limit: limit[0])
    return amount, why


def _perk_kind(policy: Compensation, allowed: Sequence[RemedyKind]) -> RemedyKind:
    perks = [r for r in allowed if r not in FIXES]
    if policy.perk in perks or not perks:
        return policy.perk
    return perks[0]


def _options(policy: Compensation, allowed: Sequence[RemedyKind]) -> tuple[RemedyKind, ...]:
    """At least two ways to make amends when nothing single puts it right: the category's
    perks, then the usual ones, so that the customer has a choice."""
    chosen = list(dict.fromkeys(r for r in allowed if r not in FIXES))
    for extra in (policy.perk, RemedyKind.VOUCHER, RemedyKind.DISCOUNT):
        if len(chosen) >= 2:
            break
        if extra not in chosen and extra not in FIXES:
            chosen.append(extra)
    return tuple(chosen)


def suggest(
    severity: int | None,
    category: str | None,
    *,
    asked: str | None,
    value: CustomerValue,
    history: Sequence[PastOffer] = (),
    abusive: bool = False,
    spent_this_month: Decimal = Decimal(0),
    policy: Compensation,
    role: str = "agent",
) -> Suggestion | None:
    """What to offer: the fix for the category (the customer's own ask when the category allows
    it), else at least two options; a sign of apology from the policy's severity, worth the
    severity's amount times the customer's value, never more than a refused offer (or, for an
    abusive customer, than any offer so far, and without uplift). None: nothing to offer beyond
    the apology itself (a category with no remedies listed, or no fix and nothing owed)."""
    level = min(4, max(1, severity or 1))
    reasons = [f"severity {level}" if severity else "severity not assessed: taken as 1"]
    allowed = policy.remedies_for(category)
    if not allowed:  # the playbook lists no remedy: the category takes no compensation
        return None

    wanted = _ASKED.get((asked or "").strip().lower())
    fix: RemedyKind | None = None
    if wanted is not None and wanted in allowed:
        fix = wanted
        reasons.append(f"asked for a {wanted.value}")
    else:
        fix = next((r for r in allowed if r in FIXES), None)
        if wanted is not None:
            reasons.append(f"asked for a {wanted.value}: not offered for {category or 'other'}")
        if fix is not None:
            reasons.append(f"the fix for {category or 'other'}: {fix.value}")

    # The value of a sign of apology: severity, then the customer's value, then the ceilings.
    base = policy.amounts.get(level, Decimal(0))
    if abusive:
        worth = whole(base)
        if base:
            reasons.append("flagged abusive: no uplift")
    else:
        factor = policy.multipliers.get(value, Decimal(1))
        worth = whole(base * factor)
        if base and factor != 1:
            reasons.append(f"{_TIER_WORDS[value]} \N{MULTIPLICATION SIGN}{factor.normalize():f}")
    limit, why = ceiling(history, abusive=abusive)
    if limit is not None and why is not None and worth > limit:
        worth = limit.to_integral_value(rounding=ROUND_FLOOR)  # whole units, never above
        reasons.append(why.format(money(limit, policy.currency)))
    top = max(policy.caps.values(), default=None)
    if top is not None and worth > top:
        worth = top
        reasons.append(f"limited to the largest cap ({money(top, policy.currency)})")

    options: tuple[RemedyKind, ...] = ()
    if fix is None and worth > 0:
        options = _options(policy, allowed)
        reasons.append("no single fix: " + " or ".join(o.value for o in options))
    perk: RemedyKind | None = None
    if level >= policy.sign_of_apology_from and worth > 0:
        perk = _perk_kind(policy, options or allowed)
        reasons.append(f"a sign of apology: {perk.value}")
    if fix is None and not options and perk is None:
        return None
    amount = worth if (perk is not None or options) else None

    cap = policy.caps.get(role)
    needs_approval = False
    if amount is not None:
        if cap is not None and amount > cap:
            needs_approval = True
            reasons.append(f"over the {role} cap of {money(cap, policy.currency)}: a lead approves")
        budget = policy.monthly_budget
        if budget is not None and spent_this_month + amount > budget:
            needs_approval = True
            reasons.append(
                f"over the monthly budget ({money(spent_this_month, policy.currency)} of "
                f"{money(budget, policy.currency)} spent): a lead approves"
            )
    return Suggestion(
        severity=level,
        category=category,
        value=value,
        fix=fix,
        options=options,
        perk=perk,
        amount=amount,
        currency=policy.currency,
        role=role,
        cap=cap,
        needs_approval=needs_approval,
        reasons=tuple(reasons),
    )


_TIER_WORDS: Mapping[CustomerValue, str] = {
    CustomerValue.NEW: "new customer",
    CustomerValue.REPEAT: "repeat customer",
    CustomerValue.LOYAL: "loyal customer",
    CustomerValue.HIGH_VALUE: "high-value customer",
}


# Voucher codes: 80 random bits in base32 (A-Z, 2-7), four groups of four.
CODE_BYTES = 10
_CODE_LENGTH = CODE_BYTES * 8 // 5
# Characters people misread for base32 ones; base32 has no 0, 1 or 8.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def voucher_code(raw: bytes) -> str:
    """ "XXXX-XXXX-XXXX-XXXX" from CODE_BYTES random bytes (secrets.token_bytes)."""
    if len(raw) != CODE_BYTES:
        raise ValueError(f"a voucher code takes {CODE_BYTES} random bytes")
    text = base64.b32encode(raw).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalise_code(text: str) -> str | None:
    """A code as typed (any case, dashes or spaces anywhere, 0/1/8 for O/I/B) in its stored
    form, or None when it cannot be a code."""
    bare = "".join(c for c in text.upper() if c not in "- \t").translate(_LOOKALIKES)
    if len(bare) != _CODE_LENGTH or not set(bare) <= _BASE32:
        return None
    return "-".join(bare[i : i + 4] for i in range(0, len(bare), 4))


def mask_code(code: str) -> str:
    """What the case history shows of a code: its last group."""
    return "…" + code[-4:]


def voucher_state(
    *,
    expires_at: datetime,
    redeemed_at: datetime | None,
    voided_at: datetime | None,
    now: datetime,
) -> str:
    """open, redeemed, void (its offer was refused or withdrawn) or expired."""
    if redeemed_at is not None:
        return "redeemed"
    if voided_at is not None:
        return "void"
    return "expired" if expires_at <= now else "open"
