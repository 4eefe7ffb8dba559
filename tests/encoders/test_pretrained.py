"""A frozen-head model file made self-contained: the encoder's weights embedded (`specser export --format
specser`), so it predicts where the encoder cannot be fetched."""

import json

import numpy as np
import pytest

pytest.importorskip("transformers", reason="encoders need the ssl extra: pip install 'specser[ssl]'")

from specser.audio.load import load_audio  # noqa: E402
from specser.encoders.pretrained import embedded  # noqa: E402
from specser.inference.model_file import ModelFile  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402
from tests.encoders.tiny import FAMILIES  # noqa: E402


def _no_hub(monkeypatch):
    from specser.encoders import hub

    def unreachable(name, *args, **kwargs):
        raise hub.EncoderError(hub.not_found_message(str(name)))

    for name in ("load_config", "load_pretrained", "sample_rate"):
        monkeypatch.setattr(hub, name, unreachable)
    import transformers

    for auto in (transformers.AutoConfig, transformers.AutoModel, transformers.AutoFeatureExtractor):
        monkeypatch.setattr(auto, "from_pretrained", unreachable)


@pytest.mark.parametrize("family", FAMILIES)
def test_an_embedded_model_predicts_as_the_frozen_one_without_its_encoder(encoder_runs, family, tmp_path,
                                                                         monkeypatch):
    run = encoder_runs[family]
    out = tmp_path / "embedded.specser"
    embedded(ModelFile.load(run / "model.specser")).save(out)
    _no_hub(monkeypatch)
    mf = ModelFile.load(out)
    assert mf.model_name == "encoder_classifier" and mf.features.encoder  # the encoder's name is still recorded
    predictor = Predictor(mf, device="cpu")
    metrics = json.loads((run / "metrics.json").read_text())
    probs = predictor.probabilities([load_audio(r["path"], 16000) for r in metrics["predictions"]])
    expected = np.array([[r["probabilities"][label] for label in predictor.labels] for r in metrics["predictions"]])
    assert np.abs(probs - expected).max() < 1e-3  # metrics.json came from float16 cached layers


def test_the_cli_embeds_a_frozen_encoder_and_refuses_other_models(encoder_runs, trained_run, tmp_path):
    from typer.testing import CliRunner

    from specser.cli.main import app

    runner = CliRunner()
    out = tmp_path / "full.specser"
    done = runner.invoke(app, ["export", str(encoder_runs["hubert"] / "model.specser"), "--format", "specser",
                               "--out", str(out)])
    assert done.exit_code == 0 and "no hub needed" in done.output, done.output
    assert ModelFile.load(out).model_name == "encoder_classifier"
    refused = runner.invoke(app, ["export", str(trained_run / "model.specser"), "--format", "specser",
                                  "--out", str(tmp_path / "x.specser")])
    assert refused.exit_code != 0 and "only a frozen-encoder model" in refused.output
    assert "Traceback" not in refused.output and not (tmp_path / "x.specser").exists()
