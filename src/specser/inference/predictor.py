"""`Predictor`: a `ModelFile` on torch (CPU or CUDA).

The front-end (log-Mel with the filterbank stored in the model file, the length policy,
test-time crops and the training-set normalisation) is rebuilt from the model file alone,
exactly as in training. Training's own test evaluation runs through this class, so
predicting a test file gives what the run's `metrics.json` says.
"""

from __future__ import annotations

import numpy as np
import torch

from specser.features.logmel import LogMel
from specser.features.normalize import standardize
from specser.inference.base import BasePredictor, per_input_mean, same_length_groups
from specser.inference.device import pick_device
from specser.inference.familiarity import supports_familiarity
from specser.inference.model_file import ModelFile


def fold_batch_norms(model: torch.nn.Module) -> torch.nn.Module:
    """Fold each eval-mode BatchNorm into the convolution it follows (same outputs, fewer passes over
    memory), in place. Safe pairs are a Conv2d directly followed by a BatchNorm2d inside an
    `nn.Sequential`, and the (conv, bn) attribute pairs a block lists in `conv_bn_pairs`, a promise
    that its forward applies the one right after the other. No tracing, so no graph to build: about
    half the time of torch.fx's fuser here (benchmarks/startup.py)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    def foldable(conv, bn) -> bool:
        return isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d) and bn.track_running_stats

    for module in list(model.modules()):
        if isinstance(module, torch.nn.Sequential):
            names = list(module._modules)
            for a, b in zip(names, names[1:]):
                if foldable(module._modules[a], module._modules[b]):
                    module._modules[a] = fuse_conv_bn_eval(module._modules[a], module._modules[b])
                    module._modules[b] = torch.nn.Identity()
        for conv_name, bn_name in getattr(module, "conv_bn_pairs", ()):
            conv, bn = getattr(module, conv_name), getattr(module, bn_name)
            if foldable(conv, bn):
                setattr(module, conv_name, fuse_conv_bn_eval(conv, bn))
                setattr(module, bn_name, torch.nn.Identity())
    return model


WAVE_BATCH = 8  # waveforms per forward pass of a model that runs its encoder


class Predictor(BasePredictor):
    """Torch backend.

    Args:
        model_file: a loaded `ModelFile` (`Predictor.from_file` loads one from a path).
        device: "auto" (CUDA if present), "cpu" or "cuda[:N]".
        **kwargs: see `BasePredictor`; `tta_crops` and `time_views` default to the model file's.
    """

    backend = "torch"

    def __init__(self, model_file: ModelFile, device: str = "auto", **kwargs):
        kwargs.setdefault("tta_crops", model_file.tta_crops)
        kwargs.setdefault("time_views", model_file.time_views)
        super().__init__(model_file.labels, model_file.features, **kwargs)
        self.model_file = model_file
        self.device = pick_device(device)
        # Batch norms folded into their convolutions, NHWC layout: together 2x the batch throughput on CPU.
        self.model = fold_batch_norms(model_file.build()).to(self.device, memory_format=torch.channels_last)
        self.mean = None if model_file.mean is None else model_file.mean.to(self.device)
        self.std = None if model_file.std is None else model_file.std.to(self.device)
        self._encoder = None  # features.mode=encoder: loaded on first use (cached features never need it)
        # A fine-tuned or embedded encoder (`encoder_classifier`) is part of the network: it reads waveforms.
        self.reads_waves = model_file.model_name == "encoder_classifier"
        if self.features.mode != "encoder":
            self.front_end = LogMel(self.features, filterbank=model_file.filterbank).to(self.device)
        familiarity = model_file.familiarity
        self.familiarity = None  # the training clips' statistics, for a file that carries them
        if familiarity is not None and supports_familiarity(self.model):
            self.familiarity = familiarity
            self.familiarity_threshold = familiarity.threshold

    @property
    def encoder(self):
        """The pretrained encoder a `features.mode=encoder` model reads (loaded once, on first use)."""
        if self._encoder is None:
            from specser.encoders.hidden import Encoder

            self._encoder = Encoder(self.features.encoder, str(self.device))
        return self._encoder

    @classmethod
    def from_file(cls, path, **kwargs) -> "Predictor":
        return cls(ModelFile.load(path), **kwargs)

    @property
    def n_parameters(self) -> int:
        return self.model_file.n_parameters

    def wave_features(self, waves: list[np.ndarray]) -> list[torch.Tensor]:
        """The model's features of each wave: log-Mels, or for an encoder model its layers (layers, frames,
        dim), time-averaged as in training with `features.encoder_time_mean`."""
        if self.reads_waves:
            return [torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)) for w in waves]
        if self.features.mode == "encoder":
            layers = [torch.from_numpy(self.encoder.hidden_states(w)) for w in waves]
            if self.features.encoder_time_mean:
                layers = [x.mean(dim=1, keepdim=True) for x in layers]
            return [x.half() for x in layers]  # float16, as training stored them
        with torch.inference_mode():
            return self.front_end.forward_list([torch.from_numpy(np.ascontiguousarray(w)).to(self.device)
                                                for w in waves])

    def _inputs(self, logmels: list) -> torch.Tensor:
        """Equal-length log-Mels -> the model's input batch, exactly as the training datasets built it."""
        if self.features.mode == "encoder":
            from specser.data.datasets import pad_layers

            return pad_layers([torch.as_tensor(f).float() for f in logmels]).to(self.device)  # (B, L, T, D)
        batch = torch.stack([torch.as_tensor(f).to(self.device) for f in logmels])  # (B, n_mels, T)
        if self.features.mode == "image":
            from specser.inference.image_input import image_batch

            return image_batch([f.cpu().numpy() for f in batch], self.features).to(self.device)
        return standardize(batch, self.mean, self.std).unsqueeze(1)  # (B, 1, n_mels, T)

    def feature_embeddings(self, logmels: list) -> np.ndarray:
        """(N, D): the input of the network's last layer for each log-Mel, the mean over the windows it is read
        in (`network_inputs`): what `specser.inference.familiarity` fits its statistics to."""
        flat, owner = self.network_inputs(logmels)
        out = None
        with torch.inference_mode():
            for group in same_length_groups(flat):
                x = self._inputs([flat[i] for i in group]).contiguous(memory_format=torch.channels_last)
                embedded = self.model.embed(x).float().cpu().numpy()
                out = np.zeros((len(flat), embedded.shape[1]), np.float32) if out is None else out
                out[group] = embedded
        return per_input_mean(out, owner, len(logmels))

    def network_outputs(self, logmels: list) -> tuple[np.ndarray, np.ndarray | None]:
        if self.familiarity is None:
            return self.network_probabilities(logmels), None
        with torch.inference_mode():
            embeddings = self.model.embed(self._inputs(logmels).contiguous(memory_format=torch.channels_last)).float()
            probs = torch.softmax(self.model.fc(embeddings), dim=1)  # dropout is the identity at inference
            return probs.cpu().numpy(), self.familiarity.score(embeddings).cpu().numpy()

    def network_probabilities(self, logmels: list) -> np.ndarray:
        if self.reads_waves:  # equal-length waveforms, a few at a time: an encoder's activations are large
            with torch.inference_mode():
                chunks = [self.model(torch.stack([torch.as_tensor(w) for w in logmels[i:i + WAVE_BATCH]]).to(self.device))
                          for i in range(0, len(logmels), WAVE_BATCH)]
                return torch.softmax(torch.cat(chunks).float(), dim=1).cpu().numpy()
        with torch.inference_mode():
            logits = self.model(self._inputs(logmels).contiguous(memory_format=torch.channels_last))
            return torch.softmax(logits.float(), dim=1).cpu().numpy()
