"""`Predictor`: a `model.specser` file on torch (CPU or CUDA).

The front-end (log-Mel with the filterbank stored in the model file, the length policy
and the training-set normalisation) is rebuilt from the model file alone, exactly as in
training, so predicting a test file gives what the run's evaluation gave.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from specser.inference.model_file import build_model, load_artifact
from specser.features.length import fit_length
from specser.features.logmel import LogMel
from specser.inference.base import BasePredictor


def _pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def fold_batch_norms(model: torch.nn.Module) -> torch.nn.Module:
    """Fold each eval-mode BatchNorm into the convolution before it (same outputs, fewer passes over
    memory). Models that torch.fx cannot trace are returned unchanged."""
    import warnings

    with warnings.catch_warnings():  # the module's import trips torch's own jit deprecation warning
        warnings.simplefilter("ignore", DeprecationWarning)
        from torch.fx.experimental.optimization import fuse

    try:
        return fuse(model)
    except Exception:  # noqa: BLE001 - tracing limits vary by model; unfused is still correct
        return model


class Predictor(BasePredictor):
    """Torch backend. `device`: "auto" (CUDA if present), "cpu" or "cuda[:N]"; see `BasePredictor`."""

    backend = "torch"

    def __init__(self, payload: dict, device: str = "auto", **kwargs):
        super().__init__(payload["labels"], payload["feature_config"], **kwargs)
        self.payload = payload
        self.device = _pick_device(device)
        # Batch norms folded into their convolutions, NHWC layout: together 2x the batch throughput on CPU.
        model = build_model(payload).eval()
        self._n_parameters = sum(p.numel() for p in model.parameters())  # as trained, before folding
        self.model = fold_batch_norms(model).to(self.device, memory_format=torch.channels_last)
        self.front_end = LogMel(self.features, filterbank=payload["filterbank"]).to(self.device)
        norm = payload["normalization"]
        self.mean = None if norm is None else norm["mean"].to(self.device)[:, None]
        self.std = None if norm is None else norm["std"].to(self.device)[:, None]

    @classmethod
    def from_file(cls, path: Path | str, **kwargs) -> "Predictor":
        return cls(load_artifact(path), **kwargs)

    @property
    def n_parameters(self) -> int:
        return self._n_parameters

    def inputs(self, waves: list[np.ndarray]) -> torch.Tensor:
        """Waveforms -> the model's input batch, exactly as the training datasets built it."""
        fc = self.features
        feats = self.front_end.forward_list([torch.from_numpy(np.ascontiguousarray(w)).to(self.device) for w in waves])
        if fc.mode == "image":
            from specser.inference.image_input import image_batch

            return image_batch([f.cpu().numpy() for f in feats], fc).to(self.device)
        frames = fc.clip_frames if fc.length_mode == "pad_crop" else max(f.shape[-1] for f in feats)
        fitted = [f if f.shape[-1] == frames else torch.from_numpy(fit_length(f.cpu().numpy(), frames)).to(self.device)
                  for f in feats]
        return ((torch.stack(fitted) - self.mean) / self.std).unsqueeze(1)

    def probabilities(self, waves: list[np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            logits = self.model(self.inputs(waves).contiguous(memory_format=torch.channels_last))
            return torch.softmax(logits.float(), dim=1).cpu().numpy()
