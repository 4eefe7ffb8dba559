"""Training end to end on synthetic audio: it must really learn, write a complete run folder, and resume."""

import json

import pytest
import torch
import yaml

from specser.inference.model_file import ModelFile
from specser.config import load_config
from specser.runs.train import RunFolderError, TrainingInterrupted, train_run
from tests.synth import FAST_OVERRIDES


def test_short_training_beats_chance_clearly(trained_run):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert len(metrics["labels"]) == 6
    assert metrics["accuracy"] >= 0.6, metrics["accuracy"]  # chance is 1/6
    assert metrics["uar"] >= 0.6


def test_run_folder_is_self_contained(trained_run):
    for name in ("config.yaml", "metrics.json", "report.md", "model.specser", "split.json", "manifest.csv",
                 "training_curves.png", "lr_vs_val_loss.png", "confusion_matrix.png", "reliability.png",
                 "spectrogram_batch.png", "checkpoints/best.ckpt", "checkpoints/last.ckpt"):
        assert (trained_run / name).is_file(), name
    metrics = json.loads((trained_run / "metrics.json").read_text())
    for key in ("accuracy", "uar", "macro_f1", "per_class", "confusion_matrix", "labels", "predictions",
                "accuracy_by_intensity", "confusion_matrix_normalized", "calibration"):
        assert key in metrics
    assert len(metrics["predictions"]) == metrics["n"] == sum(map(sum, metrics["confusion_matrix"]))
    first = metrics["predictions"][0]
    assert set(first["probabilities"]) == set(metrics["labels"])
    assert abs(sum(first["probabilities"].values()) - 1) < 1e-3
    assert set(metrics["accuracy_by_intensity"]) == {"normal", "strong"}
    assert yaml.safe_load((trained_run / "config.yaml").read_text())["train"]["max_epochs"] == 8
    report = (trained_run / "report.md").read_text()
    assert "random-holdout" in report and "Speaker overlap" in report and "| neutral |" in report
    assert "How far to trust its probabilities" in report and "![reliability.png](reliability.png)" in report
    mf = ModelFile.load(trained_run / "model.specser")
    assert mf.labels == metrics["labels"] and mf.mean.shape == (40,)


def test_finished_run_is_not_overwritten(trained_run):
    cfg = load_config(trained_run / "config.yaml")
    with pytest.raises(RunFolderError, match="already holds a finished run"):
        train_run(cfg, trained_run, progress=False)


def test_speaker_holdout_and_pad_batch(synth_corpus, tmp_path):
    cfg = load_config(overrides=FAST_OVERRIDES + [
        f"data.path={synth_corpus}", "data.test_speakers=['05', '06']", "features.length_mode=pad_batch",
        "train.max_epochs=2"])
    train_run(cfg, tmp_path / "run", progress=False)
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    assert split["protocol"] == "speaker-holdout"
    speakers = lambda ids: {i.rsplit("-", 1)[1] for i in ids}  # noqa: E731
    assert speakers(split["test"]) == {"05", "06"}
    assert not speakers(split["train"] + split["val"]) & {"05", "06"}
    assert "Speaker overlap" not in (tmp_path / "run" / "report.md").read_text()


def test_image_mode_trains_on_pngs(synth_corpus, tmp_path):
    cfg = load_config(overrides=FAST_OVERRIDES + [
        f"data.path={synth_corpus}", "features.mode=image", "features.image_size=64", "train.max_epochs=1"])
    metrics = train_run(cfg, tmp_path / "run", progress=False)
    assert metrics["n"] > 0
    mf = ModelFile.load(tmp_path / "run" / "model.specser")
    assert mf.mean is None and mf.model_config["in_channels"] == 3


def test_interrupted_training_resumes(synth_corpus, tmp_path, monkeypatch):
    import lightning as L

    import specser.training.fit as fit_module

    class CtrlCInSecondEpoch(L.Callback):
        def on_train_epoch_start(self, trainer, pl_module):
            if trainer.current_epoch == 1:
                raise KeyboardInterrupt

    original = fit_module.build_trainer

    def interrupting(*args, **kwargs):
        trainer = original(*args, **kwargs)
        trainer.callbacks.append(CtrlCInSecondEpoch())
        return trainer

    cfg = load_config(overrides=FAST_OVERRIDES + [f"data.path={synth_corpus}", "train.max_epochs=3"])
    run = tmp_path / "run"
    monkeypatch.setattr(fit_module, "build_trainer", interrupting)
    with pytest.raises(TrainingInterrupted, match="run the same command again to resume"):
        train_run(cfg, run, progress=False)
    assert (run / "checkpoints" / "last.ckpt").exists() and not (run / "metrics.json").exists()
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 0

    monkeypatch.setattr(fit_module, "build_trainer", original)
    other = load_config(overrides=FAST_OVERRIDES + [f"data.path={synth_corpus}", "train.max_epochs=4"])
    with pytest.raises(RunFolderError, match="different config"):
        train_run(other, run, progress=False)
    saved = yaml.safe_load((run / "config.yaml").read_text())
    del saved["train"]["balance_corpora"]  # as an older specser wrote it, before the key existed
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    train_run(cfg, run, progress=False)  # a new key at its default does not stop the resume
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["run"]["epochs"] == 3
    assert sorted(int(k) for k in metrics["history"]["train_loss"]) == [0, 1, 2]


@pytest.mark.slow
def test_sigterm_stops_specser_train_resumably(synth_corpus, tmp_path):
    """SIGTERM mid-training: Lightning finishes the batch in hand, the command exits 130 and says how to
    resume; the last finished epoch's checkpoint is kept."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    sets = [a for s in FAST_OVERRIDES + ["train.max_epochs=200", "train.early_stopping_patience=200"]
            for a in ("--set", s)]
    proc = subprocess.Popen([sys.executable, "-m", "specser.cli.main", "train", "--data", str(synth_corpus),
                             "--out", str(out), "--no-progress", *sets],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not (out / "checkpoints" / "last.ckpt").exists():
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "run the same command again to resume" in stderr, stderr[-2000:]
    assert (out / "checkpoints" / "last.ckpt").exists() and not (out / "metrics.json").exists()


def _held_out_speaker_run(synth_corpus, tmp_path, overrides: list[str]):
    """A 6-epoch run with gain augmentation (audio-domain: features computed on the fly) and speaker 06
    held out: its metrics (it must learn), model file, test waves and the probabilities it reported."""
    import numpy as np

    from specser.audio.load import load_audio

    cfg = load_config(overrides=FAST_OVERRIDES + [
        f"data.path={synth_corpus}", "data.test_speakers=['06']", "train.augment.gain_db=3", "train.max_epochs=6",
        *overrides])
    train_run(cfg, tmp_path / "run", progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.5, metrics["accuracy"]
    mf = ModelFile.load(tmp_path / "run" / "model.specser")
    rows = metrics["predictions"]
    expected = np.array([[r["probabilities"][label] for label in mf.labels] for r in rows])
    return metrics, mf, [load_audio(r["path"], 16000) for r in rows], expected


def test_speaker_normalised_run_predicts_alike_in_evaluation_and_inference(synth_corpus, tmp_path):
    """features.speaker_norm: each clip relative to its speaker's statistics, in training (audio-domain
    augmentation included), in the run's evaluation, and through the predictor with the speaker's
    recordings named (`set_speaker`, as `specser predict --speaker-stats` does) or grouped by speaker."""
    import numpy as np

    from specser.inference.predictor import Predictor

    metrics, mf, waves, expected = _held_out_speaker_run(synth_corpus, tmp_path, [
        "features.speaker_norm=true", "train.augment.eq_prob=0.5"])
    assert "Speaker-normalised" in (tmp_path / "run" / "report.md").read_text()
    assert mf.features.speaker_norm
    predictor = Predictor(mf, device="cpu")
    rows = metrics["predictions"]
    grouped = predictor.probabilities_by_speaker(waves, ["06"] * len(waves))
    assert np.abs(grouped - expected).max() < 1e-3
    predictor.set_speaker(waves)
    assert np.abs(predictor.probabilities(waves) - expected).max() < 1e-3
    own = Predictor(mf, device="cpu").probabilities(waves[:3])  # no speaker named: each clip its own statistics
    assert own.shape == (3, 6) and np.abs(own - expected[:3]).max() > 1e-3

    from typer.testing import CliRunner

    from specser.cli.main import app

    paths = [r["path"] for r in rows]
    named = [arg for path in paths for arg in ("--speaker-stats", path)]
    result = CliRunner().invoke(app, ["predict", str(tmp_path / "run" / "model.specser"), *paths[:4], *named,
                                      "--format", "json", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert f"speaker statistics from {len(paths)} recordings" in result.output
    got = json.loads(result.stdout[result.stdout.index("["):])
    assert np.abs(np.array([[g["probabilities"][label] for label in mf.labels] for g in got]) - expected[:4]).max() < 1e-3


def test_weight_averaging_gives_the_model_file_the_averaged_weights(synth_corpus, tmp_path):
    """train.ema_epochs: the best checkpoint and the model file hold the EMA of the weights, not the
    last step's. The run also records its validation accuracy and that validation held out speakers."""
    cfg = load_config(overrides=FAST_OVERRIDES + [f"data.path={synth_corpus}", "train.max_epochs=2",
                                                  "train.ema_epochs=1", "data.val_split=speaker"])
    train_run(cfg, tmp_path / "run", progress=False)
    run = json.loads((tmp_path / "run" / "metrics.json").read_text())["run"]
    assert run["val_by_speaker"] is True and 0.0 <= run["val_accuracy"] <= 1.0  # the report's validation line
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    averaged, current = ckpt["state_dict"], ckpt["current_model_state"]
    assert averaged.keys() == current.keys() and ckpt["averaging_state"]["n_averaged"] > 1
    weights = [k for k in averaged if k.endswith("weight") and averaged[k].is_floating_point()]
    assert any(not torch.allclose(averaged[k], current[k]) for k in weights)
    mf = ModelFile.load(tmp_path / "run" / "model.specser")
    best = torch.load(tmp_path / "run" / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    for name, value in mf.state_dict.items():
        torch.testing.assert_close(value.float(), best["model." + name].float())


def test_mixed_precision_run_says_so_and_keeps_a_float32_model(synth_corpus, tmp_path):
    cfg = load_config(overrides=FAST_OVERRIDES + [
        f"data.path={synth_corpus}", "train.precision=bf16-mixed", "train.augment.gain_db=3",
        "train.augment.noise_snr_db=[10, 30]", "train.max_epochs=1"])
    train_run(cfg, tmp_path / "run", progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["run"]["precision"] == "bf16-mixed"
    assert "on cpu (bf16-mixed)" in (tmp_path / "run" / "report.md").read_text()
    mf = ModelFile.load(tmp_path / "run" / "model.specser")
    assert {t.dtype for t in mf.state_dict.values()} <= {torch.float32, torch.int64}


def test_pcen_run_learns_and_predicts_as_it_evaluated(synth_corpus, tmp_path):
    """features.compression=pcen end to end: audio-domain augmentation computes PCEN on the fly, the cache
    and the run's evaluation read it, and the predictor rebuilds the same front-end from the model file."""
    import numpy as np

    from specser.inference.predictor import Predictor

    _, mf, waves, expected = _held_out_speaker_run(synth_corpus, tmp_path, [
        "features.compression=pcen", "features.level_norm=true"])
    assert mf.features.compression == "pcen"
    assert np.abs(Predictor(mf, device="cpu").probabilities(waves) - expected).max() < 1e-3
