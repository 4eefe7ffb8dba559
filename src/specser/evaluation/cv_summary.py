"""Fold metrics -> `cv_summary.json`: mean, std and per-fold values, and a summed confusion matrix.

Schema (every metric the same shape, so `specser compare` reads any run):
    {"accuracy": {"mean", "std", "per_fold"}, "uar": {...}, "macro_f1": {...},
     "macro_precision": {...}, "macro_recall": {...},
     "f1_per_class": {label: {"mean", "std", "per_fold"}},
     "confusion_matrix": summed counts, "labels": [...], "pooled": {...}, "run": {...}}
`std` is the sample standard deviation over folds (ddof=1); 0 with a single fold.
"""

from __future__ import annotations

import numpy as np

SUMMARY_METRICS = ("accuracy", "uar", "macro_f1", "macro_precision", "macro_recall")


def _stats(values: list[float]) -> dict:
    arr = np.asarray(values, dtype=float)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        "per_fold": [float(v) for v in arr],
    }


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


def top_confusions(cm: list[list[int]], labels: list[str], k: int = 3) -> list[tuple[str, str, int, float]]:
    """The k largest off-diagonal cells: (true, predicted, count, share of the true class)."""
    arr = np.asarray(cm)
    cells = [(arr[i, j], i, j) for i in range(len(labels)) for j in range(len(labels)) if i != j and arr[i, j]]
    cells.sort(reverse=True)
    return [(labels[i], labels[j], int(c), float(c / arr[i].sum())) for c, i, j in cells[:k]]


def summarize_folds(fold_metrics: list[dict], run: dict) -> dict:
    """Aggregate per-fold `compute_metrics` outputs (all with the same labels)."""
    if not fold_metrics:
        raise ValueError("no finished folds to summarise")
    labels = fold_metrics[0]["labels"]
    summary: dict = {name: _stats([m[name] for m in fold_metrics]) for name in SUMMARY_METRICS}
    summary["f1_per_class"] = {
        label: _stats([m["per_class"][label]["f1"] for m in fold_metrics]) for label in labels
    }
    summary["precision_per_class"] = {
        label: _stats([m["per_class"][label]["precision"] for m in fold_metrics]) for label in labels
    }
    summary["recall_per_class"] = {
        label: _stats([m["per_class"][label]["recall"] for m in fold_metrics]) for label in labels
    }
    cm = np.sum([np.asarray(m["confusion_matrix"]) for m in fold_metrics], axis=0)
    summary["confusion_matrix"] = cm.tolist()
    summary["labels"] = list(labels)
    summary["n_test_per_fold"] = [int(m["n"]) for m in fold_metrics]
    summary["pooled"] = _pooled(cm, labels)
    summary["accuracy_by_intensity"] = _pooled_intensity(fold_metrics)
    summary["run"] = run
    return summary
