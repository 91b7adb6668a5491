from __future__ import annotations

import pytest

from amends.analysis.rules import (
    Factor,
    Remedy,
    ResponseReason,
    find_factors,
    find_remedies,
    needs_response,
    severity_level,
)


@pytest.mark.parametrize(
    ("text", "factor"),
    [
        ("I was charged twice for one order", Factor.MONEY),
        ("You double charged my card", Factor.MONEY),
        ("My card got charged but the game never came", Factor.MONEY),
        ("There is an unauthorized charge on my account", Factor.MONEY),
        ("You took £45 from my account for nothing", Factor.MONEY),
        ("I'll report you to the FCA", Factor.LEGAL),
        ("I am going to the ombudsman about this", Factor.LEGAL),
        ("Reporting you to the BBB today", Factor.LEGAL),
        ("My lawyer will be in touch", Factor.LEGAL),
        ("I will take you to court", Factor.LEGAL),
        ("The charger caught fire on my desk", Factor.SAFETY),
        ("It got very hot and I'm worried it's a fire risk", Factor.SAFETY),
        ("the battery keeps overheating", Factor.SAFETY),
        ("My son had an allergic reaction to the cake", Factor.SAFETY),
        ("We got food poisoning from your restaurant", Factor.SAFETY),
        ("This is the third time this has happened", Factor.REPEATED),
        ("The app crashed again", Factor.REPEATED),
        ("It keeps happening every week", Factor.REPEATED),
        ("Nobody has responded to my emails", Factor.IGNORED),
        ("I never heard back from your team", Factor.IGNORED),
        ("Cancel my account now", Factor.CHURN),
        ("I'm switching to Vodafone", Factor.CHURN),
        ("I will never shop with you again", Factor.CHURN),
        ("I'm taking my business elsewhere", Factor.CHURN),
        ("My elderly mother was left without heating", Factor.VULNERABLE),
        ("I am disabled and cannot carry it upstairs", Factor.VULNERABLE),
        ("I'm pregnant and was left standing for an hour", Factor.VULNERABLE),
    ],
)
def test_factor_found_with_evidence(text: str, factor: Factor) -> None:
    found = {m.name: m.evidence for m in find_factors(text)}
    assert factor.value in found
    assert found[factor.value].lower() in text.lower()


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("The parcel arrived on time, thanks", Factor.MONEY),
        ("It is not dangerous, just annoying", Factor.SAFETY),
        ("I will never order from you again", Factor.REPEATED),
        ("Lovely staff and quick service", Factor.CHURN),
        ("What time do you open?", Factor.LEGAL),
        ("I will go to the ombudsman", Factor.CHURN),
    ],
)
def test_factor_not_found(text: str, absent: Factor) -> None:
    assert absent.value not in {m.name for m in find_factors(text)}


@pytest.mark.parametrize(
    ("factors", "level"),
    [
        ([], 1),
        (["money"], 2),
        (["churn"], 2),
        (["money", "repeated"], 3),
        (["legal"], 3),
        (["legal", "money"], 4),
        (["safety"], 4),
        (["money", "repeated", "ignored", "churn"], 4),
    ],
)
def test_severity_level(factors: list[str], level: int) -> None:
    assert severity_level(factors) == level


@pytest.mark.parametrize(
    ("text", "remedy"),
    [
        ("I want a full refund", Remedy.REFUND),
        ("Give me my money back", Remedy.REFUND),
        ("Please send a replacement", Remedy.REPLACEMENT),
        ("Send me a new one that works", Remedy.REPLACEMENT),
        ("Cancel my subscription", Remedy.CANCELLATION),
        ("I want an apology from the manager", Remedy.APOLOGY),
        ("Can someone explain what happened?", Remedy.EXPLANATION),
        ("Why did you charge me this fee?", Remedy.EXPLANATION),
        ("I don't want a refund, I want it fixed", Remedy.NONE),
        ("The food was cold", Remedy.NONE),
    ],
)
def test_main_remedy(text: str, remedy: Remedy) -> None:
    found = find_remedies(text)
    assert (found[0].name if found else Remedy.NONE.value) == remedy.value


def test_remedy_order_puts_refund_first() -> None:
    found = [m.name for m in find_remedies("Explain why and refund me")]
    assert found == ["refund", "explanation"]


@pytest.mark.parametrize(
    ("text", "sentiment", "needed", "reason"),
    [
        ("Thank you so much, great service!", 0.8, False, ResponseReason.THANKS),
        ("Good morning everyone", 0.2, False, ResponseReason.CHITCHAT),
        ("lol", 0.3, False, ResponseReason.CHITCHAT),
        ("Click here to earn $500 a day http://x.io http://y.io", 0.4, False, ResponseReason.SPAM),
        ("   ", 0.0, False, ResponseReason.EMPTY),
        ("Do you ship to Canada?", 0.0, True, ResponseReason.QUESTION),
        ("The delivery was awful and cold", -0.6, True, ResponseReason.NEGATIVE),
        ("Thanks for nothing, the app is broken", -0.4, True, ResponseReason.NEGATIVE),
        ("Please call me back about my order", 0.1, True, ResponseReason.REQUEST),
        ("Thanks, but I still pay and yet see ads", 0.3, True, ResponseReason.REQUEST),
        # Redacted names ("XXXX") and working from home are not spam.
        (
            "XXXX is reporting an account of XXXX to Equifax that is not mine, remove it.",
            0.0,
            True,
            ResponseReason.REQUEST,
        ),
        (
            "I work from home and your broadband keeps dropping",
            -0.1,
            True,
            ResponseReason.COMPLAINT,
        ),
        ("Work from home jobs, message me", 0.3, False, ResponseReason.SPAM),
    ],
)
def test_needs_response(text: str, sentiment: float, needed: bool, reason: ResponseReason) -> None:
    factors = [m.name for m in find_factors(text)]
    remedies = [m.name for m in find_remedies(text)]
    result = needs_response(
        text, sentiment=sentiment, factors=factors, remedies=remedies, negative_emotion=0.0
    )
    assert (result.needed, result.reason) == (needed, reason)


def test_a_severity_factor_always_needs_a_response() -> None:
    result = needs_response(
        "charged twice, thanks", sentiment=0.5, factors=["money"], remedies=[], negative_emotion=0
    )
    assert result.needed
    assert result.reason is ResponseReason.COMPLAINT
