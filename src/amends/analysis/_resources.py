"""Loading of the package's own committed model files (the only IO in `amends.analysis`)."""

from __future__ import annotations

import io
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from amends.analysis.features import StaticEmbedding

EMBEDDING_FILE = "embedding.npz"
TOKENIZER_FILE = "tokenizer.json"
EMOTIONS_FILE = "emotions.npz"
CATEGORY_FILE = "category.npz"
EMOTION_ADAPTER_FILE = "emotion_adapter.npz"  # optional: used with the encoder extra


def model_bytes(name: str) -> bytes:
    """Raw bytes of a committed model file."""
    return resources.files("amends.analysis").joinpath("models", name).read_bytes()


def has_model(name: str) -> bool:
    """Whether a committed model file is present."""
    return resources.files("amends.analysis").joinpath("models", name).is_file()


def model_arrays(name: str) -> Any:
    """A committed `.npz` model, loaded without pickle."""
    return np.load(io.BytesIO(model_bytes(name)), allow_pickle=False)


@cache
def embedding() -> StaticEmbedding:
    """The static token embedding shared by every model (loaded once)."""
    arrays = model_arrays(EMBEDDING_FILE)
    tokenizer = model_bytes(TOKENIZER_FILE).decode("utf-8")
    return StaticEmbedding(tokenizer, arrays["vectors"], arrays["scales"])
