"""`model.specser`: one self-describing file with everything inference needs, as a typed `ModelFile`.

On disk it is a plain dict of strings, numbers, lists and tensors saved with `torch.save`
and loaded with ``weights_only=True``: no pickled classes, so a model file cannot run code.
predict, serve, evaluate and export rebuild the model from it alone, without the training
YAML (and without importing Lightning). The dict layout is format 1, unchanged since the
first release, so every older file loads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from specser import __version__
from specser.atomic import atomic_path
from specser.config import ConfigError, FeatureConfig, from_dict

FORMAT = "specser-model"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A path that is not a usable specser model file."""


@dataclass
class ModelFile:
    """A trained network with its front-end, labels and normalisation.

    Args:
        model_name: the registry name (`specser models`).
        model_config: the model's own options, enough for `create_model` to rebuild it.
        labels: class names in output order.
        features: the log-Mel settings the network was trained on.
        state_dict: the weights.
        filterbank: the Mel filterbank (n_mels, n_fft // 2 + 1) used in training.
        mean, std: per-Mel-bin statistics of the training part (native mode); None in image mode,
            whose ImageNet statistics are fixed.
        tta_crops: test-time crops the run was evaluated with; the predictor uses the same.
        time_views: test-time circular rolls (frames) the run was evaluated with; the predictor uses the same.
        protocol, test_accuracy: where the model came from, for people reading `/v1/model`.
    """

    model_name: str
    model_config: dict[str, Any]
    labels: list[str]
    features: FeatureConfig
    state_dict: dict[str, torch.Tensor]
    filterbank: torch.Tensor
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None
    tta_crops: int = 1
    time_views: tuple[int, ...] = ()
    protocol: str = ""
    test_accuracy: float | None = None
    specser_version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)  # anything else an older or newer file recorded

    @classmethod
    def from_model(cls, model: nn.Module, model_name: str, model_config: dict[str, Any], labels: list[str],
                   features: FeatureConfig, filterbank: torch.Tensor, mean: torch.Tensor | None = None,
                   std: torch.Tensor | None = None, **info: Any) -> "ModelFile":
        """Snapshot a trained network (weights copied to CPU) with what inference needs."""
        return cls(model_name, dict(model_config), list(labels), features,
                   {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                   torch.as_tensor(filterbank).float().cpu(),
                   None if mean is None else torch.as_tensor(mean).float().cpu(),
                   None if std is None else torch.as_tensor(std).float().cpu(), **info)

    @property
    def familiarity(self):
        """The training clips' statistics that score how familiar a recording is
        (`specser.inference.familiarity.Familiarity`), or None for a file made without them."""
        from specser.inference.familiarity import Familiarity

        return Familiarity.from_payload(self.extra.get("familiarity"))

    def with_familiarity(self, familiarity) -> "ModelFile":
        """A copy carrying `familiarity` (a `Familiarity`) in its `extra` entries, where format 1 keeps it."""
        return replace(self, extra={**self.extra, "familiarity": familiarity.to_payload()})

    @property
    def n_parameters(self) -> int:
        """Learned parameters (BatchNorm running statistics and counters excluded)."""
        return int(sum(v.numel() for k, v in self.state_dict.items() if "running_" not in k and "num_batches" not in k))

    def half(self) -> "ModelFile":
        """A copy whose learned weights are stored in half precision (half the file size, for shipping);
        `build` loads them into the float32 network. BatchNorm statistics stay float32."""
        state = {k: v.half() if v.is_floating_point() and "running_" not in k else v
                 for k, v in self.state_dict.items()}
        return replace(self, state_dict=state)

    def build(self) -> nn.Module:
        """The float32 network with these weights, in eval mode (half-precision files load into float32).

        Not built on the meta device: initialising there imports torch._dynamo, 4 s of start-up,
        where the random initialisation it would skip costs 50 ms."""
        from specser.models import create_model

        model = create_model(self.model_name, **self.model_config)
        model.load_state_dict(self.state_dict)  # copies, converting float16 to the model's float32
        return model.eval()

    def to_payload(self) -> dict[str, Any]:
        """The on-disk dict (format 1)."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "specser_version": self.specser_version,
            "model_name": self.model_name,
            "model_config": self.model_config,
            "labels": self.labels,
            "feature_config": asdict(self.features),
            "normalization": None if self.mean is None else {"mean": self.mean, "std": self.std},
            "filterbank": self.filterbank,
            "state_dict": self.state_dict,
            "extra": {**self.extra, "protocol": self.protocol, "test_accuracy": self.test_accuracy,
                      "tta_crops": self.tta_crops, "time_views": list(self.time_views)},
        }

    def save(self, path: Path | str) -> None:
        """Write atomically: a crash never leaves a half-written file."""
        with atomic_path(Path(path)) as tmp:
            torch.save(self.to_payload(), tmp)

    @classmethod
    def from_payload(cls, payload: Any, source: str = "<payload>") -> "ModelFile":
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ModelFileError(f"{source}: not a specser model file")
        if payload.get("format_version", 0) > FORMAT_VERSION:
            raise ModelFileError(f"{source}: made by a newer specser (format {payload['format_version']}); upgrade specser")
        try:
            features = from_dict(FeatureConfig, payload["feature_config"], "feature_config")
            norm = payload.get("normalization")
            extra = dict(payload.get("extra") or {})
            return cls(
                model_name=payload["model_name"], model_config=dict(payload["model_config"]),
                labels=list(payload["labels"]), features=features, state_dict=payload["state_dict"],
                filterbank=payload["filterbank"],
                mean=None if norm is None else norm["mean"], std=None if norm is None else norm["std"],
                tta_crops=int(extra.pop("tta_crops", 1) or 1),
                time_views=tuple(int(k) for k in extra.pop("time_views", ()) or ()),
                protocol=str(extra.pop("protocol", "") or ""),
                test_accuracy=extra.pop("test_accuracy", None),
                specser_version=str(payload.get("specser_version", "")), extra=extra,
            )
        except (KeyError, TypeError, ConfigError) as exc:
            raise ModelFileError(f"{source}: a damaged specser model file ({exc})") from exc

    @classmethod
    def load(cls, path: Path | str) -> "ModelFile":
        """Load and check a model file safely (``weights_only=True``)."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"model file not found: {path}")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - corrupt, truncated, or not a torch file at all
            raise ModelFileError(f"{path}: not a specser model file (it could not be read as one: "
                                 f"{type(exc).__name__})") from exc
        return cls.from_payload(payload, str(path))
