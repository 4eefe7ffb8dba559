"""Disk cache for features, keyed by the feature settings and the audio file's content.

Layout: ``<root>/<kind>-<settings hash>/<content sha1>.npy``. Changing any
setting that alters the output gives a new folder; editing or replacing an
audio file gives a new key. Writes are atomic, so a killed extraction never
leaves a truncated entry that later reads as valid.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np

from specser.config import FeatureConfig
from specser.atomic import atomic_path

CACHE_VERSION = 1

# np.load parses each header with ast.literal_eval, whose recursion-depth bookkeeping is not thread-safe
# in CPython 3.11: extraction threads reading entries at once failed here with "SystemError: AST
# constructor recursion depth mismatch". Reads take a lock; a read is a millisecond, the misses computed
# in those threads are not serialised.
_READ_LOCK = threading.Lock()
_LOGMEL_KEYS = ("sample_rate", "n_fft", "win_length", "hop_length", "n_mels", "f_min", "f_max", "top_db")


def settings_hash(cfg: FeatureConfig) -> str:
    payload = {k: getattr(cfg, k) for k in _LOGMEL_KEYS} | {"version": CACHE_VERSION}
    if cfg.level_norm:  # added only when on, so the caches of earlier releases stay valid
        payload["level_norm"] = True
    if cfg.utterance_norm:
        payload["utterance_norm"] = True
    if cfg.compression != "db":
        payload["compression"] = cfg.compression
    return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def content_hash(data: bytes) -> str:
    """Cache key of an audio file's bytes."""
    return hashlib.sha1(data).hexdigest()


class FeatureCache:
    """Get/put feature arrays for audio files."""

    def __init__(self, root: Path, cfg: FeatureConfig | None = None, folder: str | None = None):
        """Log-Mel entries for `cfg`, or (with `folder`) another feature kind, e.g. "egemaps-v02-16000"."""
        if (cfg is None) == (folder is None):
            raise ValueError("give either the log-Mel settings or a folder name")
        self.dir = Path(root) / (folder or f"logmel-{settings_hash(cfg)}")

    def _entry(self, key: str) -> Path:
        return self.dir / f"{key}.npy"

    def has(self, key: str) -> bool:
        return self._entry(key).exists()

    def get(self, key: str) -> np.ndarray | None:
        entry = self._entry(key)
        if not entry.exists():
            return None
        try:
            with _READ_LOCK:
                return np.load(entry, allow_pickle=False)
        except (ValueError, OSError, EOFError):
            entry.unlink(missing_ok=True)  # damaged entry: recompute rather than fail
            return None

    def put(self, key: str, value: np.ndarray, dtype=np.float32) -> None:
        """Store `value` as `dtype` (encoder layers keep float16: half the disk, well inside their precision)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(self._entry(key)) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, np.ascontiguousarray(value, dtype=dtype), allow_pickle=False)
