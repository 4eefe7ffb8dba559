import numpy as np
import pytest

from specser.evaluation.cv_summary import summarize_folds, top_confusions
from specser.evaluation.summaries import CVRun, CVSummary, FoldRecord


def _fold(acc, cm):
    labels = ["a", "b"]
    return {"labels": labels, "n": int(np.sum(cm)), "accuracy": acc, "uar": acc, "macro_f1": acc, "macro_precision": acc,
            "macro_recall": acc, "confusion_matrix": cm,
            "per_class": {l: {"precision": acc, "recall": acc, "f1": acc, "support": 1} for l in labels},
            "accuracy_by_intensity": {"strong": {"accuracy": acc, "n": 10}}}


RUN = CVRun("cv", "m", "x", "paper", False, 3, "data", "csv", "as found", 30, 0, 42,
            [FoldRecord(k, ["s"], 10) for k in (1, 2, 3)], 0.0, 0.0)


def test_mean_sample_std_per_fold_and_summed_confusions():
    folds = [_fold(0.8, [[4, 1], [1, 4]]), _fold(0.6, [[3, 2], [2, 3]]), _fold(0.7, [[4, 1], [2, 3]])]
    s = summarize_folds(folds, RUN)
    assert s.accuracy.mean == pytest.approx(0.7) and s.accuracy.std == pytest.approx(0.1)
    assert s.accuracy.per_fold == [0.8, 0.6, 0.7] and s.f1_per_class["b"].mean == pytest.approx(0.7)
    assert s.confusion_matrix == [[11, 4], [5, 10]] and s.n_test_per_fold == [10, 10, 10]
    assert s.pooled["accuracy"] == pytest.approx(21 / 30) and s.pooled["per_class"]["a"]["support"] == 15
    assert s.accuracy_by_intensity["strong"] == {"accuracy": pytest.approx(0.7), "n": 30}
    assert summarize_folds(folds[:1], RUN).accuracy.std == 0.0
    assert s.by_corpus == {}
    with pytest.raises(ValueError):
        summarize_folds([], RUN)


def test_summary_round_trips_through_json():
    """cv_summary.json is `to_dict` of the typed summary; reading it back gives the same object."""
    import json

    s = summarize_folds([_fold(0.8, [[4, 1], [1, 4]]), _fold(0.6, [[3, 2], [2, 3]])], RUN)
    assert CVSummary.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_top_confusions_are_off_diagonal_and_ranked():
    assert top_confusions([[9, 1, 0], [5, 5, 0], [0, 3, 7]], ["x", "y", "z"], k=2) == [("y", "x", 5, 0.5), ("z", "y", 3, 0.3)]


def test_per_corpus_figures_pool_the_folds_confusions():
    a = _fold(0.8, [[4, 1], [1, 4]]) | {"by_corpus": {"x": {"confusion_matrix": [[3, 1], [0, 2]]},
                                                        "y": {"confusion_matrix": [[1, 0], [1, 2]]}}}
    b = _fold(0.6, [[3, 2], [2, 3]]) | {"by_corpus": {"x": {"confusion_matrix": [[2, 2], [1, 1]]}}}
    s = summarize_folds([a, b], RUN)
    assert s.by_corpus["x"]["confusion_matrix"] == [[5, 3], [1, 3]] and s.by_corpus["x"]["n"] == 12
    assert s.by_corpus["x"]["accuracy"] == pytest.approx(8 / 12)
    assert s.by_corpus["x"]["uar"] == pytest.approx((5 / 8 + 3 / 4) / 2)
    assert s.by_corpus["y"]["n"] == 4
    assert CVSummary.from_dict(s.to_dict()) == s
    older = _fold(0.7, [[4, 1], [2, 3]])  # a fold finished by a release without per-corpus figures
    assert summarize_folds([a, b, older], RUN).by_corpus == {}
