"""`analyze` / `analyze_many`: every signal of one complaint text, batched for speed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

import numpy as np

from amends.analysis import _resources, emotions, rules, sentiment
from amends.analysis.language import detect_language
from amends.analysis.priority import (
    DEFAULT_RULES,
    AnalysisContext,
    PriorityInput,
    PriorityRules,
    decide_priority,
)
from amends.analysis.taxonomy import TaxonomyModel

MODEL_VERSION = "2026.11-1"
# the rules read at most this much of a text: evidence is in the opening of even a long letter
RULES_MAX_CHARS = 20_000


class Category(StrEnum):
    """The default recovery taxonomy."""

    BILLING = "billing"
    REFUNDS = "refunds"
    DELIVERY_DELAY = "delivery_delay"
    WRONG_OR_DAMAGED_ITEM = "wrong_or_damaged_item"
    PRODUCT_DEFECT = "product_defect"
    APP_OR_WEBSITE_FAULT = "app_or_website_fault"
    ACCOUNT_ACCESS = "account_access"
    WAITING_NO_RESPONSE = "waiting_no_response"
    STAFF_BEHAVIOUR = "staff_behaviour"
    UNWANTED_MARKETING = "unwanted_marketing"
    CANCELLATION = "cancellation"
    OTHER = "other"


CATEGORY_TITLES: dict[Category, str] = {
    Category.BILLING: "Billing and overcharges",
    Category.REFUNDS: "Refunds",
    Category.DELIVERY_DELAY: "Delivery delay",
    Category.WRONG_OR_DAMAGED_ITEM: "Wrong or damaged item",
    Category.PRODUCT_DEFECT: "Product defect",
    Category.APP_OR_WEBSITE_FAULT: "App or website fault",
    Category.ACCOUNT_ACCESS: "Account access",
    Category.WAITING_NO_RESPONSE: "Waiting and no response",
    Category.STAFF_BEHAVIOUR: "Staff behaviour",
    Category.UNWANTED_MARKETING: "Unwanted marketing",
    Category.CANCELLATION: "Cancellation",
    Category.OTHER: "Other",
}


@dataclass(frozen=True)
class Emotions:
    anger: float
    frustration: float
    sadness: float
    fear: float
    joy: float
    intensity: float  # overall emotional intensity, 0 .. 1


@dataclass(frozen=True)
class SeverityFactor:
    factor: rules.Factor
    evidence: str  # the words that raised it, or "customer history"


@dataclass(frozen=True)
class Severity:
    level: int  # 1 minor .. 4 critical
    factors: tuple[SeverityFactor, ...]


@dataclass(frozen=True)
class CategoryGuess:
    label: str
    confidence: float


@dataclass(frozen=True)
class RemedyAsked:
    remedy: rules.Remedy  # the main one, or NONE
    evidence: str | None
    all: tuple[rules.Remedy, ...]


@dataclass(frozen=True)
class Analysis:
    """Everything the desk derives from one text; `to_dict` is JSON-ready."""

    sentiment: float  # -1 .. 1
    emotions: Emotions
    severity: Severity
    category: CategoryGuess
    remedy: RemedyAsked
    needs_response: bool
    response_reason: rules.ResponseReason
    language: str
    priority: str  # P1 .. P4
    reasons: tuple[str, ...]
    custom_category: CategoryGuess | None = None  # from the company's own taxonomy, if given
    model_version: str = MODEL_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only."""
        e = self.emotions
        return {
            "sentiment": self.sentiment,
            "emotions": {
                "anger": e.anger,
                "frustration": e.frustration,
                "sadness": e.sadness,
                "fear": e.fear,
                "joy": e.joy,
                "intensity": e.intensity,
            },
            "severity": {
                "level": self.severity.level,
                "factors": [
                    {"factor": f.factor.value, "evidence": f.evidence}
                    for f in self.severity.factors
                ],
            },
            "category": {"label": self.category.label, "confidence": self.category.confidence},
            "custom_category": None
            if self.custom_category is None
            else {
                "label": self.custom_category.label,
                "confidence": self.custom_category.confidence,
            },
            "remedy": {
                "asked": self.remedy.remedy.value,
                "evidence": self.remedy.evidence,
                "all": [r.value for r in self.remedy.all],
            },
            "needs_response": self.needs_response,
            "response_reason": self.response_reason.value,
            "language": self.language,
            "priority": self.priority,
            "reasons": list(self.reasons),
            "model_version": self.model_version,
        }


@cache
def default_category_model() -> TaxonomyModel:
    """The committed model of the default recovery taxonomy."""
    return TaxonomyModel.from_bytes(_resources.model_bytes(_resources.CATEGORY_FILE))


_SHOUT = re.compile(r"\b[A-Z]{3,}\b")
_WORDS = re.compile(r"\b\w+\b")


def _intensity(text: str, strongest: float, compound: float) -> float:
    """0 .. 1: the strongest emotion, how polar the wording is, and shouting (caps, !!!)."""
    words = max(1, len(_WORDS.findall(text)))
    caps = min(1.0, 4 * len(_SHOUT.findall(text)) / words)
    bangs = min(1.0, text.count("!") / 3)
    value = 0.6 * strongest + 0.25 * abs(compound) + 0.15 * max(caps, bangs)
    return round(min(1.0, value), 3)


def analyze_many(
    texts: Sequence[str],
    contexts: Sequence[AnalysisContext | None] | None = None,
    *,
    priority_rules: PriorityRules = DEFAULT_RULES,
    taxonomy: TaxonomyModel | None = None,
) -> list[Analysis]:
    """Analyse a batch (model inference is vectorised over it). `contexts`, if given, has one
    entry per text; `taxonomy`, a company's own, adds `custom_category`."""
    if contexts is not None and len(contexts) != len(texts):
        raise ValueError("contexts must have one entry per text")
    if not texts:
        return []
    emotion_model = emotions.default_model()
    # analyses made with the fine-tuned encoder's emotions say so
    version = MODEL_VERSION if emotion_model.tuned is None else f"{MODEL_VERSION}+encoder"
    emb = _resources.embedding().embed(texts)
    proba = emotion_model.probabilities(texts, embeddings=emb)
    calibrated = emotion_model.calibrated(proba)
    desk = emotions.desk_emotions(emotion_model, calibrated)
    polarity_col = emotion_model.index("polarity")[0]
    go_cols = emotion_model.index("go")
    neutral_col = next(i for i in go_cols if emotion_model.heads[i] == "go:neutral")
    strongest = np.delete(calibrated[:, go_cols], go_cols.index(neutral_col), axis=1).max(axis=1)
    categories = default_category_model().predict(texts, embeddings=emb)
    custom = taxonomy.predict(texts, embeddings=emb) if taxonomy is not None else None

    out: list[Analysis] = []
    for i, text in enumerate(texts):
        ctx = (contexts[i] if contexts is not None else None) or AnalysisContext()
        compound = sentiment.vader_compound(text)
        score = sentiment.blend(compound, float(proba[i, polarity_col]))
        head = text[:RULES_MAX_CHARS]
        found = rules.find_factors(head)
        factors = [SeverityFactor(rules.Factor(m.name), m.evidence) for m in found]
        if ctx.ignored_before and all(f.factor is not rules.Factor.IGNORED for f in factors):
            factors.append(SeverityFactor(rules.Factor.IGNORED, "customer history"))
        level = rules.severity_level([f.factor.value for f in factors])
        remedies = rules.find_remedies(head)
        emo = desk[i]
        need = rules.needs_response(
            head,
            sentiment=score,
            factors=[f.factor.value for f in factors],
            remedies=[r.name for r in remedies],
            negative_emotion=max(emo["anger"], emo["frustration"], emo["sadness"], emo["fear"]),
        )
        intensity = _intensity(head, float(strongest[i]), compound)
        result = decide_priority(
            PriorityInput(
                severity=level,
                factor_evidence=tuple((f.factor.value, f.evidence) for f in factors),
                sentiment=score,
                anger=emo["anger"],
                frustration=emo["frustration"],
                intensity=intensity,
                needs_response=need.needed,
                response_reason=need.reason.value,
            ),
            ctx,
            rules=priority_rules,
        )
        label, confidence = categories[i]
        out.append(
            Analysis(
                sentiment=score,
                emotions=Emotions(intensity=intensity, **emo),
                severity=Severity(level, tuple(factors)),
                category=CategoryGuess(label, confidence),
                remedy=RemedyAsked(
                    remedy=rules.Remedy(remedies[0].name) if remedies else rules.Remedy.NONE,
                    evidence=remedies[0].evidence if remedies else None,
                    all=tuple(rules.Remedy(r.name) for r in remedies),
                ),
                needs_response=need.needed,
                response_reason=need.reason,
                language=detect_language(text),
                priority=result.priority.value,
                reasons=result.reasons,
                custom_category=CategoryGuess(*custom[i]) if custom is not None else None,
                model_version=version,
            )
        )
    return out


def analyze(
    text: str,
    *,
    context: AnalysisContext | None = None,
    priority_rules: PriorityRules = DEFAULT_RULES,
    taxonomy: TaxonomyModel | None = None,
) -> Analysis:
    """Analyse one text (use `analyze_many` for batches: it is much faster per text)."""
    return analyze_many([text], [context], priority_rules=priority_rules, taxonomy=taxonomy)[0]
