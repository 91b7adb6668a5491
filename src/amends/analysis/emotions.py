"""Emotions (GoEmotions' 27 + neutral, Ekman's 7) and a polarity head, from one committed model.

One featurizer and the static embedding feed three groups of binary heads: the 28 GoEmotions
labels, the 7 Ekman labels and a positive-vs-negative head used by `sentiment`. Thresholds were
tuned per label on the GoEmotions dev split.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from amends.analysis import _resources
from amends.analysis.features import F32, TfidfFeaturizer, sigmoid

GOEMOTIONS = (
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
)
EKMAN = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
POLARITY = "positive"

# the desk's five emotions, from GoEmotions labels
DESK_EMOTIONS: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "disgust"),
    "frustration": ("annoyance", "disapproval", "disappointment"),
    "sadness": ("sadness", "grief", "remorse", "disappointment"),
    "fear": ("fear", "nervousness"),
    "joy": ("joy", "gratitude", "amusement", "love", "excitement", "relief", "admiration"),
}


@dataclass(frozen=True, eq=False)
class EmotionModel:
    """Binary heads, each the average of a TF-IDF and an embedding logistic regression."""

    heads: tuple[str, ...]  # "go:anger", "ekman:fear", "polarity:positive"
    featurizer: TfidfFeaturizer
    tfidf_coef: F32  # n_features x heads
    tfidf_bias: F32
    emb_coef: F32  # dim x heads
    emb_bias: F32
    emb_weight: F32  # per head: the embedding half's share of the probability
    thresholds: F32

    def probabilities(self, texts: Sequence[str], *, embeddings: F32 | None = None) -> F32:
        """Probability per head (len(texts) x len(heads))."""
        emb = _resources.embedding().embed(texts) if embeddings is None else embeddings
        p_tfidf = sigmoid(self.featurizer.transform(texts).dot(self.tfidf_coef) + self.tfidf_bias)
        p_emb = sigmoid(emb @ self.emb_coef + self.emb_bias)
        w = self.emb_weight
        out: F32 = ((1 - w) * p_tfidf + w * p_emb).astype(np.float32)
        return out

    def calibrated(self, proba: F32) -> F32:
        """Map each probability so that its threshold lands on 0.5 (a score of 0 .. 1)."""
        t = self.thresholds
        low = 0.5 * proba / t
        high = 0.5 + 0.5 * (proba - t) / (1 - t)
        return np.where(proba < t, low, high).astype(np.float32)

    def index(self, group: str) -> list[int]:
        """Head indices of one group ("go", "ekman", "polarity") in label order."""
        return [i for i, h in enumerate(self.heads) if h.split(":", 1)[0] == group]

    def to_bytes(self) -> bytes:
        """`.npz` of plain arrays."""
        buf = io.BytesIO()
        arrays: dict[str, Any] = {
            "meta": np.asarray(json.dumps({"heads": list(self.heads)})),
            "tfidf_coef": self.tfidf_coef.astype(np.float16),
            "tfidf_bias": self.tfidf_bias.astype(np.float32),
            "emb_coef": self.emb_coef.astype(np.float16),
            "emb_bias": self.emb_bias.astype(np.float32),
            "thresholds": self.thresholds.astype(np.float32),
            "emb_weight": self.emb_weight.astype(np.float32),
            **self.featurizer.to_arrays("f_"),
        }
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_arrays(cls, arrays: Any) -> EmotionModel:
        """Inverse of `to_bytes` (after `np.load`)."""
        meta = json.loads(str(arrays["meta"]))
        return cls(
            heads=tuple(meta["heads"]),
            featurizer=TfidfFeaturizer.from_arrays(arrays, "f_"),
            tfidf_coef=np.asarray(arrays["tfidf_coef"], dtype=np.float32),
            tfidf_bias=np.asarray(arrays["tfidf_bias"], dtype=np.float32),
            emb_coef=np.asarray(arrays["emb_coef"], dtype=np.float32),
            emb_bias=np.asarray(arrays["emb_bias"], dtype=np.float32),
            emb_weight=np.asarray(arrays["emb_weight"], dtype=np.float32),
            thresholds=np.asarray(arrays["thresholds"], dtype=np.float32),
        )


@cache
def default_model() -> EmotionModel:
    """The committed emotion model (loaded once)."""
    return EmotionModel.from_arrays(_resources.model_arrays(_resources.EMOTIONS_FILE))


def desk_emotions(model: EmotionModel, calibrated: F32) -> list[dict[str, float]]:
    """Per text, the desk's five emotions (0 .. 1) from calibrated GoEmotions scores."""
    go = {h.split(":", 1)[1]: i for i, h in enumerate(model.heads) if h.startswith("go:")}
    cols = {name: [go[g] for g in members] for name, members in DESK_EMOTIONS.items()}
    grouped = {name: calibrated[:, idx].max(axis=1) for name, idx in cols.items()}
    return [
        {name: round(float(values[i]), 3) for name, values in grouped.items()}
        for i in range(calibrated.shape[0])
    ]
