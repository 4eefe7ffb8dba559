import json

import numpy as np
import pytest

from specser.corpus.manifest import Utterance
from specser.evaluation.compare import CompareError, compare_runs
from specser.evaluation.cv_summary import summarize_folds
from specser.evaluation.metrics import compute_metrics
from specser.evaluation.summaries import CVRun, FoldRecord


def _fold(acc: float, n: int = 1000) -> dict:
    """Two balanced classes, the first `acc * n` files right."""
    targets = np.arange(n) % 2
    preds = np.where(np.arange(n) < round(acc * n), targets, 1 - targets)
    rows = [Utterance(str(i), f"{i}.wav", "ab"[t], "s") for i, t in enumerate(targets)]
    return compute_metrics(rows, targets, np.eye(2)[preds], ["a", "b"])


def _run(path, model, protocol, label_set, acc):
    """A finished cross-validation folder: two folds at acc ± 1.414 points (sample std 2.0)."""
    path.mkdir(parents=True)
    folds = [_fold(acc - 0.01414), _fold(acc + 0.01414)]
    run = CVRun(path.name, model, protocol, "paper", protocol != "random-5fold", 2, "data", "ravdess", label_set,
                2000, 0, 42, [FoldRecord(1, ["01"], 1000, 60.0), FoldRecord(2, ["02"], 1000, 60.0)], 120.0, 120.0)
    (path / "cv_summary.json").write_text(json.dumps(summarize_folds(folds, run).to_dict()))
    return path


def test_comparison_table_puts_published_claims_beside_measurements(tmp_path):
    runs = [_run(tmp_path / "a", "Spec-ResNet (native)", "random-5fold", "ravdess6", 0.61),
            _run(tmp_path / "b", "MFCC + SVM", "actor-5fold", "ravdess6", 0.5),
            _run(tmp_path / "c", "MFCC + SVM", "emobox", "ravdess8", 0.45)]
    text, png = compare_runs(runs, tmp_path / "cmp.md")
    lines = text.splitlines()
    measured = next(l for l in lines if "Spec-ResNet (native)" in l)
    assert "61.0 ± 2.0" in measured and "2.0 min" in measured
    assert any("*Spec-ResNet (paper's claim)*" in l and "*91.5 ± 0.8*" in l for l in lines)
    assert any("Whisper-large-v3" in l and "*75.9*" in l for l in lines)
    # Published rows appear only for the protocols that were run, after the protocol's own rows.
    order = [l.split("|")[1].strip(" *") for l in lines if l.startswith("| ") and "protocol" not in l]
    assert order == sorted(order, key=["random-5fold", "actor-5fold", "emobox"].index)
    assert (tmp_path / "cmp.md").read_text().startswith("# specser comparison") and png.stat().st_size > 5000


def test_unfinished_run_is_a_clear_error(tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(CompareError, match="no cv_summary.json"):
        compare_runs([tmp_path / "half"], tmp_path / "x.md")
