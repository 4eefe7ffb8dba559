"""Spec-ResNet with attentive statistics pooling in place of global average pooling.

The paper's future work names attention. Global average pooling gives every time step
the same weight, although emotion often shows in a few syllables. Here a small network
scores each time step of the last feature map (after averaging over frequency), and the
head pools the attention-weighted mean and standard deviation over time (attentive
statistics pooling, Okabe et al. 2018). Stem and stages are Spec-ResNet's, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from specser.models.registry import register_model
from specser.models.spec_resnet import SpecResNet, SpecResNetConfig


@dataclass
class AttentionPoolConfig(SpecResNetConfig):
    attention_hidden: int = 128  # hidden units of the scoring network


class AttentiveStatsPool(nn.Module):
    """(B, C, T) -> (B, 2C): attention-weighted mean and std over T (over the True steps of an optional
    (B, T) `mask`: padding gets no weight)."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.score = nn.Sequential(nn.Conv1d(channels, hidden, 1), nn.Tanh(), nn.Conv1d(hidden, 1, 1))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        scores = self.score(x)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (B, 1, T), sums to 1 over time
        mean = (weights * x).sum(dim=-1)
        var = (weights * x.square()).sum(dim=-1) - mean.square()
        return torch.cat([mean, var.clamp(min=1e-6).sqrt()], dim=1)


@register_model("spec_resnet_attn", AttentionPoolConfig)
class SpecResNetAttention(SpecResNet):
    def __init__(self, config: AttentionPoolConfig):
        super().__init__(config)
        self.pool = AttentiveStatsPool(self.num_features, config.attention_hidden)
        self.fc = nn.Linear(2 * self.num_features, config.num_classes)

    def pooled(self, feats: torch.Tensor) -> torch.Tensor:
        return self.pool(feats.mean(dim=2))  # frequency averaged: (B, C, T')
