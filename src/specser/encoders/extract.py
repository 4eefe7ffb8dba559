"""A corpus's encoder layers into the disk cache, once per corpus and encoder.

Layout: ``<cache>/encoder-<identity>/<audio content sha1>.npy``, float16 (layers, frames, dim),
written atomically like the log-Mel cache. The encoder's weights are loaded only when an entry is
missing, so a cached corpus never needs them (nor the network).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from specser.audio.load import AudioError, load_audio
from specser.corpus.manifest import Utterance
from specser.features.cache import FeatureCache, content_hash


@dataclass
class EncoderStates:
    """Where each clip's layers are (`keys` into `cache`), what was skipped and why, and the counts."""

    cache: FeatureCache
    keys: dict[str, str] = field(default_factory=dict)  # utt_id -> cache key
    skipped: list[tuple[str, str]] = field(default_factory=list)
    computed: int = 0
    cached: int = 0

    def layers(self, utt_id: str) -> np.ndarray:
        """float16 (layers, frames, dim) of one clip, as cached."""
        found = self.cache.get(self.keys[utt_id])
        if found is None:
            raise FileNotFoundError(f"{utt_id}: its encoder layers left the cache; run `specser features --encoder` again")
        return found


def encoder_cache(cache_dir: Path, encoder_name: str) -> FeatureCache:
    from specser.encoders.hub import identity

    return FeatureCache(cache_dir, folder=f"encoder-{identity(encoder_name)}")


def extract_encoder_states(rows: list[Utterance], encoder_name: str, cache_dir: Path,
                           max_duration_s: float | None = None, device: str = "cpu",
                           progress: bool = True) -> EncoderStates:
    """Every hidden layer of every row, computed on `device` (or read from the cache).

    Unreadable audio, and audio the encoder cannot take (over 30 s for Whisper), is skipped with
    its reason, as the log-Mel extraction does.
    """
    from tqdm.auto import tqdm

    states = EncoderStates(encoder_cache(cache_dir, encoder_name))
    encoder = None
    for row in tqdm(rows, desc=f"encoder layers ({Path(encoder_name).name})", unit="file", disable=not progress):
        try:
            data = Path(row.path).read_bytes()
        except OSError as exc:
            states.skipped.append((row.path, f"unreadable ({exc.strerror or exc})"))
            continue
        key = content_hash(data)
        if states.cache.has(key):
            states.keys[row.utt_id] = key
            states.cached += 1
            continue
        if encoder is None:
            from specser.encoders.hidden import Encoder

            encoder = Encoder(encoder_name, device)
        try:
            wave = load_audio(data, encoder.sample_rate, max_duration_s, name=row.path)
            layers = encoder.hidden_states(wave)
        except (AudioError, ValueError) as exc:
            states.skipped.append((row.path, getattr(exc, "reason", None) or str(exc)))
            continue
        states.cache.put(key, layers, dtype=np.float16)
        states.keys[row.utt_id] = key
        states.computed += 1
    return states
