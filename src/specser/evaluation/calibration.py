"""How far a model's probabilities can be trusted: confidence against accuracy.

Users read the probability beside a label ("angry 0.98") as how sure they may be. Accuracy says how
often the label is right; calibration says whether the probability means what it says. A model that
is 60 % sure on average and right 74 % of the time is under-confident; one that is 60 % sure and right
27 % of the time (a new corpus) is over-confident, and its probabilities mislead. The figures:

- ECE, the expected calibration error (Guo et al. 2017): the clips are put in equal-width bins of
  top probability, and the gap between each bin's accuracy and mean top probability is averaged,
  weighted by the bin's share of the clips. 0 is perfect.
- the mean top probability beside the accuracy, whose difference says which way the model errs;
- the mean top probability of right and of wrong labels: a useful model is less sure when wrong;
- how well the top probability tells right labels from wrong ones (the area under the ROC curve of
  confidence against correctness: 0.5 is no better than chance, 1 a perfect ranking). Where it is
  high, a user can hold back unsure labels; where it is near 0.5, a low probability says nothing;
- NLL (the mean negative log-probability of the true class) and the Brier score.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

DEFAULT_BINS = 15


def calibration(targets: np.ndarray, probs: np.ndarray, bins: int = DEFAULT_BINS) -> dict:
    """Calibration figures of class probabilities `probs` (N, C) against true indices `targets` (N,).

    Returns a JSON-ready dict: ``ece``, ``mean_confidence``, ``accuracy``, ``confidence_when_right``,
    ``confidence_when_wrong`` (None when there is no such clip), ``confidence_auroc`` (None unless some
    labels are right and some wrong), ``nll``, ``brier``, ``bins`` and
    ``reliability``, one row per non-empty bin (its range, clips, accuracy and mean confidence).
    """
    targets = np.asarray(targets, dtype=int)
    probs = np.asarray(probs, dtype=np.float64)
    n = len(targets)
    if n == 0:
        return {"n": 0, "bins": bins, "ece": None, "mean_confidence": None, "accuracy": None,
                "confidence_when_right": None, "confidence_when_wrong": None, "confidence_auroc": None,
                "nll": None, "brier": None, "reliability": []}
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == targets
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)  # bin k: (edges[k], edges[k+1]]
    reliability, ece = [], 0.0
    for k in range(bins):
        in_bin = which == k
        if not in_bin.any():
            continue
        acc, conf = float(correct[in_bin].mean()), float(confidence[in_bin].mean())
        ece += in_bin.mean() * abs(acc - conf)
        reliability.append({"from": round(float(edges[k]), 4), "to": round(float(edges[k + 1]), 4),
                            "n": int(in_bin.sum()), "accuracy": acc, "confidence": conf})
    onehot = np.eye(probs.shape[1])[targets]
    return {
        "n": n, "bins": bins, "ece": float(ece),
        "mean_confidence": float(confidence.mean()), "accuracy": float(correct.mean()),
        "confidence_when_right": float(confidence[correct].mean()) if correct.any() else None,
        "confidence_when_wrong": float(confidence[~correct].mean()) if (~correct).any() else None,
        "confidence_auroc": float(roc_auc_score(correct, confidence)) if 0 < correct.sum() < n else None,
        "nll": float(-np.mean(np.log(np.clip(probs[np.arange(n), targets], 1e-12, None)))),
        "brier": float(np.mean(np.sum((probs - onehot) ** 2, axis=1))),
        "reliability": reliability,
    }
