"""The frozen-encoder recipe end to end on tiny self-made encoders of each family (`conftest.py` trains
one run each): predict (matching metrics.json), CV, the CLI, the service, and a cached run that never
loads the encoder."""

import json

import numpy as np
import pytest

pytest.importorskip("transformers", reason="encoders need the ssl extra: pip install 'specser[ssl]'")

from specser.audio.load import load_audio  # noqa: E402
from specser.config import ConfigError, load_config  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402
from specser.runs.train import train_run  # noqa: E402
from tests.encoders.tiny import FAMILIES, encoder_config  # noqa: E402


@pytest.mark.parametrize("family", FAMILIES)
def test_predicting_the_test_files_reproduces_metrics_json(encoder_runs, family):
    run = encoder_runs[family]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n"] == 12 and (run / "layer_weights.png").is_file() and "encoder" in (run / "report.md").read_text()
    predictor = Predictor.from_file(run / "model.specser", device="cpu")
    weights = predictor.model.layer_weights().detach()
    assert weights.shape == (3,) and float(weights.max() - weights.min()) > 1e-4  # the layer mix was learned
    rows = metrics["predictions"]
    probs = predictor.probabilities([load_audio(r["path"], 16000) for r in rows])
    expected = np.array([[r["probabilities"][label] for label in predictor.labels] for r in rows])
    assert np.abs(probs - expected).max() < 1e-3


def test_a_cached_corpus_trains_and_evaluates_without_loading_the_encoder(encoder_runs, encoder_corpus, tmp_path,
                                                                          monkeypatch):
    cfg = load_config(encoder_runs["hubert"] / "config.yaml")

    def no_loading(*args, **kwargs):
        raise AssertionError("the encoder was loaded although every clip was cached")

    monkeypatch.setattr("specser.encoders.hidden.Encoder.__init__", no_loading)
    train_run(cfg, tmp_path / "again", progress=False)
    first, again = (json.loads((d / "metrics.json").read_text()) for d in (encoder_runs["hubert"], tmp_path / "again"))
    assert again["n"] == first["n"]


def test_cross_validation_and_the_cli_on_an_encoder_model(encoder_runs, encoder_corpus, tmp_path):
    from typer.testing import CliRunner

    from specser.cli.main import app

    cfg_path = encoder_runs["wavlm"] / "config.yaml"
    runner = CliRunner()
    cv = runner.invoke(app, ["cv", "--config", str(cfg_path), "--protocol", "loso",
                             "--out", str(tmp_path / "cv"), "--no-progress"])
    assert cv.exit_code == 0, cv.output
    summary = json.loads((tmp_path / "cv" / "cv_summary.json").read_text())
    assert summary["run"]["n_folds"] == 3 and len(summary["accuracy"]["per_fold"]) == 3
    clip = json.loads((encoder_runs["wavlm"] / "metrics.json").read_text())["predictions"][0]["path"]
    predicted = runner.invoke(app, ["predict", str(encoder_runs["wavlm"] / "model.specser"), clip, "--format", "json",
                                    "--no-progress"])
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.stdout)[0]["status"] == "ok"


def test_the_service_answers_with_an_encoder_model(encoder_runs):
    pytest.importorskip("fastapi", reason="the service needs the serve extra")
    import io

    import soundfile as sf
    from fastapi.testclient import TestClient

    from specser.service.app import create_app
    from specser.service.settings import ServiceSettings
    from tests.synth import emotional_tone

    buffer = io.BytesIO()
    sf.write(buffer, emotional_tone("05", 2, np.random.default_rng(0), seconds=1.0), 16000, format="WAV")
    settings = ServiceSettings(model=encoder_runs["hubert"] / "model.specser", max_upload_mb=1.0, max_duration_s=30.0)
    with TestClient(create_app(settings)) as client:
        body = client.post("/v1/predict", content=buffer.getvalue(), headers={"content-type": "audio/wav"}).json()
        assert body["label"] in body["labels"] and abs(sum(body["probabilities"].values()) - 1) < 1e-4
        assert client.get("/v1/model").json()["feature_config"]["mode"] == "encoder"


def test_spectrogram_options_are_refused_for_an_encoder_recipe(encoder_corpus, tmp_path):
    cfg = encoder_config(encoder_corpus, tmp_path / "unused", tmp_path, "wavlm", "train.specaugment.enabled=true",
                         "train.augment.gain_db=3", "train.augment.freq_mixstyle_prob=0.4")
    with pytest.raises(ConfigError, match="specaugment.enabled=false.*freq_mixstyle_prob=0"):
        train_run(cfg, tmp_path / "run", progress=False)
