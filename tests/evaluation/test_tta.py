"""Test-time crops: the mean over evenly spaced windows; clips no longer than a window are predicted once."""

import json

import numpy as np
import torch

from specser.config import FeatureConfig
from specser.inference.model_file import ModelFile
from specser.inference.predictor import Predictor
from specser.models import create_model


def test_crop_tta_is_the_mean_over_windows():
    torch.manual_seed(0)
    options = {"stem_channels": 8, "widths": [8, 8, 8, 8], "num_classes": 3}
    model = create_model("spec_resnet", **options).eval()
    fc = FeatureConfig(n_mels=16, n_fft=64, win_length=64, hop_length=16, sample_rate=320, clip_seconds=1.0)
    assert fc.clip_frames == 21
    mf = ModelFile.from_model(model, "spec_resnet", options, ["a", "b", "c"], fc, torch.rand(16, 33),
                              torch.zeros(16), torch.ones(16), tta_crops=3)
    predictor = Predictor(mf, device="cpu")
    rng = np.random.default_rng(0)
    long, short = rng.standard_normal((16, 51)).astype(np.float32), rng.standard_normal((16, 12)).astype(np.float32)
    probs = predictor.feature_probabilities([long, short])

    def p(window):
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(window)[None, None]), 1)[0].numpy()

    expected_long = np.mean([p(long[:, s:s + 21]) for s in (0, 15, 30)], axis=0)  # starts 0, (51-21)/2, 51-21
    np.testing.assert_allclose(probs[0], expected_long, atol=1e-5)
    padded = np.concatenate([short, np.full((16, 9), short.min(), np.float32)], axis=1)  # as fit_length pads
    np.testing.assert_allclose(probs[1], p(padded), atol=1e-5)
    one_crop = Predictor(mf, device="cpu", tta_crops=1).feature_probabilities([long])
    np.testing.assert_allclose(one_crop[0], p(long[:, 15:36]), atol=1e-5)  # the centred window


def test_evaluate_with_tta_crops_on_window_length_clips_changes_nothing(trained_run, tmp_path):
    from specser.runs.evaluate import evaluate_run

    plain = evaluate_run(trained_run, out=tmp_path / "plain", progress=False)
    tta = evaluate_run(trained_run, out=tmp_path / "tta", progress=False, tta_crops=3)
    assert tta["accuracy"] == plain["accuracy"]  # 1 s synthetic clips fit one 1 s window: one crop each
    assert json.loads((tmp_path / "tta" / "metrics.json").read_text())["n"] == plain["n"]


def test_time_views_are_the_mean_over_rolled_windows_and_travel_in_the_model_file(tmp_path):
    torch.manual_seed(0)
    options = {"stem_channels": 8, "widths": [8, 8, 8, 8], "num_classes": 3}
    model = create_model("spec_resnet", **options).eval()
    fc = FeatureConfig(n_mels=16, n_fft=64, win_length=64, hop_length=16, sample_rate=320, clip_seconds=1.0)
    mf = ModelFile.from_model(model, "spec_resnet", options, ["a", "b", "c"], fc, torch.rand(16, 33),
                              torch.zeros(16), torch.ones(16), time_views=(-4, 3))
    mf.save(tmp_path / "m.specser")
    loaded = ModelFile.load(tmp_path / "m.specser")
    assert loaded.time_views == (-4, 3)
    window = np.random.default_rng(1).standard_normal((16, 21)).astype(np.float32)

    def p(x):
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(np.ascontiguousarray(x))[None, None]), 1)[0].numpy()

    expected = np.mean([p(np.roll(window, k, axis=-1)) for k in (-4, 3)], axis=0)
    np.testing.assert_allclose(Predictor(loaded, device="cpu").feature_probabilities([window])[0], expected, atol=1e-5)
    plain = Predictor(loaded, device="cpu", time_views=()).feature_probabilities([window])[0]
    np.testing.assert_allclose(plain, p(window), atol=1e-5)
    payload = mf.to_payload()
    del payload["extra"]["time_views"]  # a file written before time views were recorded
    assert ModelFile.from_payload(payload).time_views == ()
