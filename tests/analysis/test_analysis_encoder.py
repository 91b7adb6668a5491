"""The optional contextual encoder, on a tiny random BERT written here (the real weights are an
optional package), taxonomy models learned with it, and the fine-tuned emotion heads over it."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from amends.analysis import TaxonomyModel, _resources, emotions, encoder, train_taxonomy
from amends.analysis import taxonomy as taxonomy_module

HIDDEN, HEADS, LAYERS, INTERMEDIATE = 8, 2, 2, 16
WORDS = [
    "my",
    "parcel",
    "is",
    "late",
    "charged",
    "twice",
    "card",
    "locked",
    "out",
    "account",
    "password",
    "refund",
    "where",
]


def _write_safetensors(path: Path, arrays: dict[str, np.ndarray]) -> None:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs: list[bytes] = []
    offset = 0
    for name, array in arrays.items():
        blob = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def _tiny_model(folder: Path) -> Path:
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok.save(str(folder / "tokenizer.json"))
    rng = np.random.default_rng(0)

    def r(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    arrays = {
        "embeddings.word_embeddings.weight": r(len(vocab), HIDDEN),
        "embeddings.position_embeddings.weight": r(64, HIDDEN),
        "embeddings.token_type_embeddings.weight": r(2, HIDDEN),
        "embeddings.LayerNorm.weight": np.ones(HIDDEN, np.float32),
        "embeddings.LayerNorm.bias": np.zeros(HIDDEN, np.float32),
    }
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            arrays[f"{p}attention.self.{n}.weight"] = r(HIDDEN, HIDDEN)
            arrays[f"{p}attention.self.{n}.bias"] = r(HIDDEN)
        arrays[f"{p}attention.output.dense.weight"] = r(HIDDEN, HIDDEN)
        arrays[f"{p}attention.output.dense.bias"] = r(HIDDEN)
        arrays[f"{p}attention.output.LayerNorm.weight"] = np.ones(HIDDEN, np.float32)
        arrays[f"{p}attention.output.LayerNorm.bias"] = np.zeros(HIDDEN, np.float32)
        arrays[f"{p}intermediate.dense.weight"] = r(INTERMEDIATE, HIDDEN)
        arrays[f"{p}intermediate.dense.bias"] = r(INTERMEDIATE)
        arrays[f"{p}output.dense.weight"] = r(HIDDEN, INTERMEDIATE)
        arrays[f"{p}output.dense.bias"] = r(HIDDEN)
        arrays[f"{p}output.LayerNorm.weight"] = np.ones(HIDDEN, np.float32)
        arrays[f"{p}output.LayerNorm.bias"] = np.zeros(HIDDEN, np.float32)
    _write_safetensors(folder / "model.safetensors", arrays)
    config = {
        "hidden_size": HIDDEN,
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The tiny model installed as if it were the encoder package's weights."""
    folder = _tiny_model(tmp_path)
    monkeypatch.setattr(encoder, "model_dir", lambda: folder)
    monkeypatch.delenv("AMENDS_ENCODER", raising=False)
    caches = (encoder.encoder, encoder.weights_sha256, emotions.default_model)
    for cached in caches:
        cached.cache_clear()
    yield folder
    for cached in caches:
        cached.cache_clear()


def test_safetensors_are_read_without_torch(tiny: Path) -> None:
    arrays = encoder.read_safetensors(tiny / "model.safetensors")
    assert arrays["embeddings.word_embeddings.weight"].shape == (4 + len(WORDS), HIDDEN)
    assert arrays["encoder.layer.1.output.dense.weight"].dtype == np.float32


def test_vectors_are_unit_length_and_do_not_depend_on_the_batch(tiny: Path) -> None:
    enc = encoder.encoder()
    alone = enc.embed(["my parcel is late"])
    batch = enc.embed(["card", "my parcel is late", "where is my refund my account is locked out"])
    assert batch.shape == (3, HIDDEN)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, rtol=1e-5)
    # padding to the longest text of the batch must not change a shorter text's vector
    np.testing.assert_allclose(batch[1], alone[0], atol=1e-5)
    assert enc.embed([]).shape == (0, HIDDEN)


def test_switch_and_missing_package(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert encoder.available()
    monkeypatch.setenv("AMENDS_ENCODER", "off")
    assert not encoder.available()
    monkeypatch.setattr(encoder, "model_dir", lambda: None)
    monkeypatch.delenv("AMENDS_ENCODER")
    encoder.encoder.cache_clear()
    assert not encoder.available()
    with pytest.raises(RuntimeError, match="amends\\[encoder\\]"):
        encoder.encoder()


TEXTS = [
    "my parcel is late",
    "where is my parcel",
    "parcel late again",
    "charged twice on my card",
    "card charged twice",
    "my card was charged",
    "locked out of my account",
    "account password locked",
    "password locked out",
]
LABELS = ["delivery"] * 3 + ["billing"] * 3 + ["access"] * 3


def test_model_learned_with_the_encoder_records_it(tiny: Path) -> None:
    model = train_taxonomy(TEXTS, LABELS)
    assert model.encoder == encoder.NAME
    assert model.enc_coef is not None
    assert model.enc_coef.shape == (HIDDEN, 3)
    loaded = TaxonomyModel.from_bytes(model.to_bytes())
    assert loaded.encoder == encoder.NAME
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert [label for label, _ in loaded.predict(TEXTS)] == LABELS
    # an encoder-free model keeps the first format, which older readers accept
    plain = train_taxonomy(TEXTS, LABELS, encoder=False)
    assert plain.encoder is None
    assert b"amends-taxonomy/2" not in plain.to_bytes()


def test_model_applied_without_its_encoder_falls_back_with_a_warning(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = train_taxonomy(TEXTS, LABELS)
    monkeypatch.setenv("AMENDS_ENCODER", "off")
    with pytest.warns(RuntimeWarning, match="not installed here"):
        proba = model.predict_proba(TEXTS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predicted = [label for label, _ in model.predict(TEXTS)]
    assert predicted == LABELS


def test_weights_are_shares() -> None:
    assert sum(taxonomy_module.ENCODER_WEIGHTS) == pytest.approx(1.0)


# the linear maps of a layer an adapter updates: (module, out x in)
ADAPTED = (
    ("attention.self.query", (HIDDEN, HIDDEN)),
    ("attention.self.key", (HIDDEN, HIDDEN)),
    ("attention.self.value", (HIDDEN, HIDDEN)),
    ("attention.output.dense", (HIDDEN, HIDDEN)),
    ("intermediate.dense", (INTERMEDIATE, HIDDEN)),
    ("output.dense", (HIDDEN, INTERMEDIATE)),
)


def _adapter(seed: int, *, zero: bool = False) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for i in range(LAYERS):
        for module, (out, into) in ADAPTED:
            arrays[f"encoder.layer.{i}.{module}.lora_a"] = rng.normal(0, 0.5, (2, into))
            b = rng.normal(0, 0.5, (out, 2))
            arrays[f"encoder.layer.{i}.{module}.lora_b"] = 0 * b if zero else b
    return arrays


def test_an_adapter_is_merged_into_the_weights(tiny: Path, tmp_path: Path) -> None:
    adapter = _adapter(1)
    # the same model with W + B @ A written into its file
    merged = tmp_path / "merged"
    merged.mkdir()
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(tiny / name, merged / name)
    weights = {
        k: np.array(v) for k, v in encoder.read_safetensors(tiny / "model.safetensors").items()
    }
    for name in list(weights):
        module = name.removesuffix(".weight")
        if f"{module}.lora_a" in adapter:
            weights[name] += adapter[f"{module}.lora_b"] @ adapter[f"{module}.lora_a"]
    _write_safetensors(merged / "model.safetensors", weights)

    adapted = encoder.adapted(adapter).embed(TEXTS)
    np.testing.assert_allclose(adapted, encoder.SentenceEncoder(merged).embed(TEXTS), atol=1e-5)
    plain = encoder.encoder().embed(TEXTS)
    assert np.abs(adapted - plain).max() > 0.05
    # an adapter whose updates are zero leaves the encoder as it was
    np.testing.assert_allclose(
        encoder.adapted(_adapter(1, zero=True)).embed(TEXTS), plain, atol=1e-6
    )


def _emotion_adapter(base: emotions.EmotionModel, sha: str, share: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    outputs = len(emotions.GOEMOTIONS) + len(emotions.EKMAN)
    blended = hashlib.sha256(_resources.model_bytes(_resources.EMOTIONS_FILE)).hexdigest()
    meta = {"base": encoder.NAME, "base_sha256": sha, "epoch": 1, "blended_with": blended}
    shares = np.full(len(base.heads), share, dtype=np.float32)
    shares[base.index("polarity")] = 0.0
    return {
        **_adapter(3),
        "head.weight": rng.normal(0, 2.0, (outputs, HIDDEN)).astype(np.float32),
        "head.bias": rng.normal(0, 0.5, outputs).astype(np.float32),
        "share": shares,
        "thresholds": np.full(len(base.heads), 0.4, dtype=np.float32),
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    }


def _base_emotions() -> emotions.EmotionModel:
    return emotions.EmotionModel.from_arrays(_resources.model_arrays(_resources.EMOTIONS_FILE))


def test_emotion_heads_blend_with_the_fine_tuned_ones(tiny: Path) -> None:
    base = _base_emotions()
    model = emotions.with_encoder(base, _emotion_adapter(base, encoder.weights_sha256(), 0.25))
    assert model.tuned is not None
    texts = ["I am so angry, charged twice again", "thank you, that was lovely", "where is it"]
    default = base.probabilities(texts)
    blended = model.probabilities(texts)
    own = model.tuned.own(texts)
    assert own.shape == (3, 35)
    go = base.index("go")
    ekman = base.index("ekman")
    np.testing.assert_allclose(
        blended[:, go], 0.75 * default[:, go] + 0.25 * own[:, :28], atol=1e-6
    )
    np.testing.assert_allclose(
        blended[:, ekman], 0.75 * default[:, ekman] + 0.25 * own[:, 28:], atol=1e-6
    )
    # polarity (sentiment's head) keeps the default model; the blend has its own thresholds
    pol = base.index("polarity")
    np.testing.assert_allclose(blended[:, pol], default[:, pol], atol=1e-6)
    np.testing.assert_allclose(model.thresholds, 0.4)
    assert model.probabilities([]).shape == (0, len(base.heads))


def _serve_adapter(monkeypatch: pytest.MonkeyPatch, arrays: dict[str, np.ndarray]) -> None:
    real = _resources.model_arrays
    monkeypatch.setattr(_resources, "has_model", lambda name: True)
    monkeypatch.setattr(
        _resources,
        "model_arrays",
        lambda name: arrays if name == _resources.EMOTION_ADAPTER_FILE else real(name),
    )


def test_default_emotion_model_uses_the_adapter_only_on_its_own_base_weights(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    base = _base_emotions()
    _serve_adapter(monkeypatch, _emotion_adapter(base, encoder.weights_sha256(), 0.5))
    assert emotions.default_model().tuned is not None

    # switched off: the default heads
    monkeypatch.setenv("AMENDS_ENCODER", "off")
    emotions.default_model.cache_clear()
    assert emotions.default_model().tuned is None
    monkeypatch.delenv("AMENDS_ENCODER")

    # trained on other weights: skipped, and said
    _serve_adapter(monkeypatch, _emotion_adapter(base, "0" * 64, 0.5))
    emotions.default_model.cache_clear()
    with caplog.at_level(logging.WARNING, logger="amends.analysis.emotions"):
        model = emotions.default_model()
    assert model.tuned is None
    np.testing.assert_array_equal(model.thresholds, base.thresholds)
    assert "not the ones it was trained on" in caplog.text

    # a blend made for another emotions.npz, or for other heads: skipped, and said
    stale = _emotion_adapter(base, encoder.weights_sha256(), 0.5)
    stale["meta"] = np.frombuffer(
        json.dumps({"base": encoder.NAME, "base_sha256": encoder.weights_sha256()}).encode(),
        dtype=np.uint8,
    )
    _serve_adapter(monkeypatch, stale)
    emotions.default_model.cache_clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="amends.analysis.emotions"):
        assert emotions.default_model().tuned is None
    assert "made for another emotions.npz" in caplog.text
    short = _emotion_adapter(base, encoder.weights_sha256(), 0.5)
    short["share"] = short["share"][:-1]
    _serve_adapter(monkeypatch, short)
    emotions.default_model.cache_clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="amends.analysis.emotions"):
        assert emotions.default_model().tuned is None
    assert "do not match the model" in caplog.text
