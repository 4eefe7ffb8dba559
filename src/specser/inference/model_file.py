"""`model.specser`: one self-describing file with everything inference needs.

It is a plain dict of strings, numbers, lists and tensors saved with
`torch.save` and loaded with ``weights_only=True``: no pickled classes, so a
model file cannot run code. predict, serve and export rebuild the model from
it alone, without the training YAML (and without importing Lightning).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from specser import __version__
from specser.config import FeatureConfig, from_dict
from specser.atomic import atomic_path

FORMAT = "specser-model"
FORMAT_VERSION = 1


class ArtifactError(ValueError):
    pass


def save_artifact(
    path: Path,
    model: nn.Module,
    model_name: str,
    model_config: dict[str, Any],
    labels: list[str],
    features: FeatureConfig,
    mean: torch.Tensor | None,
    std: torch.Tensor | None,
    filterbank: torch.Tensor,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the model file atomically. `mean`/`std` are None in image mode (ImageNet stats apply)."""
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "specser_version": __version__,
        "model_name": model_name,
        "model_config": model_config,
        "labels": list(labels),
        "feature_config": asdict(features),
        "normalization": None if mean is None else {"mean": mean.float().cpu(), "std": std.float().cpu()},
        "filterbank": torch.as_tensor(filterbank).float().cpu(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "extra": extra or {},
    }
    with atomic_path(Path(path)) as tmp:
        torch.save(payload, tmp)


def load_artifact(path: Path | str) -> dict[str, Any]:
    """Load and check a model file safely (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"model file not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt, truncated or not a torch file
        raise ArtifactError(f"{path}: not a readable specser model file ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ArtifactError(f"{path}: not a specser model file")
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise ArtifactError(f"{path}: made by a newer specser (format {payload['format_version']})")
    payload["feature_config"] = from_dict(FeatureConfig, payload["feature_config"], "feature_config")
    return payload


def build_model(payload: dict[str, Any]) -> nn.Module:
    """Rebuild the network from a loaded model file, in eval mode."""
    from specser.models import create_model

    model = create_model(payload["model_name"], **payload["model_config"])
    model.load_state_dict(payload["state_dict"])
    return model.eval()
