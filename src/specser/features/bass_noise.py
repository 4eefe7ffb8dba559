"""Rumble: low-frequency noise (wind on a phone's microphone, traffic, a fan, a handled device) put back on
the floor of a log-Mel before the network reads it.

The `robust` front-end reads each clip relative to its speech level with a floor 40 dB below its loudest
bin, and there the lowest Mel bands of clean speech (below about 150 Hz) lie on that floor in every
frame. Rumble fills them with a level that speech never gave them in training: 10 dB under the speech it
moved 28-31 % of two development models' labels, as loud as the speech 56-67 % (docs/results.md, "Rumble:
wind, traffic, a fan under the voice"). A band the noise fills carries nothing of the voice, so the bands
it fills, counted from the lowest up, are set back to the floor, as a clean recording has them; a log-Mel
whose lowest band is not filled is returned as it is.
"""

from __future__ import annotations

import numpy as np

MAX_FLOOR_DB = 40.0  # only front-ends with a floor this close under the loudest bin: clean speech's bass lies on it
MAX_BANDS = 15  # at most the lowest 15 bands (about 350 Hz with 128 bands to 8 kHz): SpecAugment's widest mask
ABOVE_FLOOR_DB = 3.0  # a filled band: even its quieter frames (20th percentile) lie this far above the floor


def applies_to(features) -> bool:
    """Whether a model's front-end (`FeatureConfig`) is one this step is for: dB log-Mels (not an encoder's
    layers, not PCEN) with a floor `MAX_FLOOR_DB` or less under the loudest bin, such as `robust`'s and the
    bundled model's. Under a deeper floor the bass of clean speech, or a recording's own noise floor, lies
    above it, and nothing was measured there."""
    return (features.mode != "encoder" and features.compression == "db" and features.top_db is not None
            and 0 < features.top_db <= MAX_FLOOR_DB)


def noisy_bass_bands(logmel) -> int:
    """How many of the lowest bands of `logmel` ((n_mels, frames), numpy or torch, in dB) noise fills: counted
    from the lowest up while even a band's quieter frames lie `ABOVE_FLOOR_DB` above the floor."""
    return _filled(logmel, float(logmel.min()))


def _filled(logmel, floor: float) -> int:
    low = np.asarray(logmel[:MAX_BANDS].float().cpu() if hasattr(logmel, "cpu") else logmel[:MAX_BANDS],
                     dtype=np.float64)
    if low.ndim != 2 or low.shape[1] < 2:
        return 0
    filled = np.percentile(low, 20, axis=1) >= floor + ABOVE_FLOOR_DB
    return int(np.argmin(filled)) if not filled.all() else int(filled.size)


def floor_noisy_bass(logmel):
    """`logmel` with the lowest bands noise fills (`noisy_bass_bands`) set to its floor (a copy), or
    `logmel` itself when its lowest band is not filled."""
    floor = logmel.min()
    bands = _filled(logmel, float(floor))
    if bands == 0:
        return logmel
    out = logmel.clone() if hasattr(logmel, "clone") else logmel.copy()
    out[:bands] = floor
    return out
