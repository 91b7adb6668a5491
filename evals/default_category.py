"""Accuracy of the committed default-category model on hand-written complaints (evals/data)."""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from amends.analysis import default_category_model
from evals._common import emit

DATA = Path(__file__).resolve().parent / "data" / "default_category.csv"


def main() -> None:
    with DATA.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    texts = [r["text"] for r in rows]
    gold = [r["label"] for r in rows]
    model = default_category_model()
    started = time.perf_counter()
    predicted = [label for label, _ in model.predict(texts)]
    seconds = time.perf_counter() - started
    correct = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)
    total = Counter(gold)
    confusions = Counter(
        f"{g} -> {p}" for g, p in zip(gold, predicted, strict=True) if g != p
    ).most_common(10)
    emit(
        {
            "eval": "default_category",
            "texts": len(rows),
            "accuracy": round(sum(correct.values()) / len(rows), 4),
            "per_label_accuracy": {k: round(correct[k] / n, 3) for k, n in sorted(total.items())},
            "top_confusions": dict(confusions),
            "texts_per_second": round(len(rows) / seconds),
        }
    )


if __name__ == "__main__":
    main()
