"""Per-channel energy normalisation (PCEN; Wang et al. 2017), in torch and in numpy.

A log compression keeps everything a recording adds to the spectrum: a steady noise floor, a
microphone's colouring, a room's hum. PCEN divides each Mel band by its own recent average (an
exponential smoother with a 0.4 s time constant, the automatic gain control of the name), then
compresses with a root. A steady background in a band tends to a constant, whatever its level,
and onsets (syllables, voicing) stand out. Keyword spotting and bird-sound detection adopted it
for far-field and noisy audio; `features.compression=pcen` measures it for emotion.

The constants are librosa's defaults, and both implementations match ``librosa.pcen`` with them
(the tests check it), but for where the smoother starts: here at each band's first frame, so
every clip starts from its own steady state whatever its scale (librosa starts it at 1.0, which
depends on the input's units; the tests hand librosa this start). It is causal: a frame never
depends on later ones, so zero padding after a clip leaves the clip's frames unchanged.

Measured against `robust`'s dB front-end on development speakers, it lost: 9 points of accuracy,
and more labels moved under noise, because the gain control lifts a faint steady noise floor to
the scale of speech (docs/results.md, "PCEN instead of dB"). It stays an option, not a default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the onnxruntime backend uses `pcen_numpy` and must not import torch
    import torch

GAIN = 0.98  # how much of each band's recent average is divided out (1: all of it)
BIAS = 2.0
POWER = 0.5  # the root that compresses the result
TIME_CONSTANT_S = 0.4  # the smoother's memory
EPS = 1e-6  # below this the gain control stops: bands far under the speech level stay near zero


def smoothing_coefficient(sample_rate: int, hop_length: int) -> float:
    """The one-pole smoother's weight of the current frame, for `TIME_CONSTANT_S` (librosa's formula)."""
    t_frames = TIME_CONSTANT_S * sample_rate / float(hop_length)
    return float((np.sqrt(1 + 4 * t_frames**2) - 1) / (2 * t_frames**2))


def _compress(power, smooth, exp, log1p, expm1):
    """PCEN's output from the band powers and their smoothed values (same formula as librosa's)."""
    agc = exp(-GAIN * (np.log(EPS) + log1p(smooth / EPS)))  # (EPS + smooth) ** -GAIN, without overflow
    return BIAS**POWER * expm1(POWER * log1p(power * agc / BIAS))


def pcen_torch(power: torch.Tensor, coefficient: float) -> torch.Tensor:
    """(..., n_mels, frames) Mel power -> PCEN of the same shape."""
    import torch

    power = power.float()
    frames = power.unbind(-1)
    state = frames[0]
    smoothed = []
    for frame in frames:  # an IIR filter: each frame needs the last; a few hundred frames per clip
        state = state + coefficient * (frame - state)
        smoothed.append(state)
    smooth = torch.stack(smoothed, dim=-1)
    return _compress(power, smooth, torch.exp, torch.log1p, torch.expm1)


def pcen_numpy(power: np.ndarray, coefficient: float) -> np.ndarray:
    """(n_mels, frames) Mel power -> PCEN, float32 (the onnxruntime backend's front-end)."""
    from scipy.signal import lfilter

    power = np.asarray(power, dtype=np.float64)
    b, a = [coefficient], [1.0, coefficient - 1.0]
    initial = power[:, :1] * (1.0 - coefficient)  # the filter's state for a steady input equal to frame 0
    smooth, _ = lfilter(b, a, power, axis=-1, zi=initial)
    return _compress(power, smooth, np.exp, np.log1p, np.expm1).astype(np.float32)
