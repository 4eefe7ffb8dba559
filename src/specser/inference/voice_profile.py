"""A voice profile: what adapting a model to one person's recordings changes, kept apart from the model.

Why: a model adapted to a speaker's own unlabelled clips (AdaBN, `specser.inference.adapt`) labels that
speaker's other clips better. Measured one speaker at a time (docs/results.md, "One adapted model per
speaker"), 20 clips took nEMO -> RAVDESS from 34 to 41.5 % and RAVDESS -> nEMO from 26-29 to 36-37 %.
A service holding one adapted model file (5 MB) per user would not scale; what adaptation changes is
only the BatchNorm statistics (a few thousand numbers) and, for a `features.speaker_norm` model, the
speaker's log-Mel statistics. A profile keeps just those, tied to the model it was made for.

On disk a profile is a plain dict of strings, numbers and tensors (`torch.save`, loaded with
``weights_only=True``), like a model file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from specser.atomic import atomic_path
from specser.inference.adapt import adapt_to_logmels, is_statistic, speech_windows
from specser.inference.base import logmel_speaker_stats
from specser.inference.model_file import ModelFile

FORMAT = "specser-voice-profile"
FORMAT_VERSION = 1


class ProfileError(ValueError):
    """A file that is not a usable voice profile for this model."""


def model_digest(model_file: ModelFile) -> str:
    """A fingerprint of the network's weights and labels: a profile applies only to the model it was made for."""
    digest = hashlib.sha256("\n".join(model_file.labels).encode())
    for name in sorted(model_file.state_dict):
        digest.update(name.encode())
        digest.update(model_file.state_dict[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@dataclass
class VoiceProfile:
    """BatchNorm statistics measured on one speaker's recordings (and their log-Mel statistics, for a
    `features.speaker_norm` model), with how many recordings and seconds they came from."""

    model: str  # `model_digest` of the model it was made for
    statistics: dict[str, torch.Tensor]
    recordings: int
    inputs: int  # clips or windows of speech that adapted the model
    seconds: float
    created: str
    speaker_mean: np.ndarray | None = None
    speaker_std: np.ndarray | None = None

    def apply(self, model_file: ModelFile, digest: str | None = None) -> tuple[ModelFile, tuple | None]:
        """The model file with this profile's statistics, and the speaker statistics to normalise by
        (None for other models). Raises `ProfileError` if the profile was made for another model."""
        if (digest or model_digest(model_file)) != self.model:
            raise ProfileError("the profile was made for another model")
        state = {k: self.statistics[k].to(v.dtype) if k in self.statistics else v
                 for k, v in model_file.state_dict.items()}
        stats = None if self.speaker_mean is None else (self.speaker_mean, self.speaker_std)
        return replace(model_file, state_dict=state), stats

    def to_payload(self) -> dict:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "model": self.model,
                "statistics": self.statistics, "recordings": self.recordings, "inputs": self.inputs,
                "seconds": self.seconds, "created": self.created,
                "speaker_mean": None if self.speaker_mean is None else torch.from_numpy(self.speaker_mean),
                "speaker_std": None if self.speaker_std is None else torch.from_numpy(self.speaker_std)}

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            torch.save(self.to_payload(), tmp)

    @classmethod
    def load(cls, path: Path) -> "VoiceProfile":
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise
        except Exception as exc:  # noqa: BLE001 - truncated, damaged, or not a torch file
            raise ProfileError(f"{path.name}: not a voice profile ({type(exc).__name__})") from exc
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ProfileError(f"{path.name}: not a voice profile")
        if payload.get("format_version", 0) > FORMAT_VERSION:
            raise ProfileError(f"{path.name}: made by a newer specser")
        mean, std = payload.get("speaker_mean"), payload.get("speaker_std")
        return cls(model=payload["model"], statistics=dict(payload["statistics"]), recordings=int(payload["recordings"]),
                   inputs=int(payload["inputs"]), seconds=float(payload["seconds"]), created=str(payload["created"]),
                   speaker_mean=None if mean is None else mean.numpy(), speaker_std=None if std is None else std.numpy())


def make_profile(model_file: ModelFile, waves: list[np.ndarray], min_inputs: int, prior: float = 0.0,
                 device: str = "cpu", digest: str | None = None) -> VoiceProfile:
    """A profile from one speaker's checked model-rate recordings (`Predictor.load`); long ones give their
    windows of speech. A `features.speaker_norm` model's inputs are normalised by the statistics of all
    the recordings together, as its predictions will be. `prior`: see `adapt_to_logmels`.

    Raises ValueError with fewer than `min_inputs` clips or windows of speech, or a model without
    BatchNorm layers.
    """
    from specser.inference.predictor import Predictor

    predictor = Predictor(model_file, device=device, tta_crops=1)
    inputs = [w for wave in waves for w in speech_windows(predictor, wave)]
    if len(inputs) < max(min_inputs, 1):
        raise ValueError(f"a voice profile needs at least {min_inputs} clips or windows of speech; got {len(inputs)}")
    logmels = predictor.logmels(inputs)
    stats = logmel_speaker_stats(logmels) if model_file.features.speaker_norm else None
    adapted = adapt_to_logmels(model_file, predictor.speaker_normalized(logmels, stats), device=device,
                               min_inputs=min_inputs, prior=prior)
    return VoiceProfile(
        model=digest or model_digest(model_file),
        statistics={k: v.clone() for k, v in adapted.state_dict.items() if is_statistic(k)},
        recordings=len(waves), inputs=len(inputs), seconds=round(sum(w.size for w in waves) / predictor.sample_rate, 2),
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        speaker_mean=None if stats is None else np.asarray(stats[0], dtype=np.float32),
        speaker_std=None if stats is None else np.asarray(stats[1], dtype=np.float32))
