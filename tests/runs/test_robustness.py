"""The robustness summary over several runs (the folds of one CV), and each corpus's figures."""

import numpy as np
import pytest

from specser.runs.robustness import by_corpus, render, render_summary, summarize


def record(run: str, n: int, clean: float, noisy: float, agreement: float) -> dict:
    return {"run": run, "n": n, "protocol": "actor-5fold",
            "conditions": {"clean": {"accuracy": clean, "agreement": 1.0, "refused": 0, "most_predicted": "sad"},
                           "8-bit": {"accuracy": noisy, "agreement": agreement, "refused": 2, "most_predicted": "sad"}}}


def test_summary_gives_mean_and_sample_std_per_condition():
    summary = summarize([record("fold_01", 10, 0.6, 0.5, 0.9), record("fold_02", 12, 0.8, 0.7, 0.7)])
    assert summary["n"] == 22 and summary["runs"] == ["fold_01", "fold_02"]
    bit8 = summary["conditions"]["8-bit"]
    assert bit8["accuracy"]["mean"] == pytest.approx(0.6)
    assert bit8["agreement"]["std"] == pytest.approx(0.1414, abs=1e-4)  # ddof=1, as the CV summaries
    assert bit8["agreement"]["values"] == [0.9, 0.7]
    table = render_summary(summary)
    assert "| 8-bit | 60.0 ± 14.1 % | 80.0 ± 14.1 % |" in table


def test_summary_keeps_only_conditions_every_run_has():
    partial = record("fold_02", 12, 0.8, 0.7, 0.7)
    del partial["conditions"]["8-bit"]
    summary = summarize([record("fold_01", 10, 0.6, 0.5, 0.9), partial])
    assert list(summary["conditions"]) == ["clean"]
    with pytest.raises(ValueError, match="no robustness records"):
        summarize([])


def test_by_corpus_splits_accuracy_and_agreement_and_stays_empty_for_one_corpus():
    corpora = ["ravdess", "nemo", "nemo", "nemo"]
    targets, clean, predicted = np.array([0, 1, 2, 3]), np.array([0, 1, 0, 3]), np.array([1, 1, 0, 3])
    figures = by_corpus(corpora, predicted, targets, clean)
    assert figures["ravdess"] == {"accuracy": 0.0, "n": 1, "agreement": 0.0}
    assert figures["nemo"]["accuracy"] == pytest.approx(2 / 3) and figures["nemo"]["agreement"] == 1.0
    assert list(figures) == ["nemo", "ravdess"]
    assert by_corpus(["ravdess"] * 4, predicted, targets, clean) == {}
    assert "agreement" not in by_corpus(corpora, predicted, targets, None)["nemo"]


def test_render_adds_a_table_per_corpus_when_there_are_several():
    one = record("run", 4, 0.5, 0.25, 0.5)
    assert "Each corpus" not in render(one)
    for name, result in one["conditions"].items():
        result["by_corpus"] = {"nemo": {"accuracy": result["accuracy"], "n": 3, "agreement": result["agreement"]},
                               "ravdess": {"accuracy": 1.0, "n": 1, "agreement": 1.0}}
    table = render(one)
    assert "| condition | nemo | ravdess |" in table
    assert "| 8-bit | 25.0 % (50.0 %) | 100.0 % (100.0 %) |" in table


def test_another_model_file_is_measured_on_the_runs_test_clips(trained_run, tmp_path):
    import shutil

    from specser.runs.robustness import robustness

    other = tmp_path / "other.specser"
    shutil.copy(trained_run / "model.specser", other)
    own = robustness(trained_run, ["gain +20 dB"], out=tmp_path / "own", progress=False)
    given = robustness(trained_run, ["gain +20 dB"], out=tmp_path / "given", progress=False, model=other,
                       repair_clipping=False)
    assert "model" not in own and given["model"] == str(other) and given["n"] == own["n"]
    assert own["repair_clipping"] and not given["repair_clipping"]
    assert (tmp_path / "given" / "robustness.md").is_file()
