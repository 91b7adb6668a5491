"""CFPB complaint narratives: product and issue learned as a company's own taxonomy.

5-fold stratified cross-validation over the complaints that have a narrative; labels with fewer
than 10 narratives are folded into "other". There is no published anchor.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from amends.analysis import train_taxonomy
from evals._common import data_dir, emit

MIN_PER_LABEL = 10
FOLDS = 5


def cross_validate(texts: list[str], labels: list[str]) -> dict[str, float]:
    counts = Counter(labels)
    labels = [lab if counts[lab] >= MIN_PER_LABEL else "other" for lab in labels]
    rng = np.random.default_rng(0)
    fold = np.empty(len(labels), dtype=int)
    for lab in set(labels):
        idx = rng.permutation([i for i, x in enumerate(labels) if x == lab])
        fold[idx] = np.arange(len(idx)) % FOLDS
    correct = 0
    for k in range(FOLDS):
        train = [i for i in range(len(texts)) if fold[i] != k]
        test = [i for i in range(len(texts)) if fold[i] == k]
        model = train_taxonomy([texts[i] for i in train], [labels[i] for i in train])
        predicted = model.predict([texts[i] for i in test])
        correct += sum(p == labels[i] for (p, _), i in zip(predicted, test, strict=True))
    majority = Counter(labels).most_common(1)[0][1] / len(labels)
    return {
        "accuracy": round(correct / len(texts), 4),
        "labels": len(set(labels)),
        "majority_baseline": round(majority, 4),
    }


def main() -> None:
    data, _ = data_dir(__doc__.splitlines()[0], "cfpb_complaints/complaints.csv")
    with (data / "cfpb_complaints" / "complaints.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["Consumer complaint narrative"].strip()]
    texts = [r["Consumer complaint narrative"] for r in rows]
    emit(
        {
            "eval": "cfpb_taxonomy",
            "narratives": len(rows),
            "folds": FOLDS,
            "product": cross_validate(texts, [r["Product"] for r in rows]),
            "issue": cross_validate(texts, [r["Issue"] for r in rows]),
        }
    )


if __name__ == "__main__":
    main()
