"""Repair a clipped recording before it is labelled: consistent iterative hard thresholding.

A recording made too loud has its peaks cut flat at full scale. The flat tops add harmonics and
broadband distortion that the model reads as emotion: with 20 dB too much gain, a quarter of nEMO's
held-out clips changed label. Speech is sparse in a short-time Fourier frame, so the cut peaks can be
estimated as the sparsest signal that keeps every unclipped sample as recorded and every clipped one
at or beyond the clip level (Kitić, Jacques, Madhu, Hopwood, Gribonval & Vandewalle 2013, "Consistent
iterative hard thresholding for signal declipping"). Each iteration keeps the largest coefficients of
each frame, a share that grows from one bin to half of them, then restores what is known.

Only the stretches around clipped samples are computed, so a long recording with a few clipped
peaks costs little. numpy alone: the ONNX backend and the service use it too.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from specser.audio.quality import CLIPPED_SHARE, FULL_SCALE, clipped_share

WINDOW = 1024  # samples per frame; 64 ms at 16 kHz, a few pitch periods
HOP = WINDOW // 4
ITERATIONS = 60
KEEP_AT_END = 0.5  # share of a frame's coefficients kept in the last iteration


def is_clipped(wave: np.ndarray, threshold: float = FULL_SCALE, min_share: float = CLIPPED_SHARE) -> bool:
    """True when at least `min_share` of the samples reach `threshold` (the `clipped` warning's test)."""
    return bool(wave.size) and clipped_share(wave, threshold) >= min_share


def declip(wave: np.ndarray, threshold: float = FULL_SCALE, min_share: float = CLIPPED_SHARE,
           iterations: int = ITERATIONS) -> np.ndarray:
    """`wave` with its clipped samples (|x| >= `threshold`) re-estimated, when at least `min_share` of
    them are; otherwise `wave` itself. Unclipped samples are returned unchanged; repaired ones keep
    their sign and are at least `threshold` in magnitude, so the result may exceed full scale."""
    if not is_clipped(wave, threshold, min_share):
        return wave
    clipped = np.abs(wave) >= threshold
    out = wave.astype(np.float64)
    for start, stop in _stretches(clipped, WINDOW):
        out[start:stop] = _declip_stretch(out[start:stop], threshold, iterations)
    return out.astype(wave.dtype)


def _stretches(clipped: np.ndarray, margin: int) -> list[tuple[int, int]]:
    """[start, stop) spans covering every clipped sample with `margin` samples either side, merged."""
    where = np.flatnonzero(clipped)
    gaps = np.flatnonzero(np.diff(where) > 2 * margin)
    starts = np.concatenate([[where[0]], where[gaps + 1]])
    stops = np.concatenate([where[gaps], [where[-1]]]) + 1
    return [(max(0, a - margin), min(clipped.size, b + margin)) for a, b in zip(starts, stops)]


def _declip_stretch(y: np.ndarray, threshold: float, iterations: int) -> np.ndarray:
    lower, upper = y.astype(np.float64), y.astype(np.float64)  # unclipped samples: kept as recorded
    lower[y >= threshold], upper[y >= threshold] = threshold, np.inf  # cut tops: at or above the clip level
    lower[y <= -threshold], upper[y <= -threshold] = -np.inf, -threshold
    return consistent_iht(y, lower, upper, iterations)


def consistent_iht(y: np.ndarray, lower: np.ndarray, upper: np.ndarray, iterations: int = ITERATIONS) -> np.ndarray:
    """The sparsest short-time spectrum whose signal keeps every sample i within [lower[i], upper[i]],
    starting from `y`: each iteration keeps the largest coefficients of each frame, a share growing from
    one to `KEEP_AT_END` of them, then projects the signal back into the bounds. Declipping bounds the
    clipped samples from one side and pins the others; a known rounding bounds every sample by half a step."""
    pad = WINDOW  # every sample lies under a full set of overlapping frames
    frames = -(-(y.size + 2 * pad - WINDOW) // HOP) + 1
    total = (frames - 1) * HOP + WINDOW
    low, high = np.zeros(total), np.zeros(total)  # the padding is pinned at zero
    low[pad:pad + y.size], high[pad:pad + y.size] = lower, upper
    x = np.zeros(total)
    x[pad:pad + y.size] = y
    # sqrt-Hann at a quarter-window hop: analysis then synthesis with it is the identity (a tight frame).
    window = np.sqrt(np.hanning(WINDOW + 1)[:-1] / 2.0)
    bins = WINDOW // 2 + 1
    for k in range(1, iterations + 1):
        spectra = np.fft.rfft(sliding_window_view(x, WINDOW)[::HOP] * window, axis=1)
        keep = max(1, int(bins * KEEP_AT_END * k / iterations))
        magnitude = np.abs(spectra)
        kth = np.partition(magnitude, bins - keep, axis=1)[:, bins - keep:bins - keep + 1]
        spectra[magnitude < kth] = 0
        x = np.clip(_overlap_add(np.fft.irfft(spectra, n=WINDOW, axis=1) * window, total), low, high)
    return x[pad:pad + y.size]


def _overlap_add(frames: np.ndarray, total: int) -> np.ndarray:
    """Sum (frames, WINDOW) frames placed every HOP samples, as four strided additions."""
    out = np.zeros(total)
    n = frames.shape[0]
    for j in range(WINDOW // HOP):
        out[j * HOP:j * HOP + n * HOP] += frames[:, j * HOP:(j + 1) * HOP].reshape(-1)
    return out
