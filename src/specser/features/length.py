"""The length policy shared by training and inference: one clip-length window, and test-time crops.

Works on numpy arrays and torch tensors alike (the ONNX path has no torch; the torch
predictor keeps features on its device).
"""

from __future__ import annotations

import numpy as np


def fit_length(x, frames: int, pad_value: float | None = None):
    """Centre-crop or pad (at the end, with the clip's own floor) to exactly `frames` frames."""
    n = x.shape[-1]
    if n > frames:
        start = (n - frames) // 2
        return x[..., start : start + frames]
    if n < frames:
        fill = x.min() if pad_value is None else pad_value
        if isinstance(x, np.ndarray):
            out = np.full((*x.shape[:-1], frames), fill, dtype=x.dtype)
        else:  # a torch tensor
            out = x.new_full((*x.shape[:-1], frames), float(fill))
        out[..., :n] = x
        return out
    return x


def crop_windows(x, frames: int, crops: int = 1) -> list:
    """The inputs a clip is predicted from: with one crop, the centred (or padded) window; with
    `crops` > 1 and a clip longer than `frames`, that many evenly spaced windows, first to last,
    whose probabilities are averaged (test-time augmentation)."""
    n = x.shape[-1]
    if crops <= 1 or n <= frames:
        return [fit_length(x, frames)]
    starts = sorted({int(round(s)) for s in np.linspace(0, n - frames, crops)})
    return [x[..., s : s + frames] for s in starts]
