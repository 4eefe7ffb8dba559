"""Test-time crops: the mean over evenly spaced windows; clips no longer than a window are predicted once."""

import json

import numpy as np
import torch

from specser.evaluation.inference import crop_tta_probabilities
from specser.models import create_model


def test_crop_tta_is_the_mean_over_windows():
    torch.manual_seed(0)
    model = create_model("spec_resnet", stem_channels=8, widths=[8, 8, 8, 8], num_classes=3).eval()
    rng = np.random.default_rng(0)
    long, short = rng.standard_normal((16, 50)).astype(np.float32), rng.standard_normal((16, 12)).astype(np.float32)
    mean, std = np.zeros(16, np.float32), np.ones(16, np.float32)
    probs = crop_tta_probabilities(model, [long, short], mean, std, frames=20, crops=3)

    def p(window):
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(window)[None, None]), 1)[0].numpy()

    expected_long = np.mean([p(long[:, s:s + 20]) for s in (0, 15, 30)], axis=0)  # starts 0, (50-20)/2, 50-20
    np.testing.assert_allclose(probs[0], expected_long, atol=1e-5)
    padded = np.concatenate([short, np.full((16, 8), short.min(), np.float32)], axis=1)  # as fit_length pads
    np.testing.assert_allclose(probs[1], p(padded), atol=1e-5)


def test_evaluate_with_tta_crops_on_window_length_clips_changes_nothing(trained_run, tmp_path):
    from specser.runs.evaluate import evaluate_run

    plain = evaluate_run(trained_run, out=tmp_path / "plain", progress=False)
    tta = evaluate_run(trained_run, out=tmp_path / "tta", progress=False, tta_crops=3)
    assert tta["accuracy"] == plain["accuracy"]  # 1 s synthetic clips fit one 1 s window: one crop each
    assert json.loads((tmp_path / "tta" / "metrics.json").read_text())["n"] == plain["n"]
