from __future__ import annotations

from datetime import UTC, datetime

import pytest

from amends.analysis.priority import (
    AnalysisContext,
    Priority,
    PriorityInput,
    PriorityRules,
    decide_priority,
    format_count,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def item(
    severity: int = 1,
    factors: tuple[tuple[str, str], ...] = (),
    *,
    sentiment: float = -0.3,
    anger: float = 0.1,
    frustration: float = 0.1,
    intensity: float = 0.3,
    needs_response: bool = True,
) -> PriorityInput:
    return PriorityInput(
        severity=severity,
        factor_evidence=factors,
        sentiment=sentiment,
        anger=anger,
        frustration=frustration,
        intensity=intensity,
        needs_response=needs_response,
        response_reason="complaint" if needs_response else "thanks",
    )


@pytest.mark.parametrize(
    ("analysis", "ctx", "expected"),
    [
        (item(4, (("safety", "caught fire"),)), AnalysisContext(), Priority.P1),
        (item(anger=0.8), AnalysisContext(public=True, reach=48_000), Priority.P1),
        (item(anger=0.1), AnalysisContext(public=True, reach=48_000), Priority.P3),
        (item(3, (("legal", "ombudsman"),)), AnalysisContext(), Priority.P2),
        (item(2, (("money", "charged twice"),)), AnalysisContext(), Priority.P3),
        (item(), AnalysisContext(), Priority.P4),
        (item(sentiment=0.5, needs_response=False), AnalysisContext(public=True), Priority.P4),
        (
            item(2, (("money", "charged twice"),), anger=0.7),
            AnalysisContext(customer_since=datetime(2019, 3, 1, tzinfo=UTC), now=NOW),
            Priority.P2,
        ),
        (
            item(3, (("legal", "lawyer"),), anger=0.7, sentiment=-0.8),
            AnalysisContext(lifetime_value=5000.0),
            Priority.P1,
        ),
    ],
)
def test_priority_table(analysis: PriorityInput, ctx: AnalysisContext, expected: Priority) -> None:
    assert decide_priority(analysis, ctx).priority is expected


def test_reasons_explain_the_priority() -> None:
    result = decide_priority(
        item(2, (("money", "charged twice"),), anger=0.8),
        AnalysisContext(
            channel="X",
            public=True,
            reach=48_000,
            customer_since=datetime(2019, 5, 1, tzinfo=UTC),
            now=NOW,
        ),
    )
    assert result.priority is Priority.P1
    assert result.reasons == (
        "charged twice",
        "public X post, 48k followers",
        "angry",
        "loyal customer since 2019",
    )


@pytest.mark.parametrize(
    ("ctx", "reason"),
    [
        (AnalysisContext(score=1, score_scale=5), "1-star rating"),
        (AnalysisContext(score=2, score_scale=10), "NPS 2 (detractor)"),
        (AnalysisContext(complaints_before=3), "repeat complainant (3 before)"),
        (AnalysisContext(ignored_before=True), "ignored before"),
        (AnalysisContext(order_count=25), "loyal customer, 25 orders"),
        (AnalysisContext(lifetime_value=12_500.0), "lifetime value 12k"),
        (
            AnalysisContext(customer_since=datetime(2026, 5, 20, tzinfo=UTC), now=NOW),
            "new customer",
        ),
    ],
)
def test_context_reasons(ctx: AnalysisContext, reason: str) -> None:
    assert reason in decide_priority(item(), ctx).reasons


def test_no_response_needed_is_p4_with_its_reason() -> None:
    result = decide_priority(item(needs_response=False), AnalysisContext(public=True, reach=10**6))
    assert result.priority is Priority.P4
    assert result.reasons == ("no response needed: thanks",)


def test_rules_are_tunable() -> None:
    ctx = AnalysisContext(public=True, reach=2_000)
    angry = item(anger=0.9)
    assert decide_priority(angry, ctx).priority is not Priority.P1
    assert decide_priority(angry, ctx, rules=PriorityRules(public_reach_p1=1_000)).priority is (
        Priority.P1
    )


@pytest.mark.parametrize(
    ("n", "text"), [(950, "950"), (1_200, "1.2k"), (48_000, "48k"), (1_250_000, "1.2M")]
)
def test_format_count(n: int, text: str) -> None:
    assert format_count(n) == text
