"""The robustness summary over several runs (the folds of one CV)."""

import pytest

from specser.runs.robustness import render_summary, summarize


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
