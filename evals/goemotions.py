"""GoEmotions test macro-F1 of the committed emotion model: 28 labels and Ekman's 7.

Thresholds were tuned per label on the dev split at build time. Published (Demszky et al. 2020):
BERT 0.46 (28 labels), 0.62 (Ekman). Figures for the default install, and, where the optional
encoder is installed (`amends[encoder]`), for the emotion model with it: its GoEmotions and Ekman
heads blended with heads over all-MiniLM-L6-v2 fine-tuned on GoEmotions (a committed low-rank
adapter; scripts/finetune_emotions.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from amends.analysis import _resources, emotions
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


def score(
    model: emotions.EmotionModel, texts: list[str], y28: np.ndarray, y7: np.ndarray
) -> dict[str, object]:
    started = time.perf_counter()
    proba = model.probabilities(texts)
    rate = len(texts) / (time.perf_counter() - started)
    figures: dict[str, object] = {"texts_per_second": round(rate)}
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
    return figures


def main() -> None:
    data, _ = data_dir(
        __doc__.splitlines()[0], "goemotions/original/test.tsv", "goemotions/ekman/test.tsv"
    )
    texts, y28 = read(data / "goemotions" / "original" / "test.tsv", 28)
    _, y7 = read(data / "goemotions" / "ekman" / "test.tsv", 7)
    plain = emotions.EmotionModel.from_arrays(_resources.model_arrays(_resources.EMOTIONS_FILE))
    figures: dict[str, object] = {"eval": "goemotions", "test_texts": len(texts)}
    figures["default_install"] = score(plain, texts, y28, y7)
    active = emotions.default_model()
    if active.tuned is None:
        figures["with_encoder"] = "not measured: the encoder extra is not installed or is off"
    else:
        figures["with_encoder"] = score(active, texts, y28, y7)
    emit(figures)


if __name__ == "__main__":
    main()
