"""Fitting helpers (scikit-learn, imported lazily), used by taxonomy learning and the model build.

Everything fitted here is exported to plain numpy arrays, so prediction never imports scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from amends.analysis.features import F32, SparseRows, TfidfFeaturizer


def fit_featurizer(
    texts: Sequence[str],
    *,
    word_n: int = 2,
    char: bool = False,
    min_df: int = 1,
    max_features: int | None = None,
) -> TfidfFeaturizer:
    """Fit TF-IDF vocabularies and idf weights on `texts`."""
    from sklearn.feature_extraction.text import (
        TfidfVectorizer,
    )

    lowered = [t[:5000] for t in texts]
    word = TfidfVectorizer(
        ngram_range=(1, word_n),
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
        dtype=np.float32,
    ).fit(lowered)
    char_vocab = None
    char_idf = None
    if char:
        cv = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            min_df=min_df,
            max_features=max_features,
            dtype=np.float32,
        ).fit(lowered)
        char_vocab = {str(k): int(v) for k, v in cv.vocabulary_.items()}
        char_idf = cv.idf_.astype(np.float32)
    return TfidfFeaturizer(
        word_vocab={str(k): int(v) for k, v in word.vocabulary_.items()},
        word_idf=word.idf_.astype(np.float32),
        word_n=word_n,
        char_vocab=char_vocab,
        char_idf=char_idf,
    )


def to_csr(rows: SparseRows, n_features: int) -> Any:
    """Scipy CSR matrix of `rows`."""
    from scipy.sparse import csr_matrix

    return csr_matrix((rows.data, rows.indices, rows.indptr), shape=(rows.n_rows, n_features))


def fit_softmax(
    features: Any,
    labels: Sequence[str],
    *,
    c: float,
    classes: Sequence[str],
    balanced: bool = False,
) -> tuple[F32, F32]:
    """Multinomial logistic regression: (coef n_features x k, bias k) in `classes` order."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced" if balanced else None)
    model.fit(features, list(labels))
    fitted = [str(x) for x in model.classes_]
    order = [fitted.index(c_) for c_ in classes]
    coef = np.asarray(model.coef_, dtype=np.float32)
    bias = np.asarray(model.intercept_, dtype=np.float32)
    if len(fitted) == 2:
        # scikit-learn keeps one row for two classes; spread it as +/- half logits
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        bias = np.asarray([-bias[0] / 2, bias[0] / 2], dtype=np.float32)
    return coef[order].T.copy(), bias[order].copy()


def fit_binary(features: Any, targets: Sequence[int], *, c: float) -> tuple[F32, float]:
    """Balanced binary logistic regression: (coef n_features, bias)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=1000, class_weight="balanced")
    model.fit(features, np.asarray(targets))
    return np.asarray(model.coef_[0], dtype=np.float32), float(model.intercept_[0])


def fit_binary_nb(features: Any, targets: Any, *, c: float) -> tuple[F32, float]:
    """NB-weighted balanced logistic regression (Wang & Manning 2012's NBSVM with a logistic
    loss): each feature scaled by its log-count ratio between the two classes, folded back into
    the coefficients, so the result is one linear model over the same features: (coef, bias)."""
    from scipy.sparse import diags

    y = np.asarray(targets).astype(bool)
    pos = np.asarray(features[y].sum(axis=0)).ravel() + 1.0
    neg = np.asarray(features[~y].sum(axis=0)).ravel() + 1.0
    ratio = np.log((pos / pos.sum()) / (neg / neg.sum())).astype(np.float32)
    coef, bias = fit_binary(features @ diags(ratio), y.astype(int).tolist(), c=c)
    return (ratio * coef).astype(np.float32), bias


def round_f16(a: F32) -> F32:
    """Round to float16 precision, so that a saved model predicts exactly as the fitted one."""
    return a.astype(np.float16).astype(np.float32)
