"""`Predictor`: a `model.specser` file -> emotion probabilities for audio.

Audio comes as a path, raw file bytes, or an array with its sample rate. The front-end
(log-Mel with the filterbank stored in the model file, the length policy and the
training-set normalisation) is rebuilt from the model file alone, exactly as in training.
Recordings longer than one window plus one hop are cut into sliding windows and get a
timeline as well as an overall label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from specser.artifact import build_model, load_artifact
from specser.audio import AudioError, load_audio
from specser.data.datasets import fit_length
from specser.features.logmel import LogMel
from specser.inference.segments import Segment, sliding_windows


@dataclass
class Prediction:
    label: str
    probabilities: dict[str, float]
    duration_s: float
    timeline: list[Segment] = field(default_factory=list)  # empty for clips that fit one window

    def to_dict(self) -> dict:
        out = {"label": self.label, "probabilities": self.probabilities, "duration_s": round(self.duration_s, 3)}
        if self.timeline:
            out["timeline"] = [s.to_dict() for s in self.timeline]
        return out


def _pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Predictor:
    """Probabilities over the model's labels for any audio.

    Args:
        payload: a loaded model file (`specser.artifact.load_artifact`).
        device: "auto" (CUDA if present), "cpu" or "cuda[:N]".
        max_duration_s: longer audio is refused (protects a service); None accepts any length.
        window_s, hop_s: sliding windows for long recordings; default window = the model's
            training clip length, hop = half of it.
    """

    def __init__(self, payload: dict, device: str = "auto", max_duration_s: float | None = None,
                 window_s: float | None = None, hop_s: float | None = None):
        self.payload = payload
        self.labels: list[str] = list(payload["labels"])
        self.features = payload["feature_config"]
        self.device = _pick_device(device)
        self.model = build_model(payload).to(self.device).eval()
        self.front_end = LogMel(self.features, filterbank=payload["filterbank"]).to(self.device)
        norm = payload["normalization"]
        self.mean = None if norm is None else norm["mean"].to(self.device)[:, None]
        self.std = None if norm is None else norm["std"].to(self.device)[:, None]
        self.sample_rate = self.features.sample_rate
        self.max_duration_s = max_duration_s
        self.window_s = window_s or self.features.clip_seconds
        self.hop_s = hop_s or self.window_s / 2
        if self.hop_s <= 0 or self.window_s <= 0:
            raise ValueError("window and hop must be positive")

    @classmethod
    def from_file(cls, path: Path | str, **kwargs) -> "Predictor":
        return cls(load_artifact(path), **kwargs)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def load(self, source: str | Path | bytes | np.ndarray, sample_rate: int | None = None, name: str | None = None) -> np.ndarray:
        """Mono float32 at the model's rate; raises `AudioError` naming the source and the reason."""
        if isinstance(source, np.ndarray):
            return self._from_array(source, sample_rate, name or "<array>")
        return load_audio(source, self.sample_rate, self.max_duration_s, name=name)

    def _from_array(self, wave: np.ndarray, sample_rate: int | None, name: str) -> np.ndarray:
        if sample_rate is None:
            raise ValueError(f"{name}: an array needs its sample rate")
        wave = np.asarray(wave, dtype=np.float32)
        if wave.ndim == 2:  # (frames, channels) as soundfile returns it
            wave = wave.mean(axis=1)
        if wave.ndim != 1 or wave.size == 0:
            raise AudioError(name, f"expected a non-empty 1-D or (frames, channels) array, got shape {wave.shape}")
        if not np.isfinite(wave).all():
            raise AudioError(name, "contains NaN or infinite samples")
        if not np.any(wave):
            raise AudioError(name, "all-silent (every sample is zero)")
        if self.max_duration_s and wave.size / sample_rate > self.max_duration_s:
            raise AudioError(name, f"too long: {wave.size / sample_rate:.1f} s > {self.max_duration_s:.1f} s")
        if sample_rate != self.sample_rate:
            import soxr

            wave = soxr.resample(wave, sample_rate, self.sample_rate, quality="HQ").astype(np.float32)
        return wave

    def _inputs(self, waves: list[np.ndarray]) -> torch.Tensor:
        """Waveforms -> the model's input batch, exactly as the training datasets built it."""
        fc = self.features
        feats = [self.front_end(torch.from_numpy(w).to(self.device)) for w in waves]
        if fc.mode == "image":
            from specser.inference.image_input import image_batch

            return image_batch([f.cpu().numpy() for f in feats], fc).to(self.device)
        frames = fc.clip_frames if fc.length_mode == "pad_crop" else max(f.shape[-1] for f in feats)
        fitted = []
        for f in feats:
            x = torch.from_numpy(fit_length(f.cpu().numpy(), frames)) if f.shape[-1] != frames else f
            fitted.append(((x.to(self.device) - self.mean) / self.std))
        return torch.stack(fitted).unsqueeze(1)

    def probabilities(self, waves: list[np.ndarray]) -> np.ndarray:
        """(N, C) class probabilities for a batch of model-rate waveforms (one window each)."""
        with torch.inference_mode():
            logits = self.model(self._inputs(waves))
            return torch.softmax(logits.float(), dim=1).cpu().numpy()

    def is_long(self, wave: np.ndarray) -> bool:
        return wave.size / self.sample_rate > self.window_s + self.hop_s

    def predict_wave(self, wave: np.ndarray) -> Prediction:
        duration = wave.size / self.sample_rate
        if not self.is_long(wave):
            return self._prediction(self.probabilities([wave])[0], duration)
        windows = sliding_windows(wave, self.sample_rate, self.window_s, self.hop_s)
        probs = self.probabilities([w for _, _, w in windows])
        timeline = [Segment(start, end, self.labels[int(p.argmax())], self._named(p)) for (start, end, _), p in zip(windows, probs)]
        weights = np.array([end - start for start, end, _ in windows])
        overall = (probs * weights[:, None]).sum(axis=0) / weights.sum()
        return self._prediction(overall, duration, timeline)

    def predict(self, source, sample_rate: int | None = None, name: str | None = None) -> Prediction:
        return self.predict_wave(self.load(source, sample_rate, name))

    def _named(self, probs: np.ndarray) -> dict[str, float]:
        return {label: round(float(p), 6) for label, p in zip(self.labels, probs)}

    def _prediction(self, probs: np.ndarray, duration: float, timeline: list[Segment] | None = None) -> Prediction:
        return Prediction(self.labels[int(np.argmax(probs))], self._named(probs), duration, timeline or [])
