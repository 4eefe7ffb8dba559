"""`RunFolder`: the one owner of a run folder's checking, resuming and writing.

A training run and a cross-validation share the rules: a finished folder (its marker file
exists: `metrics.json` or `cv_summary.json`, written last and atomically) is never
overwritten unless asked; an unfinished one resumes only with the config it was started
with (speed-only keys aside); every file is written atomically.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from specser.atomic import atomic_write_json
from specser.config import ExperimentConfig


def _saved_outcome(path: Path) -> dict | None:
    """A saved config.yaml as `outcome_dict`, with fields added to specser since it was written taking their
    defaults, so a newer specser resumes an older run; None when it no longer reads as a config."""
    from specser.config import ConfigError, ExperimentConfig, from_dict

    try:
        return from_dict(ExperimentConfig, yaml.safe_load(path.read_text())).outcome_dict()
    except (ConfigError, TypeError, AttributeError):
        return None


class RunFolderError(RuntimeError):
    """A folder that cannot be used as asked: finished already, or holding another config's work."""


@dataclass(frozen=True)
class _Kind:
    marker: str  # written last: its presence means finished
    partial: tuple[str, ...]  # globs whose presence means work to resume
    cleared: tuple[str, ...]  # globs deleted by --overwrite
    noun: str


_RUN = _Kind("metrics.json", ("checkpoints/last.ckpt",),
             ("checkpoints", "logs", "metrics.json", "evaluation"), "run")
_CV = _Kind("cv_summary.json", ("fold_*",), ("fold_*", "cv_summary.json", "folds.json", "config.yaml"),
            "cross-validation")


class RunFolder:
    """A run folder (`kind="run"`) or a cross-validation folder (`kind="cv"`)."""

    def __init__(self, path: Path | str, kind: str = "run"):
        self.path = Path(path)
        self.kind = {"run": _RUN, "cv": _CV}[kind]

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def finished(self) -> bool:
        return (self.path / self.kind.marker).exists()

    def open(self, cfg: ExperimentConfig, overwrite: bool = False) -> "RunFolder":
        """Create the folder, or check that it may be resumed with `cfg` (or clear it, with `overwrite`).

        Raises:
            RunFolderError: finished already (without `overwrite`), or unfinished with another config.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        if overwrite:
            for pattern in self.kind.cleared:
                for item in self.path.glob(pattern):
                    shutil.rmtree(item) if item.is_dir() else item.unlink()
            return self
        if self.finished:
            raise RunFolderError(f"{self.path} already holds a finished {self.kind.noun}; choose another --out "
                                 "or pass --overwrite")
        saved = self.path / "config.yaml"
        has_partial = any(next(self.path.glob(p), None) for p in self.kind.partial)
        if saved.exists() and has_partial and _saved_outcome(saved) != cfg.outcome_dict():
            raise RunFolderError(f"{self.path} holds an unfinished {self.kind.noun} with a different config; resume it "
                                 "with the same arguments, choose another --out, or pass --overwrite")
        return self

    def write_start(self, cfg: ExperimentConfig, corpus) -> None:
        """The config, the manifest and the skipped files, before any training."""
        from specser.corpus.manifest import write_manifest_csv

        cfg.save(self.path / "config.yaml")
        write_manifest_csv(corpus.manifest, self.path / "manifest.csv")
        self.write_json("skipped.json", [{"path": p, "reason": r} for p, r in corpus.skipped])

    def write_json(self, name: str, obj: Any) -> None:
        atomic_write_json(self.path / name, obj)

    def read_json(self, name: str) -> Any:
        return json.loads((self.path / name).read_text())

    def finished_metrics(self) -> dict | None:
        """The run's metrics if it finished (`metrics.json` is written last, atomically)."""
        path = self.path / "metrics.json"
        return json.loads(path.read_text()) if path.exists() else None
