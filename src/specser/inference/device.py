"""The one device picker: training, evaluation and prediction agree on what "auto" means."""

from __future__ import annotations

import torch


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA when it is there and `requested` allows it, else the CPU.

    Args:
        requested: "auto" (CUDA if present), "cpu", "gpu"/"cuda" (the first GPU, or the CPU when
            there is none, as Lightning's accelerator names read), or an explicit "cuda:N".
    """
    if requested in ("auto", "gpu", "cuda"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "mps":
        return torch.device("mps" if torch.backends.mps.is_available() else "cpu")
    return torch.device(requested)
