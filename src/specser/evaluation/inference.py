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


def crop_tta_probabilities(model: nn.Module, features: list[np.ndarray], mean: np.ndarray, std: np.ndarray,
                           frames: int, crops: int, device: str | torch.device = "cpu") -> np.ndarray:
    """Test-time augmentation over clip windows: each clip longer than `frames` is cut into `crops`
    evenly spaced windows (first to last) and its probabilities are their mean; shorter clips
    are padded as in training and predicted once."""
    from specser.features.length import fit_length

    model = model.to(device, memory_format=torch.channels_last).eval()
    mean_c, std_c = mean[:, None], std[:, None]
    out = []
    with torch.inference_mode():
        for f in features:
            n = f.shape[-1]
            starts = sorted({int(round(s)) for s in np.linspace(0, n - frames, crops)}) if n > frames else [None]
            windows = [fit_length(f, frames) if s is None else f[:, s:s + frames] for s in starts]
            x = torch.from_numpy(np.stack([(w - mean_c) / std_c for w in windows]).astype(np.float32)).unsqueeze(1)
            logits = model(x.to(device).contiguous(memory_format=torch.channels_last))
            out.append(torch.softmax(logits.float(), dim=1).mean(dim=0).cpu().numpy())
    return np.stack(out)
