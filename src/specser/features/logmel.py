"""Log-Mel spectrogram in torch, numerically matching librosa.

`LogMel` reproduces ``librosa.power_to_db(librosa.feature.melspectrogram(...))``
with the same parameters (periodic Hann window, centred frames with zero
padding, Slaney Mel filterbank, power 2, ``ref=1``, ``amin=1e-10``, ``top_db``
clipped per utterance). The filterbank can be passed in, so inference can
rebuild the front-end from a model file without importing librosa.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from specser.config import FeatureConfig

AMIN = 1e-10


def mel_filterbank(cfg: FeatureConfig) -> np.ndarray:
    """Slaney-normalised Mel filterbank, shape (n_mels, n_fft // 2 + 1)."""
    import librosa

    return librosa.filters.mel(
        sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.f_min, fmax=cfg.f_max,
        htk=False, norm="slaney", dtype=np.float32,
    )


class LogMel(nn.Module):
    """Waveforms (B, T) or (T,) -> log-Mel in dB, (B, n_mels, frames) or (n_mels, frames)."""

    def __init__(self, cfg: FeatureConfig, filterbank: np.ndarray | torch.Tensor | None = None):
        super().__init__()
        self.n_fft, self.hop, self.win = cfg.n_fft, cfg.hop_length, cfg.win_length
        self.top_db = cfg.top_db
        fb = mel_filterbank(cfg) if filterbank is None else filterbank
        self.register_buffer("filterbank", torch.as_tensor(np.asarray(fb), dtype=torch.float32))
        self.register_buffer("window", torch.hann_window(cfg.win_length, periodic=True))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        single = wave.dim() == 1
        if single:
            wave = wave.unsqueeze(0)
        spec = torch.stft(
            wave, n_fft=self.n_fft, hop_length=self.hop, win_length=self.win, window=self.window,
            center=True, pad_mode="constant", return_complex=True,
        )  # (B, n_freq, frames)
        power = spec.real.square() + spec.imag.square()
        mel = torch.matmul(self.filterbank, power)  # (B, n_mels, frames)
        db = 10.0 * torch.log10(torch.clamp(mel, min=AMIN))
        if self.top_db is not None and self.top_db > 0:
            peak = db.amax(dim=(-2, -1), keepdim=True)
            db = torch.maximum(db, peak - self.top_db)
        return db[0] if single else db


def librosa_logmel(wave: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """The librosa reference our torch front-end is tested against."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=wave, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
        win_length=cfg.win_length, window="hann", center=True, pad_mode="constant",
        power=2.0, n_mels=cfg.n_mels, fmin=cfg.f_min, fmax=cfg.f_max, htk=False, norm="slaney",
    )
    return librosa.power_to_db(mel, ref=1.0, amin=AMIN, top_db=cfg.top_db)
