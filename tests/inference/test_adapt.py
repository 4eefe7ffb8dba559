"""Adapting a model to recordings without labels: BatchNorm statistics measured again, nothing else moved."""

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from specser.cli.main import app
from specser.inference.adapt import MIN_INPUTS, PRIOR, adapt, adapt_to_logmels, speech_windows
from specser.inference.model_file import ModelFile
from specser.inference.predictor import Predictor
from tests.synth import emotional_tone

runner = CliRunner()


def _waves(n: int, seed: int = 0, gain: float = 1.0, noise: float = 0.0) -> list[np.ndarray]:
    """n one-second clips of the synthetic emotions, optionally with a noise floor (another 'room')."""
    rng = np.random.default_rng(seed)
    codes = ["01", "03", "04", "05", "06", "08"]
    return [(gain * emotional_tone(codes[i % 6], 1 + i % 5, rng) + noise * rng.standard_normal(16000)).astype(np.float32)
            for i in range(n)]


def _first_batch_norm_input_mean(model_file: ModelFile, logmels: list) -> torch.Tensor:
    """The per-channel mean of what the network's first BatchNorm receives, over all the inputs."""
    predictor = Predictor(model_file, device="cpu", tta_crops=1)
    network = model_file.build()
    first = next(m for m in network.modules() if isinstance(m, torch.nn.BatchNorm2d))
    seen = []
    first.register_forward_hook(lambda module, args, output: seen.append(args[0].detach().mean(dim=(0, 2, 3)) * len(args[0])))
    predictor.model = network
    predictor.feature_probabilities(logmels)
    return torch.stack(seen).sum(0) / len(logmels)


def test_only_batch_norm_statistics_change_and_they_are_those_of_the_recordings(trained_run):
    mf = ModelFile.load(trained_run / "model.specser")
    predictor = Predictor(mf, device="cpu", tta_crops=1)
    logmels = predictor.logmels(_waves(64, noise=0.01))  # two full batches: the mean of batch means is the mean
    adapted = adapt_to_logmels(mf, logmels)
    changed = {k for k in mf.state_dict if not torch.equal(mf.state_dict[k], adapted.state_dict[k])}
    assert changed and all("running_" in k or "num_batches_tracked" in k for k in changed)
    first_mean = next(k for k in mf.state_dict if k.endswith("running_mean"))
    assert torch.allclose(adapted.state_dict[first_mean], _first_batch_norm_input_mean(mf, logmels), atol=1e-4)
    assert adapted.extra["adapted"]["inputs"] == 64 and adapted.labels == mf.labels
    assert adapted.state_dict[first_mean].dtype == mf.state_dict[first_mean].dtype


def test_a_prior_mixes_the_trained_statistics_in_by_the_number_of_inputs(trained_run):
    mf = ModelFile.load(trained_run / "model.specser")
    logmels = Predictor(mf, device="cpu", tta_crops=1).logmels(_waves(10, seed=8, gain=0.3, noise=0.01))
    alone, mixed = adapt_to_logmels(mf, logmels, min_inputs=1), adapt_to_logmels(mf, logmels, min_inputs=1, prior=30)
    for key in (k for k in mf.state_dict if k.endswith(("running_mean", "running_var"))):
        expected = 0.25 * alone.state_dict[key] + 0.75 * mf.state_dict[key]  # 10 inputs against a prior of 30
        assert torch.allclose(mixed.state_dict[key], expected, atol=1e-6)
    assert mixed.extra["adapted"]["prior"] == 30 and "prior" not in alone.extra["adapted"]


def test_the_adapted_file_round_trips_and_predicts(trained_run, tmp_path):
    mf = ModelFile.load(trained_run / "model.specser")
    adapted = adapt(mf, _waves(30, seed=1, gain=0.3, noise=0.005))
    adapted.save(tmp_path / "adapted.specser")
    again = ModelFile.load(tmp_path / "adapted.specser")  # weights_only: still a safe file
    assert again.extra["adapted"]["method"].startswith("BatchNorm statistics")
    probs = Predictor(again, device="cpu").probabilities(_waves(6, seed=2))
    assert probs.shape == (6, len(mf.labels)) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_long_recordings_give_their_windows_of_speech_only(trained_run):
    predictor = Predictor(ModelFile.load(trained_run / "model.specser"), device="cpu")
    speech = np.concatenate(_waves(4, seed=3))  # 4 s of speech, then 4 s of silence: 1 s windows
    windows = speech_windows(predictor, np.concatenate([speech, np.zeros(4 * 16000, np.float32)]))
    assert len(windows) == 4 and all(w.size == 16000 for w in windows)
    assert len(speech_windows(predictor, speech[:16000])) == 1


def test_too_few_inputs_or_no_batch_norm_is_a_clear_error(trained_run):
    mf = ModelFile.load(trained_run / "model.specser")
    logmels = Predictor(mf, device="cpu").logmels(_waves(MIN_INPUTS - 1))
    with pytest.raises(ValueError, match=f"at least {MIN_INPUTS} clips"):
        adapt_to_logmels(mf, logmels)
    no_norms = ModelFile.from_model(torch.nn.Linear(3, 2), "linear", {}, ["a", "b"], mf.features, mf.filterbank)
    no_norms.build = lambda: torch.nn.Linear(3, 2)  # a network with nothing to adapt
    with pytest.raises(ValueError, match="no BatchNorm layers"):
        adapt_to_logmels(no_norms, logmels + logmels)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    root = tmp_path_factory.mktemp("my-recordings")
    for i, wave in enumerate(_waves(24, seed=4, gain=0.5, noise=0.003)):
        sf.write(root / f"take{i:02d}.wav", wave, 16000)
    (root / "broken.wav").write_bytes(b"RIFF....WAVE not really")
    return root


def test_cli_adapts_skips_bad_files_and_the_result_predicts(trained_run, recordings, tmp_path):
    model = trained_run / "model.specser"
    out = tmp_path / "mine.specser"
    result = runner.invoke(app, ["adapt", str(model), str(recordings), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "broken.wav" in result.output
    assert "adapted to 24 recordings" in result.output and f"specser predict {out}" in result.output
    record = ModelFile.load(out).extra["adapted"]
    assert record["recordings"] == 24 and record["inputs"] == 24 and record["from_model"] == str(model)
    assert record["prior"] == PRIOR  # the CLI's default is the library's
    predicted = runner.invoke(app, ["predict", str(out), str(recordings / "take00.wav"), "--no-progress"])
    assert predicted.exit_code == 0 and "take00.wav" in predicted.output


def test_predict_adapt_to_labels_as_the_adapted_file_does(trained_run, recordings, tmp_path):
    import json

    model, clip = str(trained_run / "model.specser"), str(recordings / "take05.wav")
    out = tmp_path / "mine.specser"
    assert runner.invoke(app, ["adapt", model, str(recordings), "--out", str(out), "--no-progress"]).exit_code == 0
    two_steps = runner.invoke(app, ["predict", str(out), clip, "--format", "json", "--no-progress"])
    one_step = runner.invoke(app, ["predict", model, clip, "--adapt-to", str(recordings), "--format", "json",
                                   "--no-progress"])
    assert one_step.exit_code == 0, one_step.output
    assert "adapted to 24 recordings" in one_step.stderr and "broken.wav" in one_step.stderr
    first, second = (json.loads(r.stdout)[0]["probabilities"] for r in (two_steps, one_step))
    assert first == second
    plain = json.loads(runner.invoke(app, ["predict", model, clip, "--format", "json", "--no-progress"]).stdout)
    assert plain[0]["probabilities"] != second
    few = runner.invoke(app, ["predict", model, clip, "--adapt-to", str(recordings / "take0[0-2].wav")])
    assert few.exit_code == 2 and f"at least {MIN_INPUTS}" in few.output and "3 readable recordings" in few.output
    ensemble = tmp_path / "ensemble"
    ensemble.mkdir()
    (ensemble / "a.specser").write_bytes((trained_run / "model.specser").read_bytes())
    refused = runner.invoke(app, ["predict", str(ensemble), clip, "--adapt-to", str(recordings)])
    assert refused.exit_code == 2 and "single .specser model" in refused.output


def test_cli_refuses_what_it_cannot_adapt(trained_run, recordings, tmp_path):
    model = str(trained_run / "model.specser")
    few = runner.invoke(app, ["adapt", model, str(recordings / "take0[0-3].wav"), "--out", str(tmp_path / "x.specser")])
    assert few.exit_code == 2 and f"at least {MIN_INPUTS}" in few.output and "4 readable recordings" in few.output
    onnx = runner.invoke(app, ["adapt", str(tmp_path / "m.onnx"), str(recordings), "--out", str(tmp_path / "y.specser")])
    assert onnx.exit_code == 2 and "adapt a .specser model file" in onnx.output
    itself = runner.invoke(app, ["adapt", model, str(recordings), "--out", model])
    assert itself.exit_code == 2 and "is the model itself" in itself.output
    suffix = runner.invoke(app, ["adapt", model, str(recordings), "--out", str(tmp_path / "x.pt")])
    assert suffix.exit_code == 2 and "a .specser file" in suffix.output


def test_evaluate_adapt_says_so_in_the_report(trained_run, tmp_path):
    result = runner.invoke(app, ["evaluate", str(trained_run), "--adapt", "--out", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    import json

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["adapted"]["inputs"] == metrics["n"]
    assert "Adapted to these clips" in (tmp_path / "report.md").read_text()
    both = runner.invoke(app, ["evaluate", str(trained_run), "--adapt", "--conditions", "all", "--out", str(tmp_path)])
    assert both.exit_code == 2 and "run them apart" in both.output


def test_evaluate_profiles_scores_each_speakers_other_clips_beside_the_model_as_trained(trained_run, tmp_path):
    import json

    result = runner.invoke(app, ["evaluate", str(trained_run), "--profiles", "3", "--out", str(tmp_path / "p"),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "as trained, on the same clips" in result.output
    metrics = json.loads((tmp_path / "p" / "metrics.json").read_text())
    split = json.loads((trained_run / "split.json").read_text())["test"]
    speakers = {i.split("-")[-1].split(".")[0] for i in split}
    assert metrics["n"] == len(split) - 3 * len(speakers) and metrics["profiles"]["left_out_speakers"] == []
    # the baseline is the plain model on exactly the clips the profiles labelled
    plain = runner.invoke(app, ["evaluate", str(trained_run), "--out", str(tmp_path / "plain"), "--no-progress"])
    assert plain.exit_code == 0
    per_file = json.loads((tmp_path / "plain" / "metrics.json").read_text())["predictions"]
    labelled = {p["utt_id"] for p in metrics["predictions"]}
    same = [p for p in per_file if p["utt_id"] in labelled]
    expected = sum(p["predicted"] == p["label"] for p in same) / len(same)
    assert metrics["profiles"]["as_trained_on_the_same_clips"]["accuracy"] == pytest.approx(expected)
    assert "With voice profiles" in (tmp_path / "p" / "report.md").read_text()
    both = runner.invoke(app, ["evaluate", str(trained_run), "--profiles", "3", "--adapt"])
    assert both.exit_code == 2 and "run it apart" in both.output
