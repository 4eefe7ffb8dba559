"""Classification metrics as SER papers report them: WA, UA, macro P/R/F1, confusions."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, precision_recall_fscore_support

from specser.corpus.manifest import Utterance
from specser.evaluation.calibration import calibration


def corpus_figures(cm: np.ndarray) -> dict:
    """WA, UA and the file count of one corpus's confusion matrix (UA over the classes it has), with the
    matrix itself so that folds pool exactly."""
    cm = np.asarray(cm)
    present = cm.sum(axis=1) > 0
    recall = np.diag(cm)[present] / cm.sum(axis=1)[present]
    n = int(cm.sum())
    return {"accuracy": float(np.trace(cm) / n) if n else 0.0, "uar": float(recall.mean()) if present.any() else 0.0,
            "n": n, "confusion_matrix": cm.tolist()}


def compute_metrics(
    rows: list[Utterance], targets: np.ndarray, probs: np.ndarray, labels: list[str]
) -> dict:
    """All figures for one evaluation, plus the per-file predictions.

    Args:
        rows: the evaluated utterances, in the order of `targets`.
        targets: true class indices, shape (N,).
        probs: class probabilities, shape (N, C).
        labels: class names by index.

    Returns:
        A JSON-ready dict with top-level ``accuracy`` (WA), ``uar`` (UA), ``macro_f1``,
        ``per_class``, ``confusion_matrix``, ``labels``, ``calibration`` (how far the probabilities
        can be trusted; `specser.evaluation.calibration`) and ``predictions``.
    """
    preds = probs.argmax(axis=1)
    idx = list(range(len(labels)))
    p, r, f, s = precision_recall_fscore_support(targets, preds, labels=idx, zero_division=0)
    mp, mr, mf, _ = precision_recall_fscore_support(targets, preds, labels=idx, average="macro", zero_division=0)
    cm = confusion_matrix(targets, preds, labels=idx)
    with np.errstate(invalid="ignore", divide="ignore"):
        cm_norm = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
    by_intensity: dict[str, list[bool]] = defaultdict(list)
    for row, t, y in zip(rows, targets, preds):
        if "intensity" in row.metadata:
            by_intensity[row.metadata["intensity"]].append(bool(t == y))
    by_corpus: dict[str, list[int]] = defaultdict(list)  # rows of a combined manifest name their corpus
    for i, row in enumerate(rows):
        if "corpus" in row.metadata:
            by_corpus[row.metadata["corpus"]].append(i)
    return {
        "n": int(len(targets)),
        "labels": list(labels),
        "accuracy": float(accuracy_score(targets, preds)),
        "uar": float(balanced_accuracy_score(targets, preds)) if len(targets) else 0.0,
        "macro_precision": float(mp),
        "macro_recall": float(mr),
        "macro_f1": float(mf),
        "per_class": {
            label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, label in enumerate(labels)
        },
        "confusion_matrix": cm.tolist(),
        "confusion_matrix_normalized": np.round(cm_norm, 4).tolist(),
        "calibration": calibration(targets, probs),
        "accuracy_by_intensity": {
            k: {"accuracy": float(np.mean(v)), "n": len(v)} for k, v in sorted(by_intensity.items())
        },
        # Data from several corpora: the figures of each (a fold may test one of them; folds pool exactly).
        # A pooled WA hides a corpus that fails.
        "by_corpus": {
            name: corpus_figures(confusion_matrix(targets[i], preds[i], labels=idx)) for name, i in sorted(by_corpus.items())
        },
        "predictions": [
            {
                "utt_id": row.utt_id,
                "path": row.path,
                "speaker": row.speaker,
                "label": labels[int(t)],
                "predicted": labels[int(y)],
                "probabilities": {label: round(float(pr[i]), 6) for i, label in enumerate(labels)},
            }
            for row, t, y, pr in zip(rows, targets, preds, probs)
        ],
    }
