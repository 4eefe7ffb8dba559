"""Image-mode model input without the PNG round trip (PNG is lossless: same pixels as training)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from specser.config import FeatureConfig
from specser.features.images import image_transform, spectrogram_rgb


def image_batch(logmels: list[np.ndarray], cfg: FeatureConfig) -> torch.Tensor:
    return torch.stack([image_transform(Image.fromarray(spectrogram_rgb(f, cfg.image_cmap, cfg.top_db)), cfg.image_size)
                        for f in logmels])
