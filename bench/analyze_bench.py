"""Analysis throughput over 20,000 real texts, next to VADER alone in the same process.

Texts: customer tweets (twitter_customer_care), CFPB narratives, Banking77 queries and GoEmotions
comments from ../shared/data. Both sides see the same texts on one core; the ratio says what the
full analysis costs on top of a lexicon. A second table shows how the cost grows with length.

    .venv/bin/python bench/analyze_bench.py [--data ../shared/data] [--texts 20000]

Where the encoder extra is installed, the emotion model runs the fine-tuned encoder too
(`emotion_encoder` in the output says which); `AMENDS_ENCODER=off` measures the default install.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BATCH = 1000
BUCKETS = ((0, 50), (50, 100), (100, 200), (200, 500), (500, 1000), (1000, 2000), (2000, 10**9))


def real_texts(data: Path, n: int) -> dict[str, list[str]]:
    """Up to n texts by source: every tweet and narrative, then Banking77 and GoEmotions."""
    tweets: list[str] = []
    for conv in json.loads((data / "twitter_customer_care" / "dev.json").read_text("utf-8")):
        for turn in conv["dialogContent"]:
            if "agent" not in turn and turn.get("message"):
                tweets.append(turn["message"])
    with (data / "cfpb_complaints" / "complaints.csv").open(encoding="utf-8", newline="") as f:
        cfpb = [
            r["Consumer complaint narrative"]
            for r in csv.DictReader(f)
            if r["Consumer complaint narrative"].strip()
        ]
    banking: list[str] = []
    for split in ("train", "test"):
        with (data / "banking77" / f"{split}.csv").open(encoding="utf-8", newline="") as f:
            banking += [r["text"] for r in csv.DictReader(f)]
    goemotions = [
        line.split("\t", 1)[0]
        for line in (data / "goemotions" / "original" / "train.tsv").read_text("utf-8").splitlines()
    ]
    rest = n - len(tweets) - len(cfpb)
    return {
        "tweets": tweets,
        "cfpb_narratives": cfpb,
        "banking77": banking[: rest // 2],
        "goemotions": goemotions[: rest - min(len(banking), rest // 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--texts", type=int, default=20_000)
    args = parser.parse_args()
    if not (args.data / "goemotions").is_dir():
        sys.exit(f"data not found in {args.data} (pass --data)")
    # one core, as promised in the README: no BLAS or tokenizer threads
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"

    started = time.perf_counter()
    from amends.analysis import analyze_many, emotions
    from amends.analysis.sentiment import vader

    analyze_many(["warm up: load every model"])
    load_s = time.perf_counter() - started
    emotion_encoder = emotions.default_model().tuned is not None

    sources = real_texts(args.data, args.texts)
    texts = [t for group in sources.values() for t in group]
    random.Random(0).shuffle(texts)
    analyser = vader()

    started = time.perf_counter()
    for t in texts:
        analyser.polarity_scores(t)
    vader_s = time.perf_counter() - started

    started = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        analyze_many(texts[i : i + BATCH])
    amends_s = time.perf_counter() - started

    by_length: list[dict[str, object]] = []
    for lo, hi in BUCKETS:
        bucket = [t for t in texts if lo <= len(t) < hi][:2000]
        if not bucket:
            continue
        t0 = time.perf_counter()
        for t in bucket:
            analyser.polarity_scores(t)
        t1 = time.perf_counter()
        for i in range(0, len(bucket), BATCH):
            analyze_many(bucket[i : i + BATCH])
        t2 = time.perf_counter()
        by_length.append(
            {
                "chars": f"{lo}-{hi if hi < 10**9 else 'max'}",
                "texts": len(bucket),
                "vader_us_per_text": round((t1 - t0) / len(bucket) * 1e6),
                "amends_us_per_text": round((t2 - t1) / len(bucket) * 1e6),
            }
        )

    print(
        json.dumps(
            {
                "bench": "analyze",
                "texts": len(texts),
                "sources": {k: len(v) for k, v in sources.items()},
                "mean_chars": round(sum(map(len, texts)) / len(texts)),
                "model_load_seconds": round(load_s, 2),
                "emotion_encoder": emotion_encoder,
                "vader_alone_texts_per_second": round(len(texts) / vader_s),
                "amends_analyze_many_texts_per_second": round(len(texts) / amends_s),
                "amends_cost_vs_vader": round(amends_s / vader_s, 2),
                "batch": BATCH,
                "by_length": by_length,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
