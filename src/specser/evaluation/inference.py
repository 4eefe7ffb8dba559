"""Class probabilities for a prepared DataLoader, under inference mode."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader


def pick_device(accelerator: str = "auto") -> str:
    """CUDA when it is there and the config allows it, else CPU."""
    return "cuda" if torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda") else "cpu"


def loader_probabilities(model: nn.Module, loader: DataLoader, device: str | torch.device = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Returns (probabilities (N, C), targets (N,)) in loader order (the loader must not shuffle)."""
    model = model.to(device).eval()
    probs, targets = [], []
    with torch.inference_mode():
        for x, y in loader:
            probs.append(torch.softmax(model(x.to(device)).float(), dim=1).cpu())
            targets.append(torch.as_tensor(y))
    return torch.cat(probs).numpy(), torch.cat(targets).numpy()
