"""An ensemble of models that share labels and front-end settings: the mean of their probabilities.

The usual source is a cross-validation folder: its K fold models, each trained on a
different part of the corpus, predict together (`specser predict runs/cv-actor ...`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from specser.inference.base import BasePredictor


class EnsemblePredictor(BasePredictor):
    """Averages the class probabilities of `members` (same labels, same feature settings)."""

    def __init__(self, members: list[BasePredictor], **kwargs):
        if not members:
            raise ValueError("an ensemble needs at least one model")
        first = members[0]
        for m in members[1:]:
            if m.labels != first.labels:
                raise ValueError(f"ensemble members disagree on labels: {first.labels} vs {m.labels}")
            if m.features != first.features:
                raise ValueError("ensemble members were trained with different feature settings")
        kwargs.setdefault("tta_crops", first.tta_crops)
        kwargs.setdefault("time_views", first.time_views)
        super().__init__(first.labels, first.features, **kwargs)
        self.members = members
        self.backend = f"ensemble of {len(members)} ({first.backend})"

    @property
    def n_parameters(self) -> int:
        return sum(getattr(m, "n_parameters", 0) for m in self.members)

    def wave_features(self, waves: list[np.ndarray]) -> list:
        return self.members[0].wave_features(waves)  # the members share the front-end settings: computed once

    def network_probabilities(self, logmels: list) -> np.ndarray:
        return np.mean([m.network_probabilities(logmels) for m in self.members], axis=0)


def ensemble_files(folder: Path) -> list[Path]:
    """Model files of a folder: the fold models of a CV run folder, else every model file in it."""
    folder = Path(folder)
    found = sorted(folder.glob("fold_*/model.specser")) or sorted(folder.glob("*.specser")) or sorted(folder.glob("*.onnx"))
    if not found:
        raise FileNotFoundError(f"{folder}: no fold_*/model.specser, *.specser or *.onnx files to ensemble")
    return found
