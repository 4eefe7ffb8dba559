"""The encoder's own input preparation, in torch, for a batch of waveforms: what its feature extractor
does in numpy, so fine-tuning, the embedded-encoder model file and its ONNX graph run it on the device.

- wav2vec2 / HuBERT / WavLM / data2vec: each waveform to zero mean and unit variance over its own
  samples when the extractor's ``do_normalize`` says so; padding stays zero.
- Whisper: 30 s of audio (zero-padded), its log-Mel (25 ms Hann window, 10 ms hop, log10 floored
  8 decades below the clip's peak, scaled as `(x + 4) / 4`).

`tests/encoders/test_inputs.py` checks both against the extractors themselves.
"""

from __future__ import annotations

import torch


def sample_mask(waves: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """(B, N) float mask of the real samples of zero-padded waves (all ones without lengths)."""
    if lengths is None:
        return torch.ones_like(waves)
    positions = torch.arange(waves.shape[1], device=waves.device)
    return (positions[None, :] < lengths.to(waves.device)[:, None]).to(waves.dtype)


def normalized_waves(waves: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Zero mean, unit variance per waveform over its real samples (the extractor's ``do_normalize``)."""
    mask = sample_mask(waves, lengths)
    count = mask.sum(dim=1, keepdim=True).clamp(min=1)
    mean = (waves * mask).sum(dim=1, keepdim=True) / count
    var = (((waves - mean) * mask) ** 2).sum(dim=1, keepdim=True) / count
    return (waves - mean) / torch.sqrt(var + 1e-7) * mask


def whisper_log_mel(waves: torch.Tensor, mel_filters: torch.Tensor, n_fft: int, hop_length: int,
                    n_samples: int) -> torch.Tensor:
    """(B, n_mels, n_samples // hop_length) Whisper input features of (B, N <= n_samples) waveforms."""
    padded = torch.nn.functional.pad(waves, (0, n_samples - waves.shape[1]))
    window = torch.hann_window(n_fft, device=waves.device, dtype=waves.dtype)
    stft = torch.stft(padded, n_fft, hop_length, window=window, return_complex=True)
    power = stft[..., :-1].abs() ** 2
    log_spec = torch.clamp(mel_filters.T.to(power.dtype) @ power, min=1e-10).log10()
    peak = log_spec.amax(dim=(1, 2), keepdim=True)
    return (torch.maximum(log_spec, peak - 8.0) + 4.0) / 4.0
