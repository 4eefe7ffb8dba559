"""Model inputs for a split, in either feature mode, from the extracted log-Mels.

Native mode standardises with statistics of the training part only; image mode
renders the paper's PNGs and uses fixed ImageNet statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from specser.config import FeatureConfig
from specser.corpus.manifest import Utterance
from specser.data.datasets import EncoderDataset, LogMelDataset, WaveDataset
from specser.features.normalize import normalization_stats
from specser.features.images import SpectrogramImageDataset, render_images


@dataclass
class Inputs:
    datasets: dict[str, Dataset]  # split name -> dataset (rows in the split's id order)
    rows: dict[str, list[Utterance]]
    mean: np.ndarray | None  # native-mode statistics (None in image and encoder modes)
    std: np.ndarray | None
    in_channels: int  # input channels: 1 for log-Mels, 3 for images, the encoder's layers
    input_dim: int | None = None  # encoder mode: the encoder's hidden size


def build_inputs(
    splits: dict[str, list[str]],
    rows_by_id: dict[str, Utterance],
    features: dict[str, np.ndarray],
    keys: dict[str, str],
    labels: list[str],
    cfg: FeatureConfig,
    image_dir: Path | None = None,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = True,
    waveforms: bool = False,
) -> Inputs:
    """Datasets for each named split.

    Args:
        splits: e.g. {"train": ids, "val": ids, "test": ids}; empty splits are skipped.
        stats: native-mode (mean, std) to reuse (e.g. from a model file); computed from
            ``splits["train"]`` when None.
        image_dir: where image mode writes its PNGs.
        waveforms: encoder mode, fine-tuned: `features` holds waveforms, which the network reads.
    """
    index = {label: i for i, label in enumerate(labels)}
    rows = {name: [rows_by_id[i] for i in ids] for name, ids in splits.items() if ids}
    unknown = {r.label for rs in rows.values() for r in rs} - set(index)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not among the model's labels {labels}")
    datasets: dict[str, Dataset] = {}
    if cfg.mode == "native":
        if stats is None:
            stats = normalization_stats([features[r.utt_id] for r in rows["train"]])
        mean, std = stats
        frames = cfg.clip_frames if cfg.length_mode == "pad_crop" else None
        for name, rs in rows.items():
            datasets[name] = LogMelDataset(
                [features[r.utt_id] for r in rs], [index[r.label] for r in rs], mean, std, frames
            )
        return Inputs(datasets, rows, mean, std, in_channels=1)
    if cfg.mode == "encoder" and waveforms:
        for name, rs in rows.items():
            datasets[name] = WaveDataset([features[r.utt_id] for r in rs], [index[r.label] for r in rs])
        return Inputs(datasets, rows, None, None, in_channels=1)
    if cfg.mode == "encoder":
        first = features[rows["train"][0].utt_id]
        for name, rs in rows.items():
            datasets[name] = EncoderDataset([features[r.utt_id] for r in rs], [index[r.label] for r in rs])
        return Inputs(datasets, rows, None, None, in_channels=int(first.shape[0]), input_dim=int(first.shape[2]))
    if cfg.mode == "image":
        if cfg.speaker_norm:
            raise ValueError("features.speaker_norm needs features.mode=native")
        if image_dir is None:
            raise ValueError("image mode needs an image folder")
        items = [(r.utt_id, r.label, keys[r.utt_id]) for rs in rows.values() for r in rs]
        paths = render_images(items, features, image_dir, cfg.image_cmap, cfg.top_db, progress)
        for name, rs in rows.items():
            datasets[name] = SpectrogramImageDataset([paths[r.utt_id] for r in rs], labels, cfg.image_size)
        return Inputs(datasets, rows, None, None, in_channels=3)
    raise ValueError(f"features.mode: unknown mode {cfg.mode!r} (native, image)")


def load_waves(rows: list[Utterance], sample_rate: int, max_duration_s: float | None) -> list[np.ndarray]:
    """Decoded, resampled waveforms of `rows` (audio-domain augmentation trains on these)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from specser.audio.load import load_audio

    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda r: load_audio(r.path, sample_rate, max_duration_s, name=r.path), rows))
