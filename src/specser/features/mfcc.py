"""MFCC features via librosa, summarised per utterance for the classic baselines.

`mfcc_from_logmel` applies librosa's DCT to the cached log-Mel, which is exactly what
``librosa.feature.mfcc(y=...)`` computes internally (power_to_db of the same Mel
spectrogram, then DCT-II): the baselines reuse the feature cache instead of decoding
every file again, and the test checks the equivalence.
"""

from __future__ import annotations

import numpy as np


def mfcc(wave: np.ndarray, sample_rate: int, n_mfcc: int = 40, n_fft: int = 1024, hop_length: int = 256,
         n_mels: int = 128, fmax: float | None = None) -> np.ndarray:
    """MFCC matrix straight from audio, shape (n_mfcc, frames)."""
    import librosa

    return librosa.feature.mfcc(y=wave, sr=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length,
                                n_mels=n_mels, fmax=fmax)


def mfcc_from_logmel(logmel_db: np.ndarray, n_mfcc: int = 40) -> np.ndarray:
    """MFCCs of a log-Mel spectrogram in dB, shape (n_mfcc, frames)."""
    import librosa

    return librosa.feature.mfcc(S=np.asarray(logmel_db, dtype=np.float32), n_mfcc=n_mfcc)


def utterance_statistics(coeffs: np.ndarray, deltas: bool = False) -> np.ndarray:
    """Mean and standard deviation over time of the coefficients (and of their deltas if asked).

    Returns:
        1-D vector of length ``2 * n`` (``6 * n`` with deltas) for ``n`` coefficients.
    """
    import librosa

    parts = [coeffs]
    if deltas:
        width = max(3, min(9, coeffs.shape[1] - (1 - coeffs.shape[1] % 2)))
        parts += [librosa.feature.delta(coeffs, width=width, order=1), librosa.feature.delta(coeffs, width=width, order=2)]
    return np.concatenate([np.concatenate([p.mean(axis=1), p.std(axis=1)]) for p in parts]).astype(np.float32)


def mfcc_statistics(wave: np.ndarray, sample_rate: int, n_mfcc: int = 40, deltas: bool = False, **kwargs) -> np.ndarray:
    """`utterance_statistics` of the MFCCs of a waveform."""
    return utterance_statistics(mfcc(wave, sample_rate, n_mfcc=n_mfcc, **kwargs), deltas)
