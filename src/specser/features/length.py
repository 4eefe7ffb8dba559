"""The length policy shared by training and inference (numpy only, so the ONNX path needs no torch)."""

from __future__ import annotations

import numpy as np


def fit_length(x: np.ndarray, frames: int, pad_value: float | None = None) -> np.ndarray:
    """Centre-crop or pad (at the end, with the clip's own floor) to exactly `frames` frames."""
    n = x.shape[-1]
    if n > frames:
        start = (n - frames) // 2
        return x[..., start : start + frames]
    if n < frames:
        fill = x.min() if pad_value is None else pad_value
        out = np.full((*x.shape[:-1], frames), fill, dtype=x.dtype)
        out[..., :n] = x
        return out
    return x
