"""A company's own taxonomy, learned from labelled examples (a few per label up to many thousands).

The model averages two linear classifiers: one over TF-IDF word and character n-grams (strong with
much data) and one over the package's static sentence embedding (strong with few examples). Where
the optional contextual encoder is installed (`amends[encoder]`, see `encoder.py`), learning adds a
third over its sentence vectors, and the model records that encoder's name: applied where the
encoder is missing, it falls back to its other two classifiers with a warning.
It is stored as numpy arrays and JSON (`to_bytes`), never as a pickle, so a database can keep it
safely.
"""

from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from amends.analysis import _resources
from amends.analysis import encoder as contextual
from amends.analysis.features import F32, TfidfFeaturizer, softmax
from amends.errors import InvalidInput

FORMAT = "amends-taxonomy/1"
# a model with an encoder head: older readers refuse it rather than apply it without the encoder
FORMAT_ENCODER = "amends-taxonomy/2"
MIN_LABELS = 2
# shares of (TF-IDF, static embedding, contextual encoder) in a model learned with the encoder,
# and the encoder classifier's C: chosen on a held-out fifth of Banking77's training set, with
# all of the rest and with 10 examples per intent (evals/README.md)
ENCODER_WEIGHTS = (0.35, 0.15, 0.5)
ENCODER_C = 100.0


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float  # 0 .. 1


@dataclass(frozen=True, eq=False)
class TaxonomyModel:
    """Labels plus the arrays of the two (or three) classifiers; `predict` needs no
    scikit-learn."""

    labels: tuple[str, ...]
    featurizer: TfidfFeaturizer
    tfidf_coef: F32  # n_features x k
    tfidf_bias: F32  # k
    emb_coef: F32  # dim x k
    emb_bias: F32  # k
    emb_weight: float = 0.5
    examples: int = 0
    # the contextual encoder's classifier, where the model was learned with it
    encoder: str | None = None
    enc_coef: F32 | None = None  # encoder dim x k
    enc_bias: F32 | None = None  # k
    enc_weight: float = 0.0  # its share; emb_weight is then the static embedding's share

    def predict_proba(
        self,
        texts: Sequence[str],
        *,
        embeddings: F32 | None = None,
        encoded: F32 | None = None,
    ) -> F32:
        """Probabilities (len(texts) x len(labels)); pass `embeddings` (static) or `encoded`
        (contextual) vectors to reuse computed ones."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        p_tfidf = softmax(self.featurizer.transform(texts).dot(self.tfidf_coef) + self.tfidf_bias)
        w_emb, w_enc = self.emb_weight, self._encoder_share()
        w_tfidf = 1.0 - self.emb_weight - self.enc_weight
        if self.enc_weight > 0 and w_enc <= 0:
            # learned with the encoder but applied without it: the other two, rescaled
            w_tfidf, w_emb = w_tfidf / (w_tfidf + w_emb), w_emb / (w_tfidf + w_emb)
        if w_emb <= 0 and w_enc <= 0:
            return p_tfidf
        total = np.float32(w_tfidf) * p_tfidf
        if w_emb > 0:
            emb = _resources.embedding().embed(texts) if embeddings is None else embeddings
            total += np.float32(w_emb) * softmax(emb @ self.emb_coef + self.emb_bias)
        if w_enc > 0 and self.enc_coef is not None and self.enc_bias is not None:
            enc = contextual.encoder().embed(texts) if encoded is None else encoded
            total += np.float32(w_enc) * softmax(enc @ self.enc_coef + self.enc_bias)
        return np.asarray(total, dtype=np.float32)

    def _encoder_share(self) -> float:
        """The encoder head's share, or 0.0 where there is none or the encoder is missing."""
        if self.encoder is None or self.enc_weight <= 0:
            return 0.0
        if self.encoder != contextual.NAME or not contextual.available():
            warnings.warn(
                f"this taxonomy was learned with the {self.encoder} encoder, which is not "
                "installed here: classifying without it, less accurately "
                "(pip install 'amends[encoder]', or learn the taxonomy again)",
                RuntimeWarning,
                stacklevel=3,
            )
            return 0.0
        return self.enc_weight

    def predict(
        self, texts: Sequence[str], *, embeddings: F32 | None = None
    ) -> list[tuple[str, float]]:
        """One (label, confidence) per text."""
        proba = self.predict_proba(texts, embeddings=embeddings)
        best = proba.argmax(axis=1)
        return [(self.labels[j], round(float(proba[i, j]), 4)) for i, j in enumerate(best)]

    def to_bytes(self) -> bytes:
        """Serialise as an `.npz` of plain arrays (loadable with allow_pickle=False)."""
        meta: dict[str, Any] = {
            "format": FORMAT,
            "labels": list(self.labels),
            "emb_weight": self.emb_weight,
            "examples": self.examples,
        }
        arrays: dict[str, Any] = {
            "meta": np.asarray(json.dumps(meta)),
            "tfidf_coef": self.tfidf_coef.astype(np.float16),
            "tfidf_bias": self.tfidf_bias.astype(np.float32),
            "emb_coef": self.emb_coef.astype(np.float16),
            "emb_bias": self.emb_bias.astype(np.float32),
            **self.featurizer.to_arrays("f_"),
        }
        if self.encoder is not None and self.enc_coef is not None and self.enc_bias is not None:
            meta.update(format=FORMAT_ENCODER, encoder=self.encoder, enc_weight=self.enc_weight)
            arrays["meta"] = np.asarray(json.dumps(meta))
            arrays["enc_coef"] = self.enc_coef.astype(np.float16)
            arrays["enc_bias"] = self.enc_bias.astype(np.float32)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TaxonomyModel:
        """Inverse of `to_bytes`; raises InvalidInput for anything else."""
        try:
            arrays = np.load(io.BytesIO(data), allow_pickle=False)
            meta = json.loads(str(arrays["meta"]))
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise InvalidInput(f"not a taxonomy model: {exc}") from exc
        if meta.get("format") not in (FORMAT, FORMAT_ENCODER):
            raise InvalidInput(f"unsupported taxonomy model format {meta.get('format')!r}")
        with_encoder = meta["format"] == FORMAT_ENCODER
        return cls(
            labels=tuple(str(x) for x in meta["labels"]),
            featurizer=TfidfFeaturizer.from_arrays(arrays, "f_"),
            tfidf_coef=np.asarray(arrays["tfidf_coef"], dtype=np.float32),
            tfidf_bias=np.asarray(arrays["tfidf_bias"], dtype=np.float32),
            emb_coef=np.asarray(arrays["emb_coef"], dtype=np.float32),
            emb_bias=np.asarray(arrays["emb_bias"], dtype=np.float32),
            emb_weight=float(meta["emb_weight"]),
            examples=int(meta.get("examples", 0)),
            encoder=str(meta["encoder"]) if with_encoder else None,
            enc_coef=np.asarray(arrays["enc_coef"], dtype=np.float32) if with_encoder else None,
            enc_bias=np.asarray(arrays["enc_bias"], dtype=np.float32) if with_encoder else None,
            enc_weight=float(meta.get("enc_weight", 0.0)),
        )


def check_examples(texts: Sequence[str], labels: Sequence[str]) -> list[str]:
    """Raise InvalidInput for unusable training data; return the warnings worth showing."""
    if len(texts) != len(labels):
        raise InvalidInput(f"{len(texts)} texts but {len(labels)} labels")
    counts = Counter(labels)
    if len(counts) < MIN_LABELS:
        raise InvalidInput(f"need examples of at least {MIN_LABELS} labels, got {len(counts)}")
    if any(not t.strip() for t in texts):
        raise InvalidInput("some examples have no text")
    return [
        f"label {label!r} has only {n} example{'s' if n > 1 else ''} (8 or more work well)"
        for label, n in sorted(counts.items())
        if n < 8
    ]


def train_taxonomy(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    char_ngrams: bool = True,
    emb_weight: float = 0.5,
    c: float = 30.0,
    balanced: bool = False,
    label_names: bool = True,
    encoder: bool | None = None,
) -> TaxonomyModel:
    """Learn a taxonomy from labelled examples (imports scikit-learn; takes seconds to a minute,
    a few minutes more for many thousands of examples with the encoder).

    `balanced` weighs every label equally however many examples it has. `label_names` adds each
    label's own name ("card_arrival" -> "card arrival") as one more example of it, where the
    name has words: a small help when a label has few examples, none when it has many.
    `encoder` adds a classifier over the contextual encoder's vectors (None: wherever it is
    installed); `emb_weight` is the static embedding's share only without it.
    """
    from amends.analysis import training

    check_examples(texts, labels)
    classes = sorted(set(labels))
    examples = len(texts)
    if label_names:
        names = {label: _label_text(label) for label in classes}
        shared = Counter(names.values())
        # a name that several labels share ("CAT-01", "CAT-02" -> "cat") tells them nothing
        named = [(n, label) for label, n in names.items() if n and shared[n] == 1]
        texts = [*texts, *(name for name, _ in named)]
        labels = [*labels, *(label for _, label in named)]
    big = len(texts) > 2000
    featurizer = training.fit_featurizer(
        texts, char=char_ngrams, min_df=2 if big else 1, max_features=150_000
    )
    x_tfidf = training.to_csr(featurizer.transform(texts), featurizer.n_features)
    t_coef, t_bias = training.fit_softmax(x_tfidf, labels, c=c, classes=classes, balanced=balanced)
    emb = _resources.embedding().embed(texts)
    e_coef, e_bias = training.fit_softmax(emb, labels, c=c, classes=classes, balanced=balanced)
    if encoder is None:
        encoder = contextual.available()
    if encoder:
        vectors = contextual.encoder().embed(texts)
        n_coef, n_bias = training.fit_softmax(
            vectors, labels, c=ENCODER_C, classes=classes, balanced=balanced
        )
        _, emb_share, enc_share = ENCODER_WEIGHTS
        return TaxonomyModel(
            labels=tuple(classes),
            featurizer=featurizer,
            tfidf_coef=training.round_f16(t_coef),
            tfidf_bias=t_bias,
            emb_coef=training.round_f16(e_coef),
            emb_bias=e_bias,
            emb_weight=emb_share,
            examples=examples,
            encoder=contextual.NAME,
            enc_coef=training.round_f16(n_coef),
            enc_bias=n_bias,
            enc_weight=enc_share,
        )
    return TaxonomyModel(
        labels=tuple(classes),
        featurizer=featurizer,
        tfidf_coef=training.round_f16(t_coef),
        tfidf_bias=t_bias,
        emb_coef=training.round_f16(e_coef),
        emb_bias=e_bias,
        emb_weight=emb_weight,
        examples=examples,
    )


_LABEL_WORDS = re.compile(r"[^\W\d_]{2,}")


def _label_text(label: str) -> str:
    """A label's name as text ("Refund_not_showing_up" -> "refund not showing up"), or ""."""
    words = _LABEL_WORDS.findall(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", label))
    return " ".join(words).lower()
