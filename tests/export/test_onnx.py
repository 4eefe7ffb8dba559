"""ONNX export: parity with torch on synthetic and real audio, dynamic axes, and a torch-free backend."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from specser.cli.main import app
from specser.config import FeatureConfig
from specser.features.logmel import LogMel
from specser.features.logmel_np import logmel_numpy
from specser.inference.predictor import Predictor
from tests.synth import emotional_tone

pytest.importorskip("onnxruntime", reason="ONNX export needs the export extra: pip install 'specser[export]'")
from specser.export.onnx_export import export_onnx, familiarity_parity, parity_check  # noqa: E402
from specser.export.onnx_predictor import OnnxPredictor  # noqa: E402


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(trained_run / "model.specser", out)
    return out


def test_numpy_logmel_matches_torch():
    cfg = FeatureConfig()
    wave = emotional_tone("06", 3, np.random.default_rng(2), seconds=2.3)
    front = LogMel(cfg)
    expected = front(torch.from_numpy(wave)).numpy()
    got = logmel_numpy(wave, front.filterbank.numpy(), cfg.n_fft, cfg.hop_length, cfg.win_length, cfg.top_db)
    assert got.shape == expected.shape and np.abs(got - expected).max() < 2e-3


def test_graph_parity_over_dynamic_batch_and_time(trained_run, exported):
    assert parity_check(trained_run / "model.specser", exported) < 1e-4


def test_the_familiarity_score_travels_in_the_graph(trained_run, exported):
    assert familiarity_parity(trained_run / "model.specser", exported) < 1e-3
    ours, theirs = Predictor.from_file(trained_run / "model.specser", device="cpu"), OnnxPredictor(exported)
    assert theirs.familiarity_threshold == pytest.approx(ours.familiarity_threshold)
    t = np.arange(16000) / 16000
    buzz = sum(np.sin(2 * np.pi * 70 * k * t) for k in range(1, 60)) * (1 + 0.9 * np.sin(2 * np.pi * 30 * t))
    waves = [(0.3 * buzz / np.abs(buzz).max()).astype(np.float32), emotional_tone("05", 1, np.random.default_rng(0))]
    for wave in waves:
        assert [w.kind for w in theirs.predict_wave(wave).warnings] == [w.kind for w in ours.predict_wave(wave).warnings]
    assert [w.kind for w in theirs.predict_wave(waves[0]).warnings] == ["unfamiliar"]


def _audio_parity(trained_run, exported, paths):
    ours, theirs = Predictor.from_file(trained_run / "model.specser", device="cpu"), OnnxPredictor(exported)
    waves = [ours.load(p) for p in paths]
    diff = np.abs(ours.probabilities(waves) - theirs.probabilities(waves)).max()
    assert diff < 1e-4, diff
    assert theirs.labels == ours.labels and theirs.n_parameters == ours.n_parameters


def test_end_to_end_parity_on_synthetic_audio(trained_run, exported):
    paths = [p["path"] for p in json.loads((trained_run / "metrics.json").read_text())["predictions"][:16]]
    _audio_parity(trained_run, exported, paths)


def test_end_to_end_parity_on_real_ravdess(trained_run, exported, ravdess_dir):
    _audio_parity(trained_run, exported, sorted(ravdess_dir.glob("Actor_0[1-3]/*.flac"))[::25])


def test_onnx_backend_repairs_clipped_audio_as_torch_does(trained_run, exported):
    loud = np.clip(10 * emotional_tone("05", 1, np.random.default_rng(5), seconds=2.0), -1, 1).astype(np.float32)
    ours, theirs = Predictor.from_file(trained_run / "model.specser", device="cpu"), OnnxPredictor(exported)
    raw = OnnxPredictor(exported, repair_clipping=False)
    assert np.abs(ours.probabilities([loud]) - theirs.probabilities([loud])).max() < 1e-4
    assert np.abs(theirs.probabilities([loud]) - raw.probabilities([loud])).max() > 1e-4


def test_onnx_backend_runs_without_torch(exported, synth_corpus):
    wav = sorted(synth_corpus.glob("Actor_02/*.wav"))[0]
    code = (f"import sys; from specser.inference.base import open_predictor; p = open_predictor({str(exported)!r}); "
            f"r = p.predict({str(wav)!r}); assert 'torch' not in sys.modules, 'torch was imported'; print(r.label)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == OnnxPredictor(exported).predict(wav).label


def test_onnx_backend_gives_the_same_named_errors(exported):
    """The speech and length checks live in the shared predictor base: onnxruntime refuses what torch refuses."""
    from specser.audio.load import AudioError

    onnx = OnnxPredictor(exported)
    noise = np.random.default_rng(0).standard_normal(24000).astype(np.float32) * 1e-3
    for wave, kind in ((noise, "no_speech"), (noise[:160] * 100, "too_short")):
        with pytest.raises(AudioError) as caught:
            onnx.predict(wave, sample_rate=16000)
        assert caught.value.kind == kind


def test_cli_export_and_predict_with_the_onnx_backend(trained_run, synth_corpus, tmp_path):
    runner = CliRunner()
    out = tmp_path / "m.onnx"
    result = runner.invoke(app, ["export", str(trained_run / "model.specser"), "--format", "onnx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "parity with torch" in result.output and out.stat().st_size > 10_000
    folder = str(synth_corpus / "Actor_03")
    onnx_rows = json.loads(runner.invoke(app, ["predict", str(out), folder, "--format", "json", "--no-progress"]).stdout)
    torch_rows = json.loads(runner.invoke(app, ["predict", str(trained_run / "model.specser"), folder, "--format", "json",
                                                "--no-progress"]).stdout)
    assert [r["label"] for r in onnx_rows] == [r["label"] for r in torch_rows] and len(onnx_rows) == 44


def test_foreign_onnx_and_bad_formats_are_refused(exported, tmp_path, trained_run):
    import onnx

    proto = onnx.load(str(exported))
    del proto.metadata_props[:]
    onnx.save(proto, str(tmp_path / "plain.onnx"))
    with pytest.raises(ValueError, match="not one exported by"):
        OnnxPredictor(tmp_path / "plain.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(ValueError, match="not a readable ONNX"):
        OnnxPredictor(tmp_path / "junk.onnx")
    result = CliRunner().invoke(app, ["export", str(trained_run / "model.specser"), "--format", "tflite", "--out", "x"])
    assert result.exit_code == 2 and "unknown export format" in result.output


@pytest.mark.parametrize("name, extra", [("spec_resnet_attn", {}), ("spec_crnn", {}), ("spec_resnet", {"deltas": True}),
                                         ("spec_resnet", {"antialias": True, "antialias_axes": "time"})])
def test_new_heads_export_with_parity(name, extra, tmp_path):
    """The attention head goes through torch.export; the CRNN's GRU through the TorchScript exporter;
    delta channels and the anti-aliasing blur are computed inside the graph."""
    import torch

    from specser.inference.model_file import ModelFile
    from specser.config import FeatureConfig
    from specser.export.onnx_export import export_onnx, parity_check
    from specser.features.logmel import mel_filterbank
    from specser.models import create_model
    from specser.models.registry import config_dict

    fc = FeatureConfig(n_mels=40, n_fft=512, win_length=512, hop_length=160, clip_seconds=1.0)
    options = {"stem_channels": 8, "widths": [8, 16, 32, 32], "num_classes": 6, **extra}
    model = create_model(name, **options).eval()
    ModelFile.from_model(model, name, config_dict(name, **options), list("abcdef"), fc,
                         torch.from_numpy(mel_filterbank(fc)), torch.zeros(40), torch.ones(40)).save(tmp_path / "m.specser")
    export_onnx(tmp_path / "m.specser", tmp_path / "m.onnx")
    assert parity_check(tmp_path / "m.specser", tmp_path / "m.onnx") < 1e-4


_NETWORK_GRAPHS: dict = {}  # the three normalisations share one network graph: exported once (8 s each)


@pytest.mark.xdist_group("onnx_normalisations")  # one worker, so the graph is exported once
@pytest.mark.parametrize("norm", ["level_norm", "utterance_norm", "speaker_norm", "pcen"])
def test_a_level_normalised_model_exports_with_parity_on_audio(tmp_path, norm, monkeypatch):
    """features.level_norm / utterance_norm / speaker_norm / compression=pcen travel in the ONNX metadata; the
    numpy front-end applies them as torch does. The network graph does not depend on them (they act before it), so the
    first export's graph serves the others; the metadata and the parity are checked for each."""
    import dataclasses

    import onnx

    from specser.export import onnx_export

    real_graph = onnx_export._graph

    def graph_once(wrapped, *args, **kwargs):  # keyed by the weights: a hit is the same graph
        key = b"".join(t.numpy().tobytes() for t in wrapped.state_dict().values())
        if key not in _NETWORK_GRAPHS:
            _NETWORK_GRAPHS[key] = real_graph(wrapped, *args, **kwargs).SerializeToString()
        return onnx.load_from_string(_NETWORK_GRAPHS[key])

    monkeypatch.setattr(onnx_export, "_graph", graph_once)

    from specser.features.logmel import mel_filterbank
    from specser.inference.model_file import ModelFile
    from specser.models import create_model
    from specser.models.registry import config_dict

    fc = dataclasses.replace(FeatureConfig(n_mels=40, n_fft=512, win_length=512, hop_length=160, clip_seconds=1.0),
                             **({"compression": "pcen", "level_norm": True} if norm == "pcen" else {norm: True}))
    options = {"stem_channels": 8, "widths": [8, 8, 16, 16], "num_classes": 6}
    torch.manual_seed(0)
    model = create_model("spec_resnet", **options).eval()
    ModelFile.from_model(model, "spec_resnet", config_dict("spec_resnet", **options), list("abcdef"), fc,
                         torch.from_numpy(mel_filterbank(fc)), torch.full((40,), -30.0), torch.full((40,), 15.0)
                         ).save(tmp_path / "m.specser")
    export_onnx(tmp_path / "m.specser", tmp_path / "m.onnx")
    ours, theirs = Predictor.from_file(tmp_path / "m.specser", device="cpu"), OnnxPredictor(tmp_path / "m.onnx")
    assert theirs.features.compression == "pcen" if norm == "pcen" else getattr(theirs.features, norm)
    rng = np.random.default_rng(0)
    waves = [emotional_tone(c, 1, rng, seconds=s) * g for c, s, g in (("05", 1.0, 1.0), ("01", 1.4, 0.05))]
    assert np.abs(ours.probabilities(waves) - theirs.probabilities(waves)).max() < 1e-4
    quiet = ours.probabilities([w * 0.1 for w in waves])
    assert np.abs(quiet - ours.probabilities(waves)).max() < 1e-3  # 20 dB quieter: the same probabilities
