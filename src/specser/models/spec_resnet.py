"""Spec-ResNet: the paper's residual CNN for spectrograms.

Stem (7x7 conv stride 2, BN, ReLU, 3x3 max-pool stride 2), four residual
stages of basic blocks (two 3x3 conv + BN, ReLU, identity or 1x1 projection
skip), global average pooling, one fully connected layer. The softmax lives in
the loss and in inference, not in the module. The default widths give
1.23 M parameters for 6 classes; the paper reports 1.40 M without its widths.

`antialias=True` puts a small blur before every stride-2 step (Zhang 2019): the network reads time
through five of them, and without it a recording that starts one frame later can change its label.
`antialias_axes="time"` blurs along time only, which is what a later start needs, and leaves the frequency
axis as sharp as the plain network's.

`deltas=True` stacks the first and second time derivatives of the input beside it (the "3-D log-Mel"
of SER CNNs). They are computed inside the network, so every input path (training, both predictor
backends, ONNX) stays the same 1-channel log-Mel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from specser.models.registry import register_model


@dataclass
class SpecResNetConfig:
    in_channels: int = 1  # 1 for native log-Mel, 3 for the paper's RGB images
    num_classes: int = 6
    stem_channels: int = 32
    widths: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    blocks: list[int] = field(default_factory=lambda: [1, 1, 1, 1])
    dropout: float = 0.0  # before the classifier; the paper uses none
    deltas: bool = False  # input + its delta + its delta-delta over time, as 3x the input channels
    antialias: bool = False  # a [1, 2, 1] blur before every stride-2 step (Zhang 2019), so a shift matters less
    antialias_axes: Literal["time+frequency", "time"] = "time+frequency"  # which axes that blur smooths


DELTA_WIDTH = 9  # frames, as librosa.feature.delta's default


class TimeDeltas(nn.Module):
    """Regression deltas over the last (time) axis, repeated edge frames beyond the clip.

    d[t] = sum_n n * x[t + n] / sum_n n^2 for n in -4..4: the slope of a least-squares line through
    9 frames, which is what `librosa.feature.delta` computes away from the edges.
    """

    def __init__(self, width: int = DELTA_WIDTH):
        super().__init__()
        half = width // 2
        n = torch.arange(-half, half + 1, dtype=torch.float32)
        self.register_buffer("kernel", (n / n.square().sum()).view(1, 1, 1, width), persistent=False)
        self.half = half

    def slope(self, x: torch.Tensor) -> torch.Tensor:
        b, c, f, t = x.shape
        padded = nn.functional.pad(x.reshape(b * c, 1, f, t), (self.half, self.half, 0, 0), mode="replicate")
        return nn.functional.conv2d(padded, self.kernel.to(x.dtype)).reshape(b, c, f, t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = self.slope(x)
        return torch.cat([x, first, self.slope(first)], dim=1)


class Blur(nn.Module):
    """A [1, 2, 1] / 4 low-pass on each channel along time (and frequency), same size out: put before a
    stride-2 step, it keeps the step from aliasing, so the output moves less when the input shifts by one
    frame (Zhang 2019, "Making convolutional networks shift-invariant again").

    Beyond the edges it reads zeros, as the network's own convolutions do: padding inside the convolution
    costs about a tenth of a training step here, where repeating the edge frames cost half of one (bf16 on
    CPU). So a flat input stays flat except in its outermost row and column.
    """

    def __init__(self, axes: str = "time+frequency"):
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0]) / 4
        kernel = taps[:, None] * taps[None, :] if axes == "time+frequency" else taps[None, :]
        self.register_buffer("kernel", kernel[None, None], persistent=False)  # (1, 1, 3 or 1, 3)
        self.padding = (kernel.shape[0] // 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.kernel.to(x.dtype).expand(x.shape[1], 1, *self.kernel.shape[2:])
        return nn.functional.conv2d(x, kernel, padding=self.padding, groups=x.shape[1])


class BasicBlock(nn.Module):
    conv_bn_pairs = (("conv1", "bn1"), ("conv2", "bn2"))  # forward applies each bn right after its conv

    def __init__(self, c_in: int, c_out: int, stride: int, antialias: str | None = None):
        super().__init__()
        self.blur = Blur(antialias) if antialias and stride > 1 else nn.Identity()  # antialias: the blur's axes
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blur(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


@register_model("spec_resnet", SpecResNetConfig)
class SpecResNet(nn.Module):
    def __init__(self, config: SpecResNetConfig):
        super().__init__()
        if len(config.widths) != len(config.blocks):
            raise ValueError("spec_resnet: widths and blocks must have the same length")
        self.config = config
        self.deltas = TimeDeltas() if config.deltas else nn.Identity()
        antialias = config.antialias_axes if config.antialias else None

        def blur() -> list[nn.Module]:  # before a stride-2 step, when anti-aliased
            return [Blur(antialias)] if antialias else []

        self.stem = nn.Sequential(
            *blur(),
            nn.Conv2d(config.in_channels * (3 if config.deltas else 1), config.stem_channels, 7, 2, 3, bias=False),
            nn.BatchNorm2d(config.stem_channels),
            nn.ReLU(inplace=True),
            *blur(),
            nn.MaxPool2d(3, 2, 1),
        )
        stages, c_in = [], config.stem_channels
        for i, (width, n_blocks) in enumerate(zip(config.widths, config.blocks)):
            blocks = []
            for j in range(n_blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(BasicBlock(c_in, width, stride, antialias))
                c_in = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.num_features = c_in
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(c_in, config.num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, C, n_mels, T) -> (B, widths[-1], n_mels/32, T/32)
        return self.stages(self.stem(self.deltas(x)))

    def pooled(self, feats: torch.Tensor) -> torch.Tensor:
        """What the classifier reads: (B, D), here global average pooling. Subclasses pool otherwise."""
        return feats.mean(dim=(-2, -1))

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.pooled(feats)))  # (B, num_classes) logits

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The input of the last layer, (B, D): where `specser.inference.familiarity` measures how far a
        recording lies from the training clips."""
        return self.pooled(self.forward_features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
