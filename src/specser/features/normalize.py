"""Per-Mel-bin standardisation: the statistics come from a training part only, and one function
applies them everywhere (datasets, augmentation, both predictor backends)."""

from __future__ import annotations

import numpy as np


def normalization_stats(features: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-Mel-bin mean and std over all frames of the given (training) features."""
    total = sum(f.shape[1] for f in features)
    mean = sum(f.sum(axis=1, dtype=np.float64) for f in features) / total
    sq = sum(np.square(f - mean[:, None], dtype=np.float64).sum(axis=1) for f in features) / total
    std = np.sqrt(np.maximum(sq, 1e-12))
    return mean.astype(np.float32), std.astype(np.float32)


def standardize(x, mean, std):
    """(..., n_mels, frames) log-Mels minus the per-bin mean, over the per-bin std (numpy or torch)."""
    return (x - mean[:, None]) / std[:, None]
