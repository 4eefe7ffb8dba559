"""Corpus -> manifest -> cached log-Mel features: the shared first half of every command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from specser.config import ExperimentConfig
from specser.corpus.manifest import Manifest, Utterance, load_manifest
from specser.features.extract import extract_logmels
from specser.paths import default_cache_dir, resolve_data_path


@dataclass
class PreparedCorpus:
    data_path: Path
    manifest: Manifest
    rows: list[Utterance]  # rows whose features exist, manifest order
    features: dict[str, np.ndarray]
    keys: dict[str, str]
    skipped: list[tuple[str, str]]  # unparseable names and unusable audio, with reasons
    computed: int
    cached: int

    @property
    def rows_by_id(self) -> dict[str, Utterance]:
        return {r.utt_id: r for r in self.rows}


def prepare_corpus(cfg: ExperimentConfig, progress: bool = True, device: str = "cpu") -> PreparedCorpus:
    """Parse the configured corpus and extract (or load cached) log-Mels for every usable file
    (computed on `device`)."""
    data_path = resolve_data_path(cfg.data.path)
    manifest = load_manifest(data_path, cfg.data.corpus, cfg.data.label_set, cfg.data.labels)
    result = extract_logmels(manifest.rows, cfg.features, default_cache_dir(cfg.data.cache_dir), cfg.data.max_duration_s,
                            progress=progress, device=device)
    rows = [r for r in manifest.rows if r.utt_id in result.features]
    if not rows:
        raise ValueError(f"{data_path}: every file was skipped; first reason: {result.skipped[:1]}")
    return PreparedCorpus(
        data_path, manifest, rows, result.features, result.keys,
        manifest.skipped + result.skipped, result.computed, result.cached,
    )
