"""SpecAugment (frequency and time masks), applied to training batches only."""

from __future__ import annotations

import torch
from torch import nn

from specser.config import SpecAugmentConfig


class SpecAugment(nn.Module):
    """Mask random frequency bands and time spans with zero (the standardised mean)."""

    def __init__(self, cfg: SpecAugmentConfig):
        super().__init__()
        self.cfg = cfg

    @staticmethod
    def _mask(x: torch.Tensor, dim: int, count: int, width: int) -> torch.Tensor:
        size = x.shape[dim]
        if width <= 0 or count <= 0 or size <= 1:
            return x
        b = x.shape[0]
        positions = torch.arange(size, device=x.device)
        for _ in range(count):
            w = torch.randint(0, min(width, size) + 1, (b, 1), device=x.device)
            start = (torch.rand(b, 1, device=x.device) * (size - w + 1)).long()
            hit = (positions >= start) & (positions < start + w)  # (B, size)
            shape = [b] + [1] * (x.dim() - 1)
            shape[dim] = size
            x = x.masked_fill(hit.view(shape), 0.0)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, C, n_mels, T)
        if not self.training or not self.cfg.enabled:
            return x
        x = self._mask(x, 2, self.cfg.freq_masks, self.cfg.freq_width)
        return self._mask(x, 3, self.cfg.time_masks, self.cfg.time_width)
