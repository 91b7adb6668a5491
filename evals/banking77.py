"""Banking77 through taxonomy learning: the full training set and 10 examples per intent.

Published: fine-tuned BERT 93.66 % (full); USE+ConveRT 85.19 % (10 per intent),
Casanueva et al. 2020, arXiv:2003.04807. Figures for the default install, and with the contextual
encoder (`amends[encoder]`) where it is installed.
"""

from __future__ import annotations

import csv
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from amends.analysis import encoder as contextual
from amends.analysis import train_taxonomy
from evals._common import data_dir, emit


def load(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def accuracy(
    train: tuple[list[str], list[str]], test: tuple[list[str], list[str]], *, encoder: bool
) -> tuple[float, float, float]:
    """(accuracy, seconds to learn, test texts per second)."""
    started = time.perf_counter()
    model = train_taxonomy(*train, encoder=encoder)
    learned = time.perf_counter() - started
    started = time.perf_counter()
    predicted = [label for label, _ in model.predict(test[0])]
    rate = len(test[0]) / (time.perf_counter() - started)
    acc = float(np.mean([p == g for p, g in zip(predicted, test[1], strict=True)]))
    return acc, learned, rate


def figures(
    train: tuple[list[str], list[str]],
    test: tuple[list[str], list[str]],
    *,
    seeds: int,
    encoder: bool,
) -> dict[str, object]:
    full_acc, full_s, full_rate = accuracy(train, test, encoder=encoder)
    few: list[float] = []
    few_s: list[float] = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        labels = np.asarray(train[1])
        picks = np.concatenate(
            [rng.choice(np.nonzero(labels == k)[0], 10, replace=False) for k in sorted(set(labels))]
        )
        sample = ([train[0][i] for i in picks], [train[1][i] for i in picks])
        acc, learned, _ = accuracy(sample, test, encoder=encoder)
        few.append(acc)
        few_s.append(learned)
    return {
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
            "per_seed": [round(a, 4) for a in few],
            "learn_seconds_mean": round(statistics.mean(few_s), 1),
            "seeds": seeds,
            "published_use_convert": 0.8519,
        },
    }


def main() -> None:
    data, args = data_dir(__doc__.splitlines()[0], "banking77/train.csv", "banking77/test.csv")
    train = load(data / "banking77" / "train.csv")
    test = load(data / "banking77" / "test.csv")
    result: dict[str, object] = {"eval": "banking77", "test_texts": len(test[0])}
    result["default"] = figures(train, test, seeds=args.seeds, encoder=False)
    if contextual.available():
        result["encoder"] = {
            "name": contextual.NAME,
            **figures(train, test, seeds=args.seeds, encoder=True),
        }
    else:
        result["encoder"] = "not installed (pip install 'amends[encoder]')"
    # peak resident memory of the whole run (Linux reports kilobytes)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    emit(result)


if __name__ == "__main__":
    main()
