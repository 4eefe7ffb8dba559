"""Is a recording like the ones the model learned from? A distance in the network's own feature space.

A model trained on one corpus labels another language's recordings little better than chance and gives
no sign of it: its top probability is as high on them as on voices it reads well, and tells their wrong
labels from right ones hardly better than a coin (docs/results.md, "How far to trust the probabilities").
What does tell such recordings apart is where they land in the space the classifier reads (the input of
its last layer): far from every class the training clips formed. Measured on two development models
trained on 20 RAVDESS actors, the distance below told their four held-out actors from nEMO's Polish
speakers with an AUROC of 0.93-0.95, and the `unfamiliar` warning it gives fired on 4.5-5.1 % of the
held-out actors' clips, on 3-13 % of them under the recording conditions of the robustness benchmark,
and on 52-66 % of nEMO's (`benchmarks/familiarity.py`).

The score is the squared Mahalanobis distance to the nearest class mean of the training clips, under one
covariance shared by the classes and shrunk toward a scaled identity (Ledoit-Wolf), as Lee et al. (2018)
use it to find inputs unlike a classifier's training data. The threshold is the 95th percentile of the
validation clips' scores, so about one clip in twenty like the validation clips gets the warning.
It says the recording is unlike the training data, not that this label is wrong: within nEMO the flagged
clips were no less accurate than the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

QUANTILE = 0.95  # of the validation clips' scores: the threshold above which a recording is unfamiliar
MIN_CLIPS = 20  # fewer validation clips than this leave the threshold to chance: no familiarity then


def nearest_class_distance(embeddings: torch.Tensor, means: torch.Tensor, precision: torch.Tensor) -> torch.Tensor:
    """(B,) min over classes of (x - mean_c)^T precision (x - mean_c), for (B, D) embeddings and (C, D) means."""
    diff = embeddings[:, None, :] - means[None]  # (B, C, D)
    return ((diff @ precision) * diff).sum(dim=-1).amin(dim=1)


@dataclass
class Familiarity:
    """Class means (C, D), the shared precision matrix (D, D) and the threshold on the score."""

    means: torch.Tensor
    precision: torch.Tensor
    threshold: float
    quantile: float = QUANTILE

    def score(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B,) squared Mahalanobis distance of each (B, D) embedding to its nearest class mean."""
        return nearest_class_distance(embeddings, self.means.to(embeddings), self.precision.to(embeddings))

    def to_payload(self) -> dict:
        """Plain tensors and numbers: what `torch.load(weights_only=True)` reads back."""
        return {"means": self.means.float().contiguous(), "precision": self.precision.float().contiguous(),
                "threshold": float(self.threshold), "quantile": float(self.quantile)}

    @classmethod
    def from_payload(cls, payload: dict | None) -> "Familiarity | None":
        if not payload:
            return None
        return cls(torch.as_tensor(payload["means"]).float(), torch.as_tensor(payload["precision"]).float(),
                   float(payload["threshold"]), float(payload.get("quantile", QUANTILE)))


def fit_familiarity(train: np.ndarray, targets: np.ndarray, validation: np.ndarray,
                    quantile: float = QUANTILE) -> Familiarity:
    """Class means and a Ledoit-Wolf covariance from the training clips' (N, D) embeddings, and the threshold
    from the validation clips': the network has fitted its training clips, so their distances run short."""
    from sklearn.covariance import LedoitWolf

    if len(validation) < MIN_CLIPS:
        raise ValueError(f"familiarity needs at least {MIN_CLIPS} validation clips to set its threshold, "
                         f"got {len(validation)}")
    classes = np.unique(targets)
    means = np.stack([train[targets == c].mean(axis=0) for c in classes])
    centred = train - means[np.searchsorted(classes, targets)]
    precision = LedoitWolf().fit(centred).precision_
    stats = Familiarity(torch.from_numpy(means).float(), torch.from_numpy(precision).float(), 0.0, quantile)
    scores = stats.score(torch.from_numpy(np.asarray(validation, dtype=np.float32))).numpy()
    stats.threshold = float(np.quantile(scores, quantile))
    return stats


class ScoredNetwork(nn.Module):
    """A classifier with an `embed` method and an `fc` last layer, returning its class probabilities and each
    input's familiarity score in one pass: the graph `specser export` writes. The torch backend computes the
    same two from the same embedding (`Predictor.network_outputs`)."""

    def __init__(self, model: nn.Module, familiarity: Familiarity):
        super().__init__()
        self.model = model
        self.register_buffer("means", familiarity.means.float(), persistent=False)
        self.register_buffer("precision", familiarity.precision.float(), persistent=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embeddings = self.model.embed(x)
        probs = torch.softmax(self.model.fc(embeddings), dim=1)  # dropout is the identity at inference
        return probs, nearest_class_distance(embeddings, self.means, self.precision)


def supports_familiarity(model: nn.Module) -> bool:
    """Networks that expose the input of their last layer (the log-Mel CNNs; not the encoder heads)."""
    return callable(getattr(model, "embed", None)) and isinstance(getattr(model, "fc", None), nn.Linear)
