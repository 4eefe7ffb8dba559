"""MFCC features via librosa, summarised per utterance for the classic baselines."""

from __future__ import annotations

import numpy as np


def mfcc(wave: np.ndarray, sample_rate: int, n_mfcc: int = 40, n_fft: int = 1024, hop_length: int = 256) -> np.ndarray:
    """MFCC matrix, shape (n_mfcc, frames)."""
    import librosa

    return librosa.feature.mfcc(y=wave, sr=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length)


def mfcc_statistics(
    wave: np.ndarray, sample_rate: int, n_mfcc: int = 40, deltas: bool = False, **kwargs
) -> np.ndarray:
    """Mean and standard deviation over time of the MFCCs (and their deltas if asked).

    Returns:
        1-D vector of length ``2 * n_mfcc`` (``6 * n_mfcc`` with deltas).
    """
    import librosa

    coeffs = mfcc(wave, sample_rate, n_mfcc=n_mfcc, **kwargs)
    parts = [coeffs]
    if deltas:
        width = min(9, coeffs.shape[1] - (1 - coeffs.shape[1] % 2))
        width = max(3, width)
        parts += [librosa.feature.delta(coeffs, width=width, order=1), librosa.feature.delta(coeffs, width=width, order=2)]
    stats = [np.concatenate([p.mean(axis=1), p.std(axis=1)]) for p in parts]
    return np.concatenate(stats).astype(np.float32)
