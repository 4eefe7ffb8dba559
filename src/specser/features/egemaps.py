"""eGeMAPS v02 functionals (88 per utterance) via openSMILE: the classic strong SER baseline.

Needs the optional `opensmile` package (``pip install "specser[baselines]"``). Results
are cached like the log-Mels, keyed by the audio file's content.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from specser.audio.load import AudioError, load_audio
from specser.corpus.manifest import Utterance
from specser.features.cache import FeatureCache, content_hash

EGEMAPS_SAMPLE_RATE = 16000


def _smile():
    try:
        import opensmile
    except ImportError as exc:
        raise ImportError("eGeMAPS needs the opensmile package: pip install 'specser[baselines]'") from exc
    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                           feature_level=opensmile.FeatureLevel.Functionals)


def egemaps_features(
    rows: list[Utterance], cache_dir: Path | None, max_duration_s: float | None = None, progress: bool = True
) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """eGeMAPS functionals by utterance id, and the skipped files with reasons."""
    smile = _smile()
    cache = FeatureCache(cache_dir, folder=f"egemaps-v02-{EGEMAPS_SAMPLE_RATE}") if cache_dir else None
    features: dict[str, np.ndarray] = {}
    skipped: list[tuple[str, str]] = []
    for row in tqdm(rows, desc="eGeMAPS", unit="file", disable=not progress):
        try:
            data = Path(row.path).read_bytes()
        except OSError as exc:
            skipped.append((row.path, f"unreadable ({exc.strerror or exc})"))
            continue
        key = content_hash(data)
        value = cache.get(key) if cache else None
        if value is None:
            try:
                wave = load_audio(data, EGEMAPS_SAMPLE_RATE, max_duration_s, name=row.path)
            except AudioError as exc:
                skipped.append((row.path, exc.reason))
                continue
            value = smile.process_signal(wave, EGEMAPS_SAMPLE_RATE).to_numpy(dtype=np.float32)[0]
            if cache:
                cache.put(key, value)
        features[row.utt_id] = value
    return features, skipped
