"""GoEmotions test macro-F1 of the committed emotion model: 28 labels and Ekman's 7.

Thresholds were tuned per label on the dev split at build time. Published (Demszky et al. 2020):
BERT 0.46 (28 labels), 0.62 (Ekman). The optional contextual encoder (`amends[encoder]`) is not
used by the emotion model: heads over its frozen sentence vectors scored lower than the TF-IDF
heads and did not raise the blend on the dev split (evals/README.md).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from amends.analysis import emotions
from evals._common import data_dir, emit


def read(path: Path, k: int) -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    rows: list[np.ndarray] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        y = np.zeros(k, dtype=bool)
        y[[int(i) for i in parts[1].split(",")]] = True
        texts.append(parts[0])
        rows.append(y)
    return texts, np.stack(rows)


def macro_f1(y: np.ndarray, pred: np.ndarray) -> tuple[float, list[float]]:
    per: list[float] = []
    for j in range(y.shape[1]):
        tp = float(np.sum(pred[:, j] & y[:, j]))
        denom = float(pred[:, j].sum() + y[:, j].sum())
        per.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(per)), per


def main() -> None:
    data, _ = data_dir(
        __doc__.splitlines()[0], "goemotions/original/test.tsv", "goemotions/ekman/test.tsv"
    )
    model = emotions.default_model()
    texts, y28 = read(data / "goemotions" / "original" / "test.tsv", 28)
    _, y7 = read(data / "goemotions" / "ekman" / "test.tsv", 7)
    started = time.perf_counter()
    proba = model.probabilities(texts)
    rate = len(texts) / (time.perf_counter() - started)
    figures: dict[str, object] = {
        "eval": "goemotions",
        "test_texts": len(texts),
        "texts_per_second": round(rate),
    }
    for group, y, published in (("go", y28, 0.46), ("ekman", y7, 0.62)):
        cols = model.index(group)
        pred = proba[:, cols] >= model.thresholds[cols]
        f1, per = macro_f1(y, pred)
        untuned, _ = macro_f1(y, proba[:, cols] >= 0.5)
        names = [model.heads[c].split(":", 1)[1] for c in cols]
        figures[group] = {
            "macro_f1": round(f1, 4),
            "macro_f1_threshold_0.5": round(untuned, 4),
            "published_bert": published,
            "per_label_f1": {n: round(v, 3) for n, v in zip(names, per, strict=True)},
        }
    emit(figures)


if __name__ == "__main__":
    main()
