import json

import pytest

from specser.evaluation.compare import CompareError, compare_runs


def _run(path, model, protocol, label_set, acc):
    path.mkdir(parents=True)
    stat = {"mean": acc, "std": 0.02, "per_fold": [acc - 0.02, acc + 0.02]}
    summary = {"accuracy": stat, "uar": stat, "macro_f1": stat,
               "run": {"model": model, "protocol": protocol, "label_set": label_set, "n_folds": 2, "fold_wall_time_s": 120.0}}
    (path / "cv_summary.json").write_text(json.dumps(summary))
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
