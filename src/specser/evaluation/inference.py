"""Class probabilities for a prepared DataLoader, under inference mode."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader


def pick_device(accelerator: str = "auto") -> str:
    """CUDA when it is there and the config allows it, else CPU."""
    return "cuda" if torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda") else "cpu"


def loader_probabilities(model: nn.Module, loader: DataLoader, device: str | torch.device = "cpu",
                         channels_last: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Returns (probabilities (N, C), targets (N,)) in loader order (the loader must not shuffle)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=fmt).eval()
    probs, targets = [], []
    with torch.inference_mode():
        for x, y in loader:
            probs.append(torch.softmax(model(x.to(device, memory_format=fmt)).float(), dim=1).cpu())
            targets.append(torch.as_tensor(y).cpu())
    return torch.cat(probs).numpy(), torch.cat(targets).numpy()
