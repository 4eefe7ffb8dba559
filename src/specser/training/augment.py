"""Training-time augmentation: feature-domain (time shift, mixup) and audio-domain (`WaveFeatures`).

Everything here runs on whole batches on the training device, and only in training
steps: the LightningModule never calls it for validation or test batches.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from specser.config import AugmentConfig, FeatureConfig
from specser.features.logmel import LogMel
from specser.features.normalize import standardize
from specser.training import conditions


def uniform(n: int, low: float, high: float, device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, device=device)


def time_shift(x: torch.Tensor, max_frames: int) -> torch.Tensor:
    """Roll each example of (B, C, F, T) circularly along time by up to `max_frames` either way."""
    if max_frames <= 0:
        return x
    b, t = x.shape[0], x.shape[-1]
    shift = torch.randint(-max_frames, max_frames + 1, (b, 1), device=x.device)
    index = (torch.arange(t, device=x.device) - shift) % t  # (B, T)
    return x.gather(-1, index.view(b, 1, 1, t).expand_as(x))


def mixup(x: torch.Tensor, alpha: float, views: int = 1) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Mix each example with another of the batch: returns (mixed x, partner index, lambda).

    `views`: the batch holds that many views of the same clips, one block after another; each view of a
    clip is mixed with the same view of the same partner, so the views still show the same mixture."""
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    n = x.shape[0] // views
    partner = torch.randperm(n, device=x.device)
    partner = torch.cat([partner + v * n for v in range(views)])
    return lam * x + (1 - lam) * x[partner], partner, lam


def jensen_shannon(logits: torch.Tensor, views: int = 2) -> torch.Tensor:
    """The mean Jensen-Shannon divergence between the predictions of `views` views of the same clips, held
    one block after another in `logits`: the mean KL from each view's distribution to their mixture."""
    probs = logits.float().softmax(dim=1).chunk(views)
    mixture = torch.stack(probs).mean(dim=0).clamp(min=1e-7).log()
    return sum(F.kl_div(mixture, p, reduction="batchmean") for p in probs) / views


def freq_mixstyle(x: torch.Tensor, prob: float, alpha: float, eps: float = 1e-6) -> torch.Tensor:
    """Freq-MixStyle (Schmid et al. 2022, device generalisation in acoustic scene classification).

    For a `prob` share of the examples of (B, C, F, T), each frequency row is standardised by its own mean
    and standard deviation over channels and time, then given statistics mixed with another example's
    of the batch, lambda ~ Beta(alpha, alpha) per example. The network sees the same speech under the
    spectral colouring of another recording, so the colouring alone stops deciding the label.
    """
    if prob <= 0 or x.shape[0] < 2:
        return x
    b = x.shape[0]
    mean = x.mean(dim=(1, 3), keepdim=True)  # (B, 1, F, 1)
    std = (x.var(dim=(1, 3), keepdim=True) + eps).sqrt()
    lam = torch.distributions.Beta(alpha, alpha).sample((b, 1, 1, 1)).to(x.device, x.dtype)
    partner = torch.randperm(b, device=x.device)
    mixed_mean = lam * mean + (1 - lam) * mean[partner]
    mixed_std = lam * std + (1 - lam) * std[partner]
    restyled = (x - mean) / std * mixed_std + mixed_mean
    chosen = (torch.rand(b, device=x.device) < prob).view(b, 1, 1, 1)
    return torch.where(chosen, restyled, x)


def warped_filterbank(filterbank: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
    """Per-example Mel filterbanks that read a spectrum whose frequencies were scaled by `ratio`.

    A pitch shift by ``ratio`` moves the energy at bin k to bin k * ratio, so the Mel
    band m of the shifted spectrum sums ``fb[m, j * ratio] * ratio * P(j)`` over the
    original bins j (a change of variables; fb sampled by linear interpolation).

    Returns (B, n_freq, n_mels), ready for ``power @ W``.
    """
    n_freq = filterbank.shape[1]
    pos = torch.arange(n_freq, device=filterbank.device) * ratio[:, None]  # (B, n_freq) source positions
    lo = pos.floor().long().clamp(max=n_freq - 1)
    hi = (lo + 1).clamp(max=n_freq - 1)
    frac = (pos - lo).clamp(0, 1)
    inside = (pos <= n_freq - 1).float()
    fb = filterbank.unsqueeze(0).expand(len(ratio), -1, -1)  # (B, n_mels, n_freq)
    sampled = fb.gather(2, lo.unsqueeze(1).expand_as(fb)) * (1 - frac).unsqueeze(1) \
        + fb.gather(2, hi.unsqueeze(1).expand_as(fb)) * frac.unsqueeze(1)
    return (sampled * (inside * ratio[:, None]).unsqueeze(1)).transpose(1, 2)


class WaveFeatures(nn.Module):
    """Training waveforms -> augmented, standardised log-Mel batches (B, 1, n_mels, frames).

    Per example: speed (resampling by a random factor), a clip window (random or
    centred), a room, gain, noise (white, pink or babble) at a random SNR, compression, overload (clipping),
    quantisation, then the log-Mel front-end with an optional band-pass, bass roll-off, telephone band and
    equaliser on the power spectrum and an optionally frequency-warped filterbank (pitch), the
    per-clip level and ``top_db`` steps and the training-set standardisation. With every option
    off this is the clean front-end applied to the centred clip. With `augment.consistency` each
    clip comes twice: under its recording conditions, and with the same window, speed and pitch
    but none of them (the reference that the consistency term holds the first view's prediction to).

    Args:
        features: the log-Mel settings (clip length included).
        augment: the amounts.
        random_crop: random clip window instead of the centred one.
        filterbank, mean, std: the front-end's filterbank and the training statistics.
    """

    def __init__(self, features: FeatureConfig, augment: AugmentConfig, random_crop: bool,
                 filterbank: torch.Tensor, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        low, high = augment.quantize_bits[0], augment.quantize_bits[-1]
        if not 2 <= low <= high <= 24:
            raise ValueError(f"train.augment.quantize_bits: {augment.quantize_bits} must be [low, high] "
                             "with 2 <= low <= high <= 24")
        if not 0 <= augment.overload_db[0] <= augment.overload_db[-1]:
            raise ValueError(f"train.augment.overload_db: {augment.overload_db} must be [low, high] dB past "
                             "full scale with 0 <= low <= high")
        self.cfg, self.random_crop, self.bits = augment, random_crop, (low, high)
        self.samples = int(round(features.clip_seconds * features.sample_rate))
        self.sample_rate = features.sample_rate
        self.front_end = LogMel(features, filterbank)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))

    def _clip(self, wave: torch.Tensor) -> torch.Tensor:
        n, want = wave.shape[-1], self.samples
        if n >= want:
            start = int(torch.randint(0, n - want + 1, ())) if self.random_crop else (n - want) // 2
            return wave[start:start + want]
        start = int(torch.randint(0, want - n + 1, ())) if self.random_crop else 0
        return F.pad(wave, (start, want - n - start))

    def _speed(self, wave: torch.Tensor) -> torch.Tensor:
        factor = 1 + (2 * float(torch.rand(())) - 1) * self.cfg.speed
        size = max(2, int(round(wave.shape[-1] / factor)))
        return F.interpolate(wave.view(1, 1, -1), size=size, mode="linear", align_corners=False).view(-1)

    def _windows(self, waves: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Each wave, resampled by its speed factor, in its clip window: (B, samples)."""
        clips = []
        for wave, n in zip(waves, lengths.tolist()):
            wave = wave[:n]
            if self.cfg.speed > 0:
                wave = self._speed(wave)
            clips.append(self._clip(wave))
        return torch.stack(clips)

    def _record(self, x: torch.Tensor) -> torch.Tensor:
        """The recording conditions: (B, samples) clean windows -> (B, frames, n_freq) power spectra."""
        cfg, device, b = self.cfg, x.device, x.shape[0]

        def chosen(prob: float) -> torch.Tensor:
            return torch.rand(b, device=device) < prob

        if cfg.reverb_prob > 0:
            rt60 = uniform(b, cfg.reverb_rt60_s[0], cfg.reverb_rt60_s[-1], device)
            drr = uniform(b, cfg.reverb_drr_db[0], cfg.reverb_drr_db[-1], device) if cfg.reverb_drr_db else None
            x = conditions.reverberate(x, chosen(cfg.reverb_prob), self.sample_rate, rt60, cfg.reverb_room, drr)
        if cfg.gain_db > 0:
            x = x * 10 ** (uniform(b, -cfg.gain_db, cfg.gain_db, device) / 20)[:, None]
        if cfg.noise_snr_db:
            snr = uniform(b, cfg.noise_snr_db[0], cfg.noise_snr_db[-1], device)
            x = conditions.add_noise(x, chosen(cfg.noise_prob), snr, list(cfg.noise_types))
        if cfg.compress_prob > 0:
            ratio = uniform(b, cfg.compress_ratio[0], cfg.compress_ratio[-1], device)
            threshold = uniform(b, cfg.compress_threshold_db[0], cfg.compress_threshold_db[-1], device)
            x = conditions.compress(x, chosen(cfg.compress_prob), self.sample_rate, ratio, threshold)
        if cfg.overload_prob > 0:
            drive = uniform(b, cfg.overload_db[0], cfg.overload_db[-1], device)
            x = conditions.overload(x, chosen(cfg.overload_prob), drive)
        if cfg.quantize_prob > 0:
            bits = torch.randint(self.bits[0], self.bits[1] + 1, (b,), device=device).to(x.dtype)
            x = conditions.quantize(x, chosen(cfg.quantize_prob), bits)
        if cfg.dropout_prob > 0:  # last on the waveform: a recorder writes the lost packets as zeros
            loss = uniform(b, cfg.dropout_loss[0], cfg.dropout_loss[-1], device)
            x = conditions.dropouts(x, chosen(cfg.dropout_prob), self.sample_rate, loss)
        power = self._power(x)
        if cfg.band_prob > 0:
            mask = conditions.band_mask(chosen(cfg.band_prob), power.shape[-1], self.sample_rate,
                                        uniform(b, 50.0, 400.0, device), uniform(b, 3000.0, 7500.0, device))
            power = power * mask[:, None, :]
        if cfg.bass_prob > 0:
            low, high = math.log(cfg.bass_hz[0]), math.log(cfg.bass_hz[-1])
            cutoff, order = torch.exp(uniform(b, low, high, device)), uniform(b, 1.0, 8.0, device)
            power = power * conditions.bass_rolloff(chosen(cfg.bass_prob), power.shape[-1], self.sample_rate,
                                                    cutoff, order)[:, None, :]
        if cfg.telephone_prob > 0:
            power = power * conditions.telephone_mask(chosen(cfg.telephone_prob), power.shape[-1],
                                                      self.sample_rate)[:, None, :]
        if cfg.eq_prob > 0:
            gains = conditions.equalizer(chosen(cfg.eq_prob), power.shape[-1], self.sample_rate, cfg.eq_db)
            power = power * gains[:, None, :]
        return power

    def _power(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.front_end.power(x[i:i + 8]) for i in range(0, len(x), 8)])  # (B, frames, n_freq)

    def forward(self, waves: torch.Tensor, lengths: torch.Tensor, speaker_mean: torch.Tensor | None = None,
                speaker_std: torch.Tensor | None = None) -> torch.Tensor:
        """(B, samples) waves and their lengths (and, for `features.speaker_norm`, each wave's speaker
        statistics, (B, n_mels) each) -> (B, 1, n_mels, frames) model inputs; with `augment.consistency`,
        (2B, ...): the B clips under the recording conditions, then the same B windows without them."""
        x = self._windows(waves, lengths)
        power = self._record(x)
        b, views = x.shape[0], 1
        if self.cfg.consistency > 0:
            power, views = torch.cat([power, self._power(x)]), 2
            if speaker_mean is not None:
                speaker_mean, speaker_std = speaker_mean.repeat(2, 1), speaker_std.repeat(2, 1)
        if self.cfg.pitch_semitones > 0:
            ratio = 2 ** (uniform(b, -self.cfg.pitch_semitones, self.cfg.pitch_semitones, x.device) / 12)
            mel = power @ warped_filterbank(self.front_end.filterbank, ratio.repeat(views))
        else:
            mel = self.front_end.mel(power)
        db = self.front_end._clip(self.front_end.to_db(mel), mel)
        if speaker_mean is not None:
            db = (db - speaker_mean[..., None]) / speaker_std[..., None]
        return standardize(db, self.mean, self.std).unsqueeze(1)


def time_shift_frames(features: FeatureConfig, seconds: float) -> int:
    return int(math.floor(seconds * features.sample_rate / features.hop_length))
