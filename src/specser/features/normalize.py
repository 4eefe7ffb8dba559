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


def speaker_stats(features: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-Mel-bin mean and std over the speech frames of one speaker's (unlabelled) log-Mels.

    Speaker normalisation (`features.speaker_norm`; Kaya & Karpov 2018) expresses every clip relative
    to its speaker's typical spectrum: a voice's timbre, a microphone's colouring and a corpus's
    recording chain cancel, and what is left is how this clip departs from how this person usually
    sounds. Silence is left out, so a speaker's statistics do not depend on how much of it was recorded.
    """
    from specser.features.logmel_np import speech_frames

    frames = np.concatenate([f[:, speech_frames(f)] for f in features], axis=1).astype(np.float64)
    return frames.mean(axis=1).astype(np.float32), np.maximum(frames.std(axis=1), 1e-3).astype(np.float32)


def speaker_normalize(f: np.ndarray, stats: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """One (n_mels, frames) log-Mel relative to its speaker's statistics (`speaker_stats`)."""
    return standardize(f, *stats).astype(np.float32)
