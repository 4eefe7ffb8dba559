"""Encoder layers: what `transformers` itself computes, cached once, and a clear line when offline."""

import numpy as np
import pytest
import torch

pytest.importorskip("transformers", reason="encoders need the ssl extra: pip install 'specser[ssl]'")

from specser.encoders.extract import extract_encoder_states  # noqa: E402
from specser.encoders.hidden import Encoder  # noqa: E402
from specser.encoders.hub import EncoderError, load_pretrained  # noqa: E402
from tests.encoders.tiny import FAMILIES, make_tiny_encoder  # noqa: E402
from tests.synth import emotional_tone  # noqa: E402


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """The hub unreachable, as on this machine and CI, without waiting for connections to time out:
    huggingface_hub reads HF_HUB_OFFLINE once, at import, so its flag is set where it is kept."""
    import sys

    import huggingface_hub
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(sys.modules[huggingface_hub.is_offline_mode.__module__], "HF_HUB_OFFLINE", True, raising=False)


@pytest.fixture(scope="module")
def tiny_encoders(tmp_path_factory):
    root = tmp_path_factory.mktemp("encoders")
    return {family: make_tiny_encoder(family, root / family) for family in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_layers_match_what_transformers_computes(tiny_encoders, family):
    import transformers

    wave = emotional_tone("05", 1, np.random.default_rng(0), seconds=1.3)
    encoder = Encoder(tiny_encoders[family])
    layers = encoder.hidden_states(wave)
    # the input embedding and 2 blocks; 50 frames a second (the CNN front-ends lose a partial frame at the end)
    assert layers.shape == (3, 65 if family == "whisper" else 64, 16) and layers.dtype == np.float32

    # The reference: the user's own transformers code on the same checkpoint.
    extractor = transformers.AutoFeatureExtractor.from_pretrained(tiny_encoders[family])
    model = transformers.AutoModel.from_pretrained(tiny_encoders[family]).eval()
    inputs = extractor(wave, sampling_rate=16000, return_tensors="pt")
    with torch.inference_mode():
        if family == "whisper":
            out = model.encoder(inputs.input_features, output_hidden_states=True)
        else:
            out = model(inputs.input_values, output_hidden_states=True)
    reference = torch.stack(out.hidden_states)[:, 0, : layers.shape[1]].numpy()
    assert np.abs(layers - reference).max() < 1e-5


def test_the_cache_fills_once_and_a_cached_corpus_never_loads_the_encoder(tiny_encoders, synth_corpus, tmp_path,
                                                                          monkeypatch):
    from specser.corpus.manifest import load_manifest

    rows = load_manifest(synth_corpus).rows[:6]
    first = extract_encoder_states(rows, str(tiny_encoders["wavlm"]), tmp_path, progress=False)
    assert (first.computed, first.cached, first.skipped) == (6, 0, [])
    stored = first.cache.get(first.keys[rows[0].utt_id])
    assert stored.dtype == np.float16 and stored.shape[0] == 3
    assert np.abs(first.layers(rows[0].utt_id) - Encoder(tiny_encoders["wavlm"]).hidden_states(
        __import__("specser.audio.load", fromlist=["load_audio"]).load_audio(rows[0].path, 16000))).max() < 2e-2

    def no_loading(*args, **kwargs):
        raise AssertionError("a cached corpus loaded the encoder")

    monkeypatch.setattr("specser.encoders.hidden.Encoder.__init__", no_loading)
    again = extract_encoder_states(rows, str(tiny_encoders["wavlm"]), tmp_path, progress=False)
    assert (again.computed, again.cached) == (0, 6)


def test_an_encoder_not_found_offline_is_one_line_that_says_how_to_fetch_it(offline, tmp_path):
    with pytest.raises(EncoderError) as caught:
        load_pretrained("microsoft/wavlm-base-plus")
    message = str(caught.value)
    assert "not found on this machine" in message and "hf download microsoft/wavlm-base-plus" in message
    assert "HF_HOME" in message and "\n" not in message
    with pytest.raises(EncoderError, match="not found"):
        load_pretrained(tmp_path / "no-such-folder")


def test_specser_features_encoder_fills_the_cache_and_reports_a_missing_encoder(tiny_encoders, tmp_path, request):
    from typer.testing import CliRunner

    from specser.cli.main import app
    from tests.synth import make_ravdess_corpus

    make_ravdess_corpus(tmp_path / "corpus", actors=(1, 2), emotions=("neutral", "angry"))
    runner = CliRunner()
    args = ["features", "--data", str(tmp_path / "corpus"), "--set", f"data.cache_dir={tmp_path}", "--no-progress"]
    result = runner.invoke(app, [*args, "--encoder", str(tiny_encoders["hubert"])])
    assert result.exit_code == 0, result.output
    assert "24 files ready" in result.output and "24 computed, 0 from cache" in result.output  # 2 actors x 12 clips
    again = runner.invoke(app, [*args, "--encoder", str(tiny_encoders["hubert"])])
    assert " 0 computed" in again.output
    request.getfixturevalue("offline")
    missing = runner.invoke(app, [*args, "--encoder", "facebook/hubert-base-ls960"])
    assert missing.exit_code != 0 and "hf download facebook/hubert-base-ls960" in missing.output
    assert "Traceback" not in missing.output
