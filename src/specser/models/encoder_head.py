"""The EmoBox recipe's head on a frozen pretrained encoder (`features.mode=encoder`).

Input: (B, layers, frames, dim), every hidden layer of the encoder; frames that are zero in every
layer and dimension are padding. The head learns a softmax-weighted sum of the layers (which
layers carry emotion differs by encoder: the middle ones for WavLM and HuBERT), pools over time
(the mean, or attentive statistics), normalises, and classifies with a small MLP.

Mean pooling commutes with the weighted sum, so a clip's per-layer time means ((B, layers, 1, dim),
`features.encoder_time_mean`) give exactly the frames' result at a thousandth of the memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from specser.models.attention_pool import AttentiveStatsPool
from specser.models.registry import register_model


@dataclass
class EncoderHeadConfig:
    in_channels: int = 13  # encoder layers: the input embedding and each transformer block
    input_dim: int = 768  # the encoder's hidden size
    num_classes: int = 6
    pooling: Literal["mean", "attentive"] = "mean"
    hidden: int = 256
    dropout: float = 0.2
    attention_hidden: int = 128


class EncoderHead(nn.Module):
    def __init__(self, cfg: EncoderHeadConfig):
        super().__init__()
        self.cfg = cfg
        self.layer_logits = nn.Parameter(torch.zeros(cfg.in_channels))  # equal weights to start
        self.pool = AttentiveStatsPool(cfg.input_dim, cfg.attention_hidden) if cfg.pooling == "attentive" else None
        pooled = cfg.input_dim * (2 if self.pool is not None else 1)
        self.classifier = nn.Sequential(
            nn.LayerNorm(pooled), nn.Linear(pooled, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.num_classes),
        )

    def layer_weights(self) -> torch.Tensor:
        """The learned share of each layer (sums to 1): what the report can show."""
        return torch.softmax(self.layer_logits, dim=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = x.detach().abs().amax(dim=(1, 3)) > 0  # (B, T): padding is zero everywhere
        first = torch.arange(mask.shape[1], device=mask.device) == 0
        mask = mask | (first & ~mask.any(dim=1, keepdim=True))  # an all-zero clip still has one frame to pool
        mixed = torch.einsum("bltd,l->btd", x, self.layer_weights().to(x.dtype))  # (B, T, D)
        if self.pool is not None:
            pooled = self.pool(mixed.transpose(1, 2), mask)
        else:
            weights = mask.to(mixed.dtype)[..., None]
            pooled = (mixed * weights).sum(dim=1) / weights.sum(dim=1)
        return self.classifier(pooled)


@register_model("encoder_head", EncoderHeadConfig)
def build_encoder_head(cfg: EncoderHeadConfig) -> EncoderHead:
    return EncoderHead(cfg)
