"""Tensor datasets for training: standardised log-Mels (fixed or batch-padded length), random crops, waveforms.

Features live in memory (a six-class RAVDESS run is about 130 MB of float32),
so an epoch never touches the disk.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from specser.features.length import fit_length
from specser.features.normalize import standardize


class LogMelDataset(Dataset):
    """Standardised log-Mel tensors (1, n_mels, T) with integer targets.

    With a fixed length the whole split is one (N, 1, n_mels, T) tensor and a batch is
    one indexing operation (`__getitems__`, which DataLoader calls with a batch's
    indices), not a Python loop over items and a stack. `to("cuda")` moves the tensor
    to the GPU once, so training never copies a batch from host memory.

    Args:
        features: one (n_mels, frames) dB array per utterance.
        targets: class indices.
        mean, std: per-bin statistics from the training part only.
        frames: fixed length (``pad_crop``); None keeps each clip's own length (``pad_batch``).
    """

    def __init__(self, features, targets, mean, std, frames: int | None):
        self.targets = torch.as_tensor(list(targets), dtype=torch.long)
        self.items = []
        for f in features:
            if frames is not None:
                f = fit_length(f, frames)
            self.items.append(torch.from_numpy(standardize(f, mean, std).astype(np.float32)).unsqueeze(0))
        self.data = torch.stack(self.items) if frames is not None and self.items else None
        if self.data is not None:
            self.items = list(self.data)  # views into the one tensor, not a second copy

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.items[i], int(self.targets[i])

    def __getitems__(self, indices: list[int]):
        if self.data is None:
            return [self[i] for i in indices]
        index = torch.as_tensor(indices, device=self.data.device)
        return self.data[index], self.targets[index]

    def to(self, device) -> "LogMelDataset":
        """Move a fixed-length dataset to `device` (a no-op for variable lengths)."""
        if self.data is not None:
            self.data, self.targets = self.data.to(device), self.targets.to(device)
            self.items = list(self.data)
        return self


def stacked_collate(batch):
    """`LogMelDataset.__getitems__` already returns (x, y) batches."""
    return batch


def pad_collate(batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad (1, n_mels, T_i) items to the longest T in the batch with zeros (the standardised mean)."""
    longest = max(x.shape[-1] for x, _ in batch)
    xs = torch.zeros(len(batch), *batch[0][0].shape[:-1], longest)
    for i, (x, _) in enumerate(batch):
        xs[i, ..., : x.shape[-1]] = x
    return xs, torch.tensor([t for _, t in batch], dtype=torch.long)


def collate_for(cfg) -> "callable | None":
    """The collate function the inputs need: padding per batch for ``pad_batch``, none for stacked
    fixed-length log-Mels and encoder layers (their datasets batch themselves), the default for images."""
    if cfg.mode == "encoder":
        return stacked_collate
    if cfg.mode != "native":
        return None
    return pad_collate if cfg.length_mode == "pad_batch" else stacked_collate


class RandomCropDataset(Dataset):
    """Training log-Mels at full length; each draw takes a random `frames` window.

    A longer clip gets a random window instead of the centred one; a shorter one is
    placed at a random position and padded with its own floor, as `fit_length` pads
    at the end. Batches are (x, y), like `LogMelDataset`'s.
    """

    def __init__(self, features, targets, mean, std, frames: int):
        self.frames = frames
        self.targets = torch.as_tensor(list(targets), dtype=torch.long)
        self.items = [torch.from_numpy(standardize(f, mean, std).astype(np.float32)).unsqueeze(0) for f in features]
        self.floors = [torch.from_numpy(standardize(np.full((len(mean), 1), f.min(), np.float32), mean, std))
                       .unsqueeze(0) for f in features]

    def __len__(self) -> int:
        return len(self.items)

    def _draw(self, i: int) -> torch.Tensor:
        x, want = self.items[i], self.frames
        n = x.shape[-1]
        if n >= want:
            start = int(torch.randint(0, n - want + 1, ()))
            return x[..., start:start + want]
        start = int(torch.randint(0, want - n + 1, ()))
        out = self.floors[i].expand(-1, -1, want).clone()
        out[..., start:start + n] = x
        return out

    def __getitem__(self, i: int):
        return self._draw(i), int(self.targets[i])

    def __getitems__(self, indices: list[int]):
        return torch.stack([self._draw(i) for i in indices]), self.targets[torch.as_tensor(indices)]


class EncoderDataset(Dataset):
    """Encoder layers (`features.mode=encoder`): float16 (layers, frames, dim) per clip, kept in memory at
    half size; a batch is zero-padded to its longest clip in float32 (the head treats all-zero frames as
    padding), with integer targets."""

    def __init__(self, features, targets):
        self.items = [torch.from_numpy(np.ascontiguousarray(f, dtype=np.float16)) for f in features]
        self.targets = torch.as_tensor(list(targets), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i].float(), int(self.targets[i])

    def __getitems__(self, indices: list[int]):
        return pad_layers([self.items[i] for i in indices]), self.targets[torch.as_tensor(indices)]


def pad_layers(items: list) -> torch.Tensor:
    """(layers, frames_i, dim) tensors -> (B, layers, max frames, dim) float32, zero-padded in time."""
    longest = max(int(x.shape[1]) for x in items)
    batch = torch.zeros(len(items), items[0].shape[0], longest, items[0].shape[2])
    for row, x in zip(batch, items):
        row[:, : x.shape[1]] = x
    return batch


class WaveDataset(Dataset):
    """Training waveforms for audio-domain augmentation: batches of (zero-padded waves, lengths, targets);
    `specser.training.augment.WaveFeatures` turns them into log-Mels on the training device.

    With `speaker_stats` (one (mean, std) per wave, `features.speaker_norm`) a batch is (waves, lengths,
    speaker means, speaker stds, targets), so each log-Mel is normalised by its own speaker.
    """

    def __init__(self, waves: list[np.ndarray], targets, speaker_stats=None):
        self.waves = [torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)) for w in waves]
        self.targets = torch.as_tensor(list(targets), dtype=torch.long)
        self.speaker_stats = None
        if speaker_stats is not None:
            self.speaker_stats = tuple(torch.from_numpy(np.stack(part)) for part in zip(*speaker_stats))

    def __len__(self) -> int:
        return len(self.waves)

    def __getitem__(self, i: int):
        return self.waves[i], int(self.targets[i])

    def __getitems__(self, indices: list[int]):
        chosen = [self.waves[i] for i in indices]
        lengths = torch.tensor([len(w) for w in chosen])
        batch = torch.zeros(len(chosen), int(lengths.max()))
        for row, w in zip(batch, chosen):
            row[: len(w)] = w
        index = torch.as_tensor(indices)
        if self.speaker_stats is not None:
            return batch, lengths, self.speaker_stats[0][index], self.speaker_stats[1][index], self.targets[index]
        return batch, lengths, self.targets[index]
