"""Banking77 through taxonomy learning: the full training set and 10 examples per intent.

Published: fine-tuned BERT 93.66 % (full); USE+ConveRT 85.19 % (10 per intent),
Casanueva et al. 2020, arXiv:2003.04807.
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from amends.analysis import train_taxonomy
from evals._common import data_dir, emit


def load(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def accuracy(
    train: tuple[list[str], list[str]], test: tuple[list[str], list[str]]
) -> tuple[float, float, float]:
    """(accuracy, seconds to learn, test texts per second)."""
    started = time.perf_counter()
    model = train_taxonomy(*train)
    learned = time.perf_counter() - started
    started = time.perf_counter()
    predicted = [label for label, _ in model.predict(test[0])]
    rate = len(test[0]) / (time.perf_counter() - started)
    acc = float(np.mean([p == g for p, g in zip(predicted, test[1], strict=True)]))
    return acc, learned, rate


def main() -> None:
    data, args = data_dir(__doc__.splitlines()[0], "banking77/train.csv", "banking77/test.csv")
    train = load(data / "banking77" / "train.csv")
    test = load(data / "banking77" / "test.csv")
    full_acc, full_s, full_rate = accuracy(train, test)
    few: list[float] = []
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        labels = np.asarray(train[1])
        picks = np.concatenate(
            [rng.choice(np.nonzero(labels == k)[0], 10, replace=False) for k in sorted(set(labels))]
        )
        few.append(accuracy(([train[0][i] for i in picks], [train[1][i] for i in picks]), test)[0])
    emit(
        {
            "eval": "banking77",
            "test_texts": len(test[0]),
            "full": {
                "accuracy": round(full_acc, 4),
                "published_bert": 0.9366,
                "learn_seconds": round(full_s, 1),
                "classify_texts_per_second": round(full_rate),
            },
            "ten_per_intent": {
                "accuracy_mean": round(statistics.mean(few), 4),
                "accuracy_min": round(min(few), 4),
                "accuracy_max": round(max(few), 4),
                "seeds": args.seeds,
                "published_use_convert": 0.8519,
            },
        }
    )


if __name__ == "__main__":
    main()
