"""Typed run and cross-validation summaries: what `metrics.json["run"]` and `cv_summary.json` hold.

Writers build these; reports, `specser compare` and benchmarks read them by attribute,
so a renamed field is an error where it is read, not a silent KeyError three modules away.
The JSON layout is `dataclasses.asdict` of each, unchanged from earlier releases.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


def _known(cls, data: dict) -> dict:
    """The keys of `data` that `cls` has (files from other versions may carry more)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass
class RunSummary:
    """The facts of one training run (`metrics.json["run"]`, the head of its report.md)."""

    run_name: str
    preset: str
    data_path: str
    corpus: str
    label_set: str
    protocol: str
    n_train: int
    n_val: int
    n_test: int
    n_skipped: int
    mode: str
    model_name: str
    parameters: int
    epochs: int
    best_epoch: int
    wall_time_s: float
    device: str
    n_speakers: int
    shared_speakers: int  # speakers in both train and test: 0 for speaker-independent splits
    speaker_norm: bool = False  # features.speaker_norm: the test speakers' unlabelled audio was used
    # Validation accuracy at the chosen epoch, and whether validation held out whole speakers: beside
    # the test figure it shows whether validation predicts the test (`data.val_split`).
    val_accuracy: float | None = None
    val_by_speaker: bool | None = None
    precision: str | None = None  # Lightning's, as resolved (`train.precision=auto`); None before it was kept

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunSummary":
        return cls(**_known(cls, data))


@dataclass
class Stat:
    """One metric over folds: mean, sample std (ddof=1; 0 with one fold) and the per-fold values."""

    mean: float
    std: float
    per_fold: list[float]


@dataclass
class FoldRecord:
    fold: int
    test_speakers: list[str]
    n_test: int
    wall_time_s: float | None = None
    epochs: int | None = None
    best_epoch: int | None = None
    params: dict | None = None  # baselines: the hyper-parameters the inner CV chose
    val_accuracy: float | None = None  # networks: validation accuracy at the chosen epoch
    val_by_speaker: bool | None = None  # whether that validation held out whole speakers


@dataclass
class CVRun:
    """The facts of one cross-validation (`cv_summary.json["run"]`)."""

    run_name: str
    model: str  # how reports and `specser compare` name the model
    protocol: str
    preset: str
    speaker_independent: bool
    n_folds: int
    data_path: str
    corpus: str
    label_set: str
    n_files: int
    n_skipped: int
    seed: int
    folds: list[FoldRecord]
    fold_wall_time_s: float  # summed over folds
    session_wall_time_s: float  # this invocation, resumed folds excluded
    resumed_folds: list[int] = field(default_factory=list)
    speaker_norm: bool = False  # features.speaker_norm: the test speakers' unlabelled audio was used

    @classmethod
    def from_dict(cls, data: dict) -> "CVRun":
        values = _known(cls, data)
        values["folds"] = [FoldRecord(**_known(FoldRecord, f)) for f in data.get("folds", [])]
        return cls(**values)


METRIC_NAMES = ("accuracy", "uar", "macro_f1", "macro_precision", "macro_recall")


@dataclass
class CVSummary:
    """Mean ± std over folds of every figure, the summed confusion matrix, and the run's facts."""

    accuracy: Stat
    uar: Stat
    macro_f1: Stat
    macro_precision: Stat
    macro_recall: Stat
    f1_per_class: dict[str, Stat]
    precision_per_class: dict[str, Stat]
    recall_per_class: dict[str, Stat]
    confusion_matrix: list[list[int]]
    labels: list[str]
    n_test_per_fold: list[int]
    pooled: dict[str, Any]  # figures from the summed confusion matrix (each file counted once)
    accuracy_by_intensity: dict[str, Any]
    run: CVRun
    by_corpus: dict[str, Any] = field(default_factory=dict)  # several corpora tested: pooled figures of each
    calibration: dict[str, Stat] = field(default_factory=dict)  # ECE, mean top probability, ... over folds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CVSummary":
        values = _known(cls, data)
        for name in METRIC_NAMES:
            values[name] = Stat(**data[name])
        for name in ("f1_per_class", "precision_per_class", "recall_per_class"):
            values[name] = {k: Stat(**v) for k, v in data[name].items()}
        values["run"] = CVRun.from_dict(data["run"])
        values.setdefault("accuracy_by_intensity", {})
        values.setdefault("by_corpus", {})
        values["calibration"] = {k: Stat(**v) for k, v in data.get("calibration", {}).items()}
        return cls(**values)

    @classmethod
    def load(cls, path: Path | str) -> "CVSummary":
        return cls.from_dict(json.loads(Path(path).read_text()))
