"""Calibration: ECE, NLL and Brier against hand-computed values, which way the verdict points, and the
figures reaching metrics.json, both reports and a plot."""

import numpy as np
import pytest
from sklearn.metrics import log_loss

from specser.evaluation.calibration import calibration
from specser.evaluation.cv_report import render_cv_report
from specser.evaluation.cv_summary import summarize_folds
from specser.evaluation.report import render_report, verdict
from specser.evaluation.summaries import CVRun, CVSummary, FoldRecord
from tests.evaluation.test_metrics import _metrics
from tests.evaluation.test_report import RUN


def _probs(top: list[float], predicted: list[int], classes: int = 3) -> np.ndarray:
    """Rows whose top probability is `top` on class `predicted`, the rest spread evenly."""
    probs = np.array([[(1 - t) / (classes - 1)] * classes for t in top])
    probs[np.arange(len(top)), predicted] = top
    return probs


def test_a_model_as_sure_as_it_is_right_has_no_calibration_error():
    probs = _probs([0.8] * 10, [0] * 10)
    c = calibration(np.array([0] * 8 + [1] * 2), probs)
    assert c["ece"] == pytest.approx(0.0) and c["accuracy"] == pytest.approx(0.8)
    assert c["confidence_when_right"] == c["confidence_when_wrong"] == pytest.approx(0.8)
    assert verdict(c).startswith("Well calibrated")


def test_ece_weights_each_bins_gap_by_its_share_of_the_clips():
    # Bin (0.6, 0.667]: 4 clips at 0.65, 1 right (gap 0.4). Bin (0.933, 1]: 6 clips at 0.95, all right (gap 0.05).
    probs = _probs([0.65] * 4 + [0.95] * 6, [0] * 10)
    targets = np.array([0, 1, 1, 1] + [0] * 6)
    c = calibration(targets, probs)
    assert c["ece"] == pytest.approx(0.4 * 0.4 + 0.6 * 0.05)
    assert [(r["n"], r["accuracy"]) for r in c["reliability"]] == [(4, 0.25), (6, 1.0)]
    assert c["confidence_when_wrong"] == pytest.approx(0.65) and c["confidence_when_right"] == pytest.approx((0.65 + 6 * 0.95) / 7)
    assert c["nll"] == pytest.approx(log_loss(targets, probs, labels=[0, 1, 2]))
    # 7 right (1 at 0.65, 6 at 0.95) against 3 wrong (all at 0.65): pairs ranked right 18, tied 3 of 21.
    assert c["confidence_auroc"] == pytest.approx((18 + 0.5 * 3) / 21)
    onehot = np.eye(3)[targets]
    assert c["brier"] == pytest.approx(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def test_bins_include_their_upper_edge_and_the_verdict_names_the_direction():
    edge = calibration(np.array([0, 0]), _probs([0.5, 1.0], [0, 0], classes=2), bins=2)
    assert [(r["from"], r["to"], r["n"]) for r in edge["reliability"]] == [(0.0, 0.5, 1), (0.5, 1.0, 1)]
    assert edge["confidence_when_wrong"] is None and edge["confidence_auroc"] is None  # every label right
    over = calibration(np.array([0, 1, 1, 1]), _probs([0.9] * 4, [0] * 4))
    assert verdict(over).startswith("Over-confident on these clips by 65.0 points")
    under = calibration(np.array([0] * 4), _probs([0.4] * 4, [0] * 4))
    assert verdict(under).startswith("Under-confident on these clips by 60.0 points")


def test_no_clips_no_figures():
    empty = calibration(np.array([], dtype=int), np.zeros((0, 3)))
    assert empty["n"] == 0 and empty["ece"] is None and empty["reliability"] == []
    assert verdict(empty).startswith("No clips")


def test_the_run_report_and_metrics_say_how_far_to_trust_the_probabilities():
    m = _metrics()  # every top probability 0.8, 7 of 12 right
    assert m["calibration"]["ece"] == pytest.approx(0.8 - 7 / 12)
    text = render_report(RUN, m, [])
    assert "### How far to trust its probabilities" in text
    assert "| 58.3 % | 80.0 % | 21.7 % | 80.0 % / 80.0 % | 0.50 |" in text and "Over-confident" in text


def test_the_cv_summary_and_report_give_calibration_over_folds():
    folds = [_metrics(), _metrics()]
    run = CVRun("cv", "Spec-ResNet (native)", "actor-5fold", "paper", True, 2, "/data", "ravdess", "ravdess6", 24, 0,
                42, [FoldRecord(1, ["01"], 12), FoldRecord(2, ["02"], 12)], 61.0, 61.0)
    summary = summarize_folds(folds, run)
    assert summary.calibration["ece"].mean == pytest.approx(0.8 - 7 / 12)
    assert CVSummary.from_dict(summary.to_dict()) == summary
    text = render_cv_report(summary, [])
    assert "(ECE) 21.7 ± 0.0 %" in text and "AUROC of 0.50 ± 0.00" in text
    older = {k: v for k, v in _metrics().items() if k != "calibration"}  # a fold written before calibration
    assert summarize_folds([folds[0], older], run).calibration == {}


def test_the_reliability_plot_is_a_png(tmp_path):
    from specser.evaluation.plots import plot_reliability

    plot_reliability(_metrics()["calibration"], tmp_path / "reliability.png")
    assert (tmp_path / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_reliability(calibration(np.array([], dtype=int), np.zeros((0, 3))), tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()
