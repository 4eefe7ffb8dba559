"""The `unfamiliar` warning: statistics of the training clips' embeddings, a threshold set on validation clips."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from specser.inference.familiarity import MIN_CLIPS, Familiarity, fit_familiarity
from specser.inference.model_file import ModelFile
from specser.inference.predictor import Predictor
from tests.synth import emotional_tone


def _clusters(rng, n_per_class: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    centres = np.eye(3, 8) * 6
    targets = np.repeat(np.arange(3), n_per_class)
    return centres[targets] + rng.standard_normal((len(targets), 8)) + shift, targets


def test_the_score_is_the_distance_to_the_nearest_class_and_the_threshold_a_validation_quantile():
    rng = np.random.default_rng(0)
    train, targets = _clusters(rng, 400)
    validation, _ = _clusters(rng, 200)
    stats = fit_familiarity(train, targets, validation)
    assert stats.threshold == pytest.approx(np.quantile(stats.score(torch.from_numpy(validation).float()).numpy(), 0.95))
    x = torch.tensor([[6.0, 0, 0, 0, 0, 0, 0, 0.5]])  # near class 0's mean
    diff = x.numpy()[0] - stats.means.numpy()
    expected = min(d @ stats.precision.numpy() @ d for d in diff)
    assert stats.score(x).item() == pytest.approx(expected, rel=1e-4)
    fresh, _ = _clusters(rng, 300)  # like the training clips: about one in twenty over the threshold
    assert 0.02 < float((stats.score(torch.from_numpy(fresh).float()) > stats.threshold).float().mean()) < 0.09
    far, _ = _clusters(rng, 100, shift=5.0)  # another "corpus": every class moved
    assert bool((stats.score(torch.from_numpy(far).float()) > stats.threshold).all())


def test_too_few_validation_clips_leave_no_threshold():
    rng = np.random.default_rng(1)
    train, targets = _clusters(rng, 50)
    with pytest.raises(ValueError, match=f"at least {MIN_CLIPS} validation clips"):
        fit_familiarity(train, targets, train[: MIN_CLIPS - 1])


def test_a_trained_run_carries_its_statistics_and_they_load_safely(trained_run):
    mf = ModelFile.load(trained_run / "model.specser")  # weights_only=True
    stats = mf.familiarity
    width = mf.model_config["widths"][-1]
    assert stats.means.shape == (len(mf.labels), width) and stats.precision.shape == (width, width)
    assert stats.threshold > 0 and stats.quantile == 0.95
    assert Familiarity.from_payload(stats.to_payload()).threshold == stats.threshold


def _foreign(seconds: float = 1.0) -> np.ndarray:
    """A voiced sound unlike the synthetic corpus: a low buzz with every harmonic equally loud, fluttering fast,
    between pauses as the corpus's tones are."""
    sr = 16000
    t = np.arange(int(sr * seconds)) / sr
    wave = sum(np.sin(2 * np.pi * 70 * k * t) for k in range(1, 60)) * (1 + 0.9 * np.sin(2 * np.pi * 30 * t))
    envelope = np.clip(np.minimum(t - 0.15, 0.9 - t) / 0.05, 0, 1) if seconds == 1.0 else 1.0
    noise = 0.01 * np.random.default_rng(0).standard_normal(t.size)
    return (0.3 * wave * envelope / np.abs(wave).max() + noise).astype(np.float32)


def test_the_training_corpus_is_familiar_and_a_foreign_sound_is_not(trained_run):
    predictor = Predictor.from_file(trained_run / "model.specser", device="cpu")
    rows = json.loads((trained_run / "metrics.json").read_text())["predictions"]  # held-out clips of the corpus
    flagged = [any(w.kind == "unfamiliar" for w in predictor.predict(r["path"]).warnings) for r in rows]
    assert np.mean(flagged) <= 0.2
    foreign = predictor.predict_wave(_foreign())
    assert [w.kind for w in foreign.warnings] == ["unfamiliar"] and foreign.label in predictor.labels
    assert "unlike those the model learned from" in foreign.warnings[0].message


def test_a_model_file_without_statistics_never_warns(trained_run):
    mf = ModelFile.load(trained_run / "model.specser")
    plain = dataclasses.replace(mf, extra={k: v for k, v in mf.extra.items() if k != "familiarity"})
    predictor = Predictor(plain, device="cpu")
    assert predictor.familiarity_threshold is None
    result = predictor.predict_wave(_foreign())
    assert result.warnings == []
    np.testing.assert_allclose(list(result.probabilities.values()),
                               list(Predictor(mf, device="cpu").predict_wave(_foreign()).probabilities.values()), atol=1e-6)


def test_a_long_recording_is_scored_over_its_windows(trained_run):
    predictor = Predictor.from_file(trained_run / "model.specser", device="cpu")
    foreign = predictor.predict_wave(np.concatenate([_foreign() for _ in range(4)]))
    assert len(foreign.timeline) > 1 and [w.kind for w in foreign.warnings] == ["unfamiliar"]
    rng = np.random.default_rng(3)
    own = predictor.predict_wave(np.concatenate([emotional_tone("05", 2, rng, seconds=1.0) for _ in range(4)]))
    assert len(own.timeline) > 1 and own.warnings == []


def test_an_evaluation_says_how_much_of_the_data_is_unfamiliar(trained_run, tmp_path):
    from specser.runs.evaluate import evaluate_run

    metrics = evaluate_run(trained_run, out=tmp_path, progress=False)
    figures, rows = metrics["unfamiliar"], metrics["predictions"]
    assert figures["n_flagged"] == sum(r["unfamiliar"] for r in rows) and 0 <= figures["flagged"] <= 0.2
    assert figures["threshold"] == pytest.approx(ModelFile.load(trained_run / "model.specser").familiarity.threshold)
    assert "The `unfamiliar` warning flags" in (tmp_path / "report.md").read_text()
