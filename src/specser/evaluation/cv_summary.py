"""Fold metrics -> a `CVSummary` (`cv_summary.json`): mean, std and per-fold values, a summed confusion matrix.

`std` is the sample standard deviation over folds (ddof=1); 0 with a single fold.
"""

from __future__ import annotations

import numpy as np

from specser.evaluation.summaries import METRIC_NAMES, CVRun, CVSummary, Stat


def stats_over(values: list[float]) -> Stat:
    """Mean, sample std (ddof=1; 0 for one value) and the values themselves: the form of every over-folds figure."""
    arr = np.asarray(values, dtype=float)
    return Stat(float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0, [float(v) for v in arr])


def _pooled(cm: np.ndarray, labels: list[str]) -> dict:
    """Figures from the summed confusion matrix (every file counted once across folds)."""
    tp = np.diag(cm).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(tp / cm.sum(axis=0))
        recall = np.nan_to_num(tp / cm.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return {
        "accuracy": float(tp.sum() / cm.sum()),
        "uar": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, cm.sum(axis=1))
        },
    }


def _pooled_intensity(fold_metrics: list[dict]) -> dict:
    totals: dict[str, list[float]] = {}
    for m in fold_metrics:
        for key, v in (m.get("accuracy_by_intensity") or {}).items():
            correct, n = totals.get(key, [0.0, 0])
            totals[key] = [correct + v["accuracy"] * v["n"], n + v["n"]]
    return {k: {"accuracy": c / n, "n": int(n)} for k, (c, n) in sorted(totals.items()) if n}


def _pooled_corpora(fold_metrics: list[dict]) -> dict:
    """Per-corpus figures over all folds, from their summed confusion matrices (each file once). Folds
    written before `by_corpus` existed (a resumed CV) leave it out: a pool of some folds would mislead."""
    from specser.evaluation.metrics import corpus_figures

    if not all("by_corpus" in m for m in fold_metrics):
        return {}
    summed: dict[str, np.ndarray] = {}
    for m in fold_metrics:
        for name, v in m["by_corpus"].items():
            summed[name] = summed.get(name, 0) + np.asarray(v["confusion_matrix"])
    return {name: corpus_figures(cm) for name, cm in sorted(summed.items())}


CALIBRATION_FIGURES = ("ece", "mean_confidence", "confidence_when_right", "confidence_when_wrong", "confidence_auroc",
                       "nll")


def _calibration_over_folds(fold_metrics: list[dict]) -> dict[str, Stat]:
    """Calibration figures (`specser.evaluation.calibration`) as mean ± std over folds; left out when a
    fold lacks them (written before they existed) or has no such clip (no wrong label, say)."""
    tables = [m.get("calibration") for m in fold_metrics]
    if not all(tables):
        return {}
    return {name: stats_over([t[name] for t in tables]) for name in CALIBRATION_FIGURES
            if all(t.get(name) is not None for t in tables)}


def top_confusions(cm: list[list[int]], labels: list[str], k: int = 3) -> list[tuple[str, str, int, float]]:
    """The k largest off-diagonal cells: (true, predicted, count, share of the true class)."""
    arr = np.asarray(cm)
    cells = [(arr[i, j], i, j) for i in range(len(labels)) for j in range(len(labels)) if i != j and arr[i, j]]
    cells.sort(reverse=True)
    return [(labels[i], labels[j], int(c), float(c / arr[i].sum())) for c, i, j in cells[:k]]


def summarize_folds(fold_metrics: list[dict], run: CVRun) -> CVSummary:
    """Aggregate per-fold `compute_metrics` outputs (all with the same labels)."""
    if not fold_metrics:
        raise ValueError("no finished folds to summarise")
    labels = fold_metrics[0]["labels"]

    def per_class(name: str) -> dict[str, Stat]:
        return {label: stats_over([m["per_class"][label][name] for m in fold_metrics]) for label in labels}

    cm = np.sum([np.asarray(m["confusion_matrix"]) for m in fold_metrics], axis=0)
    return CVSummary(
        **{name: stats_over([m[name] for m in fold_metrics]) for name in METRIC_NAMES},
        f1_per_class=per_class("f1"), precision_per_class=per_class("precision"), recall_per_class=per_class("recall"),
        confusion_matrix=cm.tolist(), labels=list(labels), n_test_per_fold=[int(m["n"]) for m in fold_metrics],
        pooled=_pooled(cm, labels), accuracy_by_intensity=_pooled_intensity(fold_metrics),
        by_corpus=_pooled_corpora(fold_metrics), calibration=_calibration_over_folds(fold_metrics), run=run,
    )
