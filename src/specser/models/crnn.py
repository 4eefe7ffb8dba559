"""CRNN: Spec-ResNet's stem and stages, then a bidirectional GRU over time.

The paper's future work names bidirectional recurrent layers. The CNN's last feature
map (B, C, F', T'), averaged over its few frequency rows, becomes a sequence of T'
vectors of C values; a BiGRU reads it in both directions and the head averages its
outputs over time. Stem and stages are
Spec-ResNet's, unchanged; only the head differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from specser.models.registry import register_model
from specser.models.spec_resnet import SpecResNet, SpecResNetConfig


@dataclass
class CRNNConfig(SpecResNetConfig):
    rnn_hidden: int = 128  # per direction
    rnn_layers: int = 1


@register_model("spec_crnn", CRNNConfig)
class SpecCRNN(SpecResNet):
    def __init__(self, config: CRNNConfig):
        super().__init__(config)
        self.rnn = nn.GRU(self.num_features, config.rnn_hidden, num_layers=config.rnn_layers,
                          batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * config.rnn_hidden, config.num_classes)

    def pooled(self, feats: torch.Tensor) -> torch.Tensor:
        x = feats.mean(dim=2).transpose(1, 2).contiguous()  # (B, T', C)
        out, _ = self.rnn(x)  # (B, T', 2 * hidden)
        return out.mean(dim=1)
