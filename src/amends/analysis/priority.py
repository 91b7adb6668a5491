"""Priority P1 .. P4 from the analysis, the channel's exposure and the customer, with reasons.

The thresholds are data (`PriorityRules`) so that a playbook can tune them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


@dataclass(frozen=True)
class AnalysisContext:
    """What is known about an item besides its text (all optional)."""

    channel: str | None = None
    public: bool = False
    reach: int | None = None  # followers or audience of a public post
    score: float | None = None  # the rating that came with the text
    score_scale: int = 5  # the top of the scale: 5 for stars or CSAT, 10 for NPS (0 .. 10)
    complaints_before: int = 0
    ignored_before: bool = False
    customer_since: datetime | None = None
    order_count: int | None = None
    lifetime_value: float | None = None
    now: datetime | None = None  # needed for tenure; aware


@dataclass(frozen=True)
class PriorityRules:
    """Thresholds of the priority rules; every step that applies adds its reason."""

    critical_severity: int = 4
    high_severity: int = 3
    angry_at: float = 0.5  # anger or frustration score that counts as angry
    intense_at: float = 0.7
    very_negative_at: float = -0.6
    public_reach_p1: int = 10_000  # public, angry and this many followers: P1
    notable_reach: int = 1_000
    loyal_years: float = 2.0
    loyal_orders: int = 10
    new_customer_days: int = 90
    valuable_lifetime_value: float = 1_000.0
    repeat_complaints: int = 2
    # points to reach each priority when no rule forces P1
    p1_points: int = 6
    p2_points: int = 4
    p3_points: int = 1
    severity_points: tuple[int, int, int, int] = (0, 2, 4, 6)  # for severity 1, 2, 3, 4


DEFAULT_RULES = PriorityRules()


@dataclass(frozen=True)
class PriorityInput:
    """The parts of an analysis that priority looks at."""

    severity: int
    factor_evidence: tuple[tuple[str, str], ...]  # (factor, evidence)
    sentiment: float
    anger: float
    frustration: float
    intensity: float
    needs_response: bool
    response_reason: str


@dataclass(frozen=True)
class PriorityResult:
    priority: Priority
    points: int
    reasons: tuple[str, ...]


def format_count(n: int) -> str:
    """48000 -> "48k", 1250000 -> "1.2M"."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if n >= 10_000:
        return f"{round(n / 1000)}k"
    if n >= 1_000:
        return f"{n / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return str(n)


_FACTOR_PHRASE = {
    "money": "money: {e}",
    "safety": "safety: {e}",
    "legal": "legal threat: {e}",
    "repeated": "repeated failure: {e}",
    "ignored": "ignored: {e}",
    "churn": "threatens to leave: {e}",
    "vulnerable": "vulnerable customer: {e}",
}


def _factor_reason(factor: str, evidence: str) -> str:
    if factor == "money" and any(w in evidence.lower() for w in ("twice", "double")):
        return "charged twice"
    return _FACTOR_PHRASE.get(factor, factor + ": {e}").format(e=evidence.lower())


def _tenure_years(ctx: AnalysisContext) -> float | None:
    if ctx.customer_since is None or ctx.now is None:
        return None
    return (ctx.now - ctx.customer_since).days / 365.25


def _score_reason(ctx: AnalysisContext) -> str | None:
    """A reason for a low score, or None when there is none or it is not low."""
    if ctx.score is None:
        return None
    score = ctx.score
    shown = f"{score:g}"
    if ctx.score_scale == 10:
        return f"NPS {shown} (detractor)" if score <= 6 else None
    if score <= 0.4 * ctx.score_scale:
        return (
            f"{shown}-star rating" if ctx.score_scale == 5 else f"score {shown}/{ctx.score_scale}"
        )
    return None


def decide_priority(
    item: PriorityInput, ctx: AnalysisContext, *, rules: PriorityRules = DEFAULT_RULES
) -> PriorityResult:
    """Priority and its reasons. P1: critical severity, or a public, angry post with a large reach;
    otherwise points from severity, emotion, exposure and the customer's value and history."""
    reasons: list[str] = []
    points = rules.severity_points[min(4, max(1, item.severity)) - 1]
    forced_p1 = False
    angry = max(item.anger, item.frustration) >= rules.angry_at

    if not item.needs_response:
        return PriorityResult(Priority.P4, 0, (f"no response needed: {item.response_reason}",))

    if item.severity >= rules.critical_severity:
        forced_p1 = True
        reasons.append("critical severity")
    elif item.severity >= rules.high_severity:
        reasons.append("high severity")
    reasons.extend(_factor_reason(f, e) for f, e in item.factor_evidence)

    if ctx.public:
        reach = ctx.reach or 0
        where = f"public {ctx.channel} post" if ctx.channel else "public post"
        if reach:
            reasons.append(f"{where}, {format_count(reach)} followers")
        else:
            reasons.append(where)
        points += 1
        if reach >= rules.notable_reach:
            points += 1
        if reach >= rules.public_reach_p1 and angry:
            forced_p1 = True

    if item.anger >= rules.angry_at:
        reasons.append("angry")
        points += 1
    elif item.frustration >= rules.angry_at:
        reasons.append("frustrated")
        points += 1
    if item.sentiment <= rules.very_negative_at:
        reasons.append("very negative")
        points += 1
    elif item.intensity >= rules.intense_at:
        reasons.append("intense")
        points += 1

    score_reason = _score_reason(ctx)
    if score_reason:
        reasons.append(score_reason)
        points += 1

    years = _tenure_years(ctx)
    if ctx.ignored_before and "ignored" not in {f for f, _ in item.factor_evidence}:
        reasons.append("ignored before")
        points += 1
    if ctx.complaints_before >= rules.repeat_complaints:
        reasons.append(f"repeat complainant ({ctx.complaints_before} before)")
        points += 1
    if (years is not None and years >= rules.loyal_years) or (
        ctx.order_count is not None and ctx.order_count >= rules.loyal_orders
    ):
        since = ctx.customer_since.year if ctx.customer_since is not None else None
        if since is not None and years is not None and years >= rules.loyal_years:
            reasons.append(f"loyal customer since {since}")
        else:
            reasons.append(f"loyal customer, {ctx.order_count} orders")
        points += 1
    elif years is not None and years * 365.25 <= rules.new_customer_days:
        reasons.append("new customer")
    if ctx.lifetime_value is not None and ctx.lifetime_value >= rules.valuable_lifetime_value:
        reasons.append(f"lifetime value {format_count(round(ctx.lifetime_value))}")
        points += 1

    if forced_p1 or points >= rules.p1_points:
        priority = Priority.P1
    elif points >= rules.p2_points:
        priority = Priority.P2
    elif points >= rules.p3_points:
        priority = Priority.P3
    else:
        priority = Priority.P4
    if not reasons:
        reasons.append(f"{item.response_reason}, nothing urgent")
    return PriorityResult(priority, points, tuple(reasons))
