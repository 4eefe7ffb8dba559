"""Fine-tuning (`train.finetune`): the head alone first, then the encoder too, on waveforms; the model file
carries the tuned encoder, so it predicts with no encoder to fetch, and exports as one ONNX graph."""

import json
import re
import shutil

import numpy as np
import pytest
import torch

pytest.importorskip("transformers", reason="encoders need the ssl extra: pip install 'specser[ssl]'")

from specser.audio.load import load_audio  # noqa: E402
from specser.config import ConfigError, TrainConfig  # noqa: E402
from specser.encoders.hub import load_pretrained  # noqa: E402
from specser.inference.model_file import ModelFile  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402
from specser.runs.train import train_run  # noqa: E402
from specser.training.fit import _strategy  # noqa: E402
from tests.encoders.tiny import encoder_config, make_tiny_encoder  # noqa: E402

FINETUNE = ["train.finetune.enabled=true", "train.finetune.unfreeze_after_epochs=1", "train.finetune.encoder_lr=1e-3"]


@pytest.fixture(scope="module")
def tuned_runs(tmp_path_factory, encoder_corpus):
    """family -> (its tiny encoder's folder, a fine-tuned run): 2 epochs, the encoder learning in the second.
    WavLM stands for the wav2vec2-style families (one code path), Whisper for its log-Mel front-end."""
    runs = {}
    for family in ("wavlm", "whisper"):
        root = tmp_path_factory.mktemp(f"finetune-{family}")
        encoder = make_tiny_encoder(family, root / "encoder")
        train_run(encoder_config(encoder_corpus, encoder, root / "cache", family, *FINETUNE), root / "run",
                  progress=False)
        runs[family] = encoder, root / "run"
    return runs


def _expected(metrics: dict, labels: list[str]) -> np.ndarray:
    return np.array([[r["probabilities"][label] for label in labels] for r in metrics["predictions"]])


@pytest.mark.parametrize("family", ["wavlm", "whisper"])
def test_the_encoder_learns_after_the_head_and_its_front_end_stays_fixed(tuned_runs, family):
    encoder, run = tuned_runs[family]
    mf = ModelFile.load(run / "model.specser")
    assert mf.model_name == "encoder_classifier" and mf.features.encoder == str(encoder)
    tuned_state = mf.build().encoder.state_dict()
    pretrained = load_pretrained(encoder)[0].state_dict()
    changed = {k for k, v in pretrained.items() if not torch.equal(v, tuned_state[k])}
    assert any(re.search(r"(^|\.)layers\.0\.", k) for k in changed)  # the transformer blocks were tuned
    if family != "whisper":
        assert not any(k.startswith("feature_extractor.") for k in changed)  # the CNN front-end was not
    assert "fine-tuned" in (run / "report.md").read_text()


@pytest.mark.parametrize("family", ["wavlm", "whisper"])
def test_a_tuned_model_predicts_as_evaluated_with_no_encoder_to_fetch(tuned_runs, family, tmp_path):
    """The model file holds the tuned encoder: it predicts with the encoder's folder gone."""
    encoder, run = tuned_runs[family]
    metrics = json.loads((run / "metrics.json").read_text())
    waves = [load_audio(r["path"], 16000) for r in metrics["predictions"]]
    shutil.move(str(encoder), tmp_path / "away")
    try:
        predictor = Predictor.from_file(run / "model.specser", device="cpu")
        probs = predictor.probabilities(waves)
    finally:
        shutil.move(str(tmp_path / "away"), str(encoder))
    assert np.abs(probs - _expected(metrics, predictor.labels)).max() < 1e-4


def test_a_tuned_model_exports_as_one_onnx_graph_on_waveforms(tuned_runs, tmp_path):
    """Whisper's, with its log-Mel front-end in the graph (the wav2vec2-style graph: tests/export)."""
    from specser.export.onnx_export import export_onnx, parity_check
    from specser.export.onnx_predictor import OnnxPredictor

    _, run = tuned_runs["whisper"]
    out = tmp_path / "tuned.onnx"
    assert export_onnx(run / "model.specser", out)["specser.input"] == "waves"
    assert parity_check(run / "model.specser", out) < 1e-4
    metrics = json.loads((run / "metrics.json").read_text())
    predictor = OnnxPredictor(out)
    probs = predictor.probabilities([load_audio(r["path"], 16000) for r in metrics["predictions"]])
    assert np.abs(probs - _expected(metrics, predictor.labels)).max() < 1e-4


def test_mixup_is_refused_when_fine_tuning(encoder_corpus, tmp_path):
    cfg = encoder_config(encoder_corpus, tmp_path / "unused", tmp_path, "wavlm", *FINETUNE, "train.augment.mixup_alpha=0.2")
    with pytest.raises(ConfigError, match="mixup_alpha=0 when fine-tuning"):
        train_run(cfg, tmp_path / "run", progress=False)


def test_ddp_expects_unused_weights_while_the_encoder_is_frozen():
    """In the frozen epochs the encoder's weights get no gradient; plain DDP would stop on them."""
    tuned = TrainConfig(strategy="ddp")
    tuned.finetune.enabled = True
    assert _strategy(tuned) == "ddp_find_unused_parameters_true"
    tuned.strategy, tuned.devices = "auto", "2"
    assert _strategy(tuned) == "ddp_find_unused_parameters_true"
    tuned.finetune.unfreeze_after_epochs = 0
    assert _strategy(tuned) == "auto"
    assert _strategy(TrainConfig(strategy="ddp")) == "ddp"
