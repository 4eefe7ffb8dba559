"""Batch log-Mel extraction over a manifest: cached, threaded, with progress and skip lists."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from specser.audio import AudioError, load_audio
from specser.config import FeatureConfig
from specser.corpus import Utterance
from specser.features.cache import FeatureCache, content_hash
from specser.features.logmel import LogMel


@dataclass
class ExtractionResult:
    features: dict[str, np.ndarray]  # utt_id -> (n_mels, frames) log-Mel in dB
    keys: dict[str, str] = field(default_factory=dict)  # utt_id -> sha1 of the audio file
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    computed: int = 0
    cached: int = 0


def extract_logmels(
    rows: list[Utterance],
    cfg: FeatureConfig,
    cache_dir: Path | None,
    max_duration_s: float | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> ExtractionResult:
    """Compute (or read from cache) the log-Mel of every row.

    Args:
        rows: manifest rows.
        cfg: feature settings.
        cache_dir: cache root; None disables the cache.
        max_duration_s: longer files are skipped with a reason.
        workers: decoding threads (default: all cores, at most 8).
        progress: show a progress bar.

    Returns:
        Features by utterance id, the skipped files with reasons, and hit counts.
    """
    cache = FeatureCache(cache_dir, cfg) if cache_dir is not None else None
    front_end = LogMel(cfg)
    workers = workers or min(8, os.cpu_count() or 1)

    def one(row: Utterance):
        try:
            data = Path(row.path).read_bytes()  # read once: hashed for the cache key, decoded on a miss
        except OSError as exc:
            return row, None, None, f"unreadable ({exc.strerror or exc})", False
        key = content_hash(data)
        if cache:
            hit = cache.get(key)
            if hit is not None:
                return row, key, hit, None, True
        try:
            wave = load_audio(data, cfg.sample_rate, max_duration_s, name=row.path)
        except AudioError as exc:
            return row, key, None, exc.reason, False
        with torch.inference_mode():
            feats = front_end(torch.from_numpy(wave)).numpy()
        if cache:
            cache.put(key, feats)
        return row, key, feats, None, False

    result = ExtractionResult(features={})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        bar = tqdm(pool.map(one, rows), total=len(rows), desc="log-Mel", unit="file", disable=not progress)
        for row, key, feats, reason, hit in bar:
            if reason is not None:
                result.skipped.append((row.path, reason))
                continue
            result.features[row.utt_id] = feats
            result.keys[row.utt_id] = key
            result.cached += int(hit)
            result.computed += int(not hit)
    return result
