"""Emotions (GoEmotions' 27 + neutral, Ekman's 7) and a polarity head, from one committed model.

One featurizer and the static embedding feed three groups of binary heads: the 28 GoEmotions
labels, the 7 Ekman labels and a positive-vs-negative head used by `sentiment`. Thresholds were
tuned per label on the GoEmotions dev split.

Where the optional encoder is installed (`amends[encoder]`), the GoEmotions and Ekman heads are
blended with heads over all-MiniLM-L6-v2 fine-tuned on GoEmotions (a committed low-rank adapter,
`emotion_adapter.npz`, built by scripts/finetune_emotions.py); each head's share and threshold
were chosen on the dev split. `AMENDS_ENCODER=off` keeps to the default heads.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np

from amends.analysis import _resources
from amends.analysis import encoder as _encoder
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


log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TunedHeads:
    """Heads over the fine-tuned encoder's sentence vectors, and how they blend with the
    default heads of an `EmotionModel` (arrays over that model's heads)."""

    columns: tuple[int, ...]  # the model's head index of each output
    coef: F32  # dim x outputs
    bias: F32
    share: F32  # per model head: the tuned heads' share of the probability (0: not blended)
    thresholds: F32  # per model head, for the blended probabilities
    encoder: _encoder.SentenceEncoder

    def own(self, texts: Sequence[str]) -> F32:
        """The tuned heads' probabilities alone (len(texts) x outputs)."""
        out: F32 = sigmoid(self.encoder.embed(texts) @ self.coef + self.bias).astype(np.float32)
        return out

    def blend(self, texts: Sequence[str], default: F32) -> F32:
        """The default heads' probabilities blended with the tuned heads'."""
        tuned = default.copy()
        tuned[:, list(self.columns)] = self.own(texts)
        out: F32 = ((1 - self.share) * default + self.share * tuned).astype(np.float32)
        return out


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
    tuned: TunedHeads | None = None  # with the encoder extra (see `with_encoder`)

    def probabilities(self, texts: Sequence[str], *, embeddings: F32 | None = None) -> F32:
        """Probability per head (len(texts) x len(heads))."""
        emb = _resources.embedding().embed(texts) if embeddings is None else embeddings
        p_tfidf = sigmoid(self.featurizer.transform(texts).dot(self.tfidf_coef) + self.tfidf_bias)
        p_emb = sigmoid(emb @ self.emb_coef + self.emb_bias)
        w = self.emb_weight
        out: F32 = ((1 - w) * p_tfidf + w * p_emb).astype(np.float32)
        if self.tuned is not None and len(texts):
            out = self.tuned.blend(texts, out)
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


def read_adapter(arrays: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of an `emotion_adapter.npz`."""
    meta = json.loads(bytes(np.asarray(arrays["meta"], dtype=np.uint8)).decode("utf-8"))
    return meta, {name: np.asarray(arrays[name]) for name in arrays if name != "meta"}


def with_encoder(model: EmotionModel, arrays: Any, *, blend: bool = True) -> EmotionModel:
    """`model` with the fine-tuned encoder's heads. `blend=False` (used when choosing the blend)
    sets every share to 0 and keeps the model's thresholds. ValueError if the adapter does not
    fit the model (checked before the encoder is built)."""
    meta, adapter = read_adapter(arrays)
    names = [*(f"go:{g}" for g in GOEMOTIONS), *(f"ekman:{e}" for e in EKMAN)]
    if meta.get("base") != _encoder.NAME or not set(names) <= set(model.heads):
        raise ValueError("the emotion adapter was not made for this model")
    columns = tuple(model.heads.index(n) for n in names)
    share = np.zeros(len(model.heads), dtype=np.float32)
    thresholds = model.thresholds
    if blend:
        share = np.asarray(adapter["share"], dtype=np.float32)
        thresholds = np.asarray(adapter["thresholds"], dtype=np.float32)
    coef = np.ascontiguousarray(adapter["head.weight"].T, dtype=np.float32)
    heads = (len(model.heads),)
    if coef.shape[1] != len(columns) or share.shape != heads or thresholds.shape != heads:
        raise ValueError("the emotion adapter's heads do not match the model's")
    tuned = TunedHeads(
        columns=columns,
        coef=coef,
        bias=np.asarray(adapter["head.bias"], dtype=np.float32),
        share=share,
        thresholds=thresholds,
        # the length it was fine-tuned on: longer texts cost more and were never learned from
        encoder=_encoder.adapted(adapter, max_tokens=int(meta.get("max_tokens", 64))),
    )
    return replace(model, thresholds=thresholds, tuned=tuned)


def adapter_fits(arrays: Any) -> bool:
    """Whether the installed encoder's weights are the ones the adapter was trained on."""
    meta, _ = read_adapter(arrays)
    return bool(meta.get("base_sha256") == _encoder.weights_sha256())


@cache
def default_model() -> EmotionModel:
    """The committed emotion model (loaded once), with the fine-tuned encoder's heads where the
    encoder is installed and switched on (`AMENDS_ENCODER` is read at this first load). An
    adapter that does not fit is skipped with a warning: the default heads still answer."""
    raw = _resources.model_bytes(_resources.EMOTIONS_FILE)
    model = EmotionModel.from_arrays(np.load(io.BytesIO(raw), allow_pickle=False))
    if not (_encoder.available() and _resources.has_model(_resources.EMOTION_ADAPTER_FILE)):
        return model
    arrays = _resources.model_arrays(_resources.EMOTION_ADAPTER_FILE)
    meta, _ = read_adapter(arrays)
    problem = None
    if "share" not in arrays:
        problem = "it has no blend (scripts/build_models.py --only emotion_blend)"
    elif meta.get("blended_with") != hashlib.sha256(raw).hexdigest():
        problem = f"its blend was made for another {_resources.EMOTIONS_FILE} (rebuild the blend)"
    elif not adapter_fits(arrays):
        problem = f"the installed {_encoder.NAME} weights are not the ones it was trained on"
    if problem is None:
        try:
            return with_encoder(model, arrays)
        except ValueError as exc:
            problem = str(exc)
    log.warning("emotion adapter skipped: %s", problem)
    return model


def desk_emotions(model: EmotionModel, calibrated: F32) -> list[dict[str, float]]:
    """Per text, the desk's five emotions (0 .. 1) from calibrated GoEmotions scores."""
    go = {h.split(":", 1)[1]: i for i, h in enumerate(model.heads) if h.startswith("go:")}
    cols = {name: [go[g] for g in members] for name, members in DESK_EMOTIONS.items()}
    grouped = {name: calibrated[:, idx].max(axis=1) for name, idx in cols.items()}
    return [
        {name: round(float(values[i]), 3) for name, values in grouped.items()}
        for i in range(calibrated.shape[0])
    ]
