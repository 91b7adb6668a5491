from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from amends.analysis import (
    Analysis,
    AnalysisContext,
    Category,
    Factor,
    Remedy,
    analyze,
    analyze_many,
    detect_language,
)


def test_angry_public_double_charge_is_p1_with_reasons() -> None:
    result = analyze(
        "I was CHARGED TWICE for the same order and nobody has replied to my emails. "
        "This is the third time. Refund me now or I'm switching to another bank!!",
        context=AnalysisContext(
            channel="X",
            public=True,
            reach=48_000,
            customer_since=datetime(2019, 4, 1, tzinfo=UTC),
            now=datetime(2026, 1, 1, tzinfo=UTC),
        ),
    )
    assert result.priority == "P1"
    assert result.sentiment < 0
    factors = {f.factor for f in result.severity.factors}
    assert {Factor.MONEY, Factor.IGNORED, Factor.REPEATED, Factor.CHURN} <= factors
    assert result.severity.level == 4
    assert result.remedy.remedy is Remedy.REFUND
    assert result.needs_response
    assert "charged twice" in result.reasons
    assert "public X post, 48k followers" in result.reasons
    assert "loyal customer since 2019" in result.reasons
    assert result.category.label == Category.BILLING
    assert result.language == "en"


def test_thanks_needs_no_response() -> None:
    result = analyze("Thank you so much, the team was brilliant today!")
    assert not result.needs_response
    assert result.priority == "P4"
    assert result.sentiment > 0.3
    assert result.emotions.joy > result.emotions.anger


def test_to_dict_is_json_ready() -> None:
    data = analyze("My parcel is late again, where is it?").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) >= {
        "sentiment",
        "emotions",
        "severity",
        "category",
        "remedy",
        "needs_response",
        "language",
        "priority",
        "reasons",
    }
    assert set(data["emotions"]) == {"anger", "frustration", "sadness", "fear", "joy", "intensity"}
    assert all(0 <= v <= 1 for v in data["emotions"].values())


def test_ignored_before_comes_from_history() -> None:
    result = analyze("The app is broken", context=AnalysisContext(ignored_before=True))
    assert [(f.factor, f.evidence) for f in result.severity.factors] == [
        (Factor.IGNORED, "customer history")
    ]


def test_batch_equals_single() -> None:
    texts = ["I love it", "It caught fire!", "", "Où est ma commande ? Je suis très déçu"]
    batch = analyze_many(texts)
    assert batch == [analyze(t) for t in texts]
    assert all(isinstance(a, Analysis) for a in batch)
    assert batch[1].severity.level == 4
    assert batch[2].needs_response is False


def test_contexts_must_match_texts() -> None:
    with pytest.raises(ValueError, match="one entry per text"):
        analyze_many(["a", "b"], [None])


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("My order has not arrived and I want to know why", "en"),
        ("Mi pedido no ha llegado y quiero saber por qué", "es"),
        ("Ma commande n'est pas arrivée et je suis très déçu", "fr"),
        ("Meine Bestellung ist nicht angekommen und ich bin sauer", "de"),
        ("Il mio ordine non è arrivato e sono molto arrabbiato", "it"),
        ("Mijn bestelling is niet aangekomen en ik ben boos", "nl"),
        ("Мой заказ не пришёл", "ru"),
        ("我的订单还没有到", "zh"),
        ("注文した商品がまだ届きません", "ja"),
        ("123 456", "und"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_default_analysis_never_imports_torch_or_sklearn() -> None:
    code = (
        "import sys\n"
        "from amends.analysis import analyze\n"
        "analyze('I was charged twice, refund me')\n"
        "print(sorted(m for m in ('torch', 'sklearn', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


def test_company_taxonomy_adds_custom_category() -> None:
    from amends.analysis import train_taxonomy

    model = train_taxonomy(
        ["parcel late", "where is my parcel", "package not here", "delivery slow"] * 2
        + ["rude driver", "driver shouted", "driver was rude", "unfriendly driver"] * 2,
        ["late"] * 8 + ["rude"] * 8,
    )
    result = analyze("The driver was so rude to me", taxonomy=model)
    assert result.custom_category is not None
    assert result.custom_category.label == "rude"
    assert result.to_dict()["custom_category"]["label"] == "rude"
    assert analyze("The driver was so rude to me").custom_category is None
