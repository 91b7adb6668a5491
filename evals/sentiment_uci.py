"""Sentiment accuracy on the UCI review sentences (Amazon, Yelp, IMDB; Kotzias et al. 2015).

Nothing here is trained on these sentences: the polarity head is trained on GoEmotions only.
Published anchor: VADER alone about 75.5 %.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from amends.analysis import emotions, sentiment
from evals._common import data_dir, emit

SOURCES = {
    "amazon": "amazon_cells_labelled.txt",
    "yelp": "yelp_labelled.txt",
    "imdb": "imdb_labelled.txt",
}


def main() -> None:
    data, _ = data_dir(__doc__.splitlines()[0], *(f"uci_sentiment/{f}" for f in SOURCES.values()))
    texts: list[str] = []
    gold: list[int] = []
    source: list[str] = []
    for name, file in SOURCES.items():
        for line in (data / "uci_sentiment" / file).read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                text, label = line.rsplit("\t", 1)
                texts.append(text.strip())
                gold.append(int(label))
                source.append(name)
    y = np.asarray(gold)
    src = np.asarray(source)
    compound = np.asarray([sentiment.vader_compound(t) for t in texts])
    model = emotions.default_model()
    p_pos = model.probabilities(texts)[:, model.index("polarity")[0]]
    blended = np.asarray(
        [sentiment.blend(c, float(p)) for c, p in zip(compound, p_pos, strict=True)]
    )

    def acc(pred: np.ndarray) -> dict[str, float]:
        out = {"all": round(float(np.mean(pred == y)), 4)}
        out.update({s: round(float(np.mean(pred[src == s] == y[src == s])), 4) for s in SOURCES})
        return out

    emit(
        {
            "eval": "sentiment_uci",
            "sentences": len(texts),
            "vader_alone_compound_ge_0.05": acc((compound >= 0.05).astype(int)),
            "vader_alone_compound_ge_0": acc((compound >= 0).astype(int)),
            "polarity_model_alone": acc((p_pos >= 0.5).astype(int)),
            "amends_blend": acc((blended >= 0).astype(int)),
            "published_vader": 0.755,
        }
    )


if __name__ == "__main__":
    main()
