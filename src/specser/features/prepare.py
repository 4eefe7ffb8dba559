"""Corpus -> manifest -> cached log-Mel features: the shared first half of every command.

Several corpora (`data.path` as a list, and `data.extra_train`) are combined into one manifest
(`specser.corpus.combine`); the rows of `data.extra_train` are marked, so splits and folds are
made of the other rows and the extra ones only ever join training parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from specser.config import ExperimentConfig
from specser.corpus.combine import combine, corpus_names
from specser.corpus.manifest import CorpusError, Manifest, Utterance, load_manifest, ordered_labels
from specser.features.extract import extract_logmels
from specser.paths import default_cache_dir, resolve_data_path


@dataclass
class PreparedCorpus:
    data_path: Path | str  # the corpus, or "a + b" for several
    manifest: Manifest
    rows: list[Utterance]  # rows whose features exist, manifest order (extra training rows included)
    features: dict[str, np.ndarray]
    keys: dict[str, str]
    skipped: list[tuple[str, str]]  # unparseable names and unusable audio, with reasons
    computed: int
    cached: int
    extra_ids: frozenset[str] = frozenset()  # rows of `data.extra_train`: training only, never tested
    speaker_stats: dict[str, tuple[np.ndarray, np.ndarray]] | None = None  # `features.speaker_norm`: per speaker

    @property
    def rows_by_id(self) -> dict[str, Utterance]:
        return {r.utt_id: r for r in self.rows}

    @property
    def main_rows(self) -> list[Utterance]:
        """The rows that splits and folds are made of (everything but `extra_ids`)."""
        return [r for r in self.rows if r.utt_id not in self.extra_ids]

    @property
    def extra_train(self) -> list[str]:
        return sorted(self.extra_ids)


def build_manifest(cfg: ExperimentConfig) -> tuple[Manifest, frozenset[str], str]:
    """The combined manifest of `data.path` and `data.extra_train`, the extra rows' ids, and a name for it."""
    named = [cfg.data.path] if isinstance(cfg.data.path, str) else cfg.data.path
    main = [resolve_data_path(p) for p in named if p] or [resolve_data_path(None)]
    extra = [Path(p).expanduser() for p in cfg.data.extra_train]
    if len(main) == 1 and not extra:
        return load_manifest(main[0], cfg.data.corpus, cfg.data.label_set, cfg.data.labels), frozenset(), main[0]
    manifests = [load_manifest(p, cfg.data.corpus if len(main) == 1 else "auto", cfg.data.label_set, None)
                 for p in main + extra]
    merged = combine(manifests, plain_first=len(main) == 1)
    names = corpus_names(manifests)
    extra_names = set(names[len(main):])
    main_labels = {r.label for r in merged.rows if r.metadata["corpus"] not in extra_names}
    wanted = set(cfg.data.labels) or main_labels
    kept = [r for r in merged.rows if r.label in wanted and (r.label in main_labels or r.metadata["corpus"] not in extra_names)]
    merged.excluded += [(r.path, f"label {r.label!r} not among the labels used") for r in merged.rows if r not in kept]
    merged.rows, merged.labels = kept, ordered_labels({r.label for r in kept})
    extra_ids = frozenset(r.utt_id for r in kept if r.metadata["corpus"] in extra_names)
    return merged, extra_ids, " + ".join(str(p) for p in main + extra)


def prepare_corpus(cfg: ExperimentConfig, progress: bool = True, device: str = "cpu") -> PreparedCorpus:
    """Parse the configured corpora and extract (or load cached) log-Mels for every usable file
    (computed on `device`)."""
    manifest, extra_ids, data_path = build_manifest(cfg)
    if not manifest.rows:
        raise CorpusError(f"{data_path}: no usable audio files found")
    if cfg.features.mode == "encoder":
        result = encoder_features(manifest.rows, cfg, progress, device)
    else:
        result = extract_logmels(manifest.rows, cfg.features, default_cache_dir(cfg.data.cache_dir),
                                 cfg.data.max_duration_s, progress=progress, device=device)
    rows = [r for r in manifest.rows if r.utt_id in result.features]
    if not rows:
        raise ValueError(f"{data_path}: every file was skipped; first reason: {result.skipped[:1]}")
    features, stats = result.features, None
    if cfg.features.speaker_norm:
        features, stats = speaker_normalized(rows, features)
    return PreparedCorpus(
        data_path, manifest, rows, features, result.keys,
        manifest.skipped + result.skipped, result.computed, result.cached, extra_ids & {r.utt_id for r in rows}, stats,
    )


def encoder_features(rows: list[Utterance], cfg: ExperimentConfig, progress: bool, device: str):
    """`features.mode=encoder`: every clip's encoder layers (from the cache; the encoder runs only for
    clips not there yet), as float16 (layers, frames, dim), or (layers, 1, dim) time means with
    `features.encoder_time_mean`. Returned in the log-Mel extraction's shape of result."""
    from specser.config import ConfigError
    from specser.encoders.extract import extract_encoder_states
    from specser.encoders.hub import sample_rate
    from specser.features.extract import ExtractionResult

    if not cfg.features.encoder:
        raise ConfigError("features.mode=encoder needs features.encoder: a hub name or a save_pretrained folder")
    rate = sample_rate(cfg.features.encoder)
    if rate != cfg.features.sample_rate:
        raise ConfigError(f"features.sample_rate is {cfg.features.sample_rate} but encoder {cfg.features.encoder!r} "
                          f"takes {rate} Hz audio: set features.sample_rate={rate}")
    if cfg.train.finetune.enabled:
        return encoder_waves(rows, rate, cfg.data.max_duration_s, progress)
    states = extract_encoder_states(rows, cfg.features.encoder, default_cache_dir(cfg.data.cache_dir),
                                    cfg.data.max_duration_s, device, progress)
    features = {}
    for utt_id in states.keys:
        layers = states.layers(utt_id)
        if cfg.features.encoder_time_mean:
            layers = layers.mean(axis=1, keepdims=True, dtype=np.float32).astype(np.float16)
        features[utt_id] = layers
    return ExtractionResult(features=features, keys=dict(states.keys), skipped=states.skipped,
                            computed=states.computed, cached=states.cached)


def encoder_waves(rows: list[Utterance], sample_rate: int, max_duration_s: float | None, progress: bool):
    """Fine-tuning (`train.finetune.enabled`): the encoder sees waveforms, so the "features" are each
    clip's waveform at the encoder's rate; unreadable audio is skipped with its reason."""
    from tqdm.auto import tqdm

    from specser.audio.load import AudioError, load_audio
    from specser.features.extract import ExtractionResult

    result = ExtractionResult(features={})
    for row in tqdm(rows, desc="waveforms", unit="file", disable=not progress):
        try:
            result.features[row.utt_id] = load_audio(row.path, sample_rate, max_duration_s, name=row.path)
        except AudioError as exc:
            result.skipped.append((row.path, exc.reason))
            continue
        result.computed += 1
    return result


def speaker_normalized(rows: list[Utterance], features: dict[str, np.ndarray]):
    """`features.speaker_norm`: every clip relative to its speaker's statistics, taken from all of that
    speaker's clips in the corpus (their labels unused, test clips included: a user who names a speaker's
    recordings gives the predictor the same). Returns (normalised features, {speaker: stats})."""
    from specser.features.normalize import speaker_normalize, speaker_stats

    by_speaker: dict[str, list[Utterance]] = {}
    for r in rows:
        by_speaker.setdefault(r.speaker, []).append(r)
    stats = {s: speaker_stats([features[r.utt_id] for r in rs]) for s, rs in by_speaker.items()}
    normalised = dict(features)
    for r in rows:
        normalised[r.utt_id] = speaker_normalize(features[r.utt_id], stats[r.speaker])
    return normalised, stats
