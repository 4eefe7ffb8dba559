"""Recording conditions as training augmentation, batched in torch on the training device.

The robustness benchmark (`specser.audio.degrade`) degrades clips one at a time in numpy
with fixed settings; these draw the settings at random per example and work on a whole
(B, samples) batch, so they cost milliseconds per batch. They are separate implementations
of the same physical effects (a benchmark that reused the training code would flatter it).

Each function takes `chosen`, a (B,) boolean mask of the examples it applies to, and leaves
the others untouched.
"""

from __future__ import annotations

import math
from typing import get_args

import torch

from specser.config import NoiseType

NOISE_TYPES: tuple[str, ...] = get_args(NoiseType)  # the config's choices, in one place


def _rms(x: torch.Tensor) -> torch.Tensor:
    return x.square().mean(dim=-1, keepdim=True).add(1e-20).sqrt()


def pink_noise(b: int, n: int, device) -> torch.Tensor:
    """(b, n) noise with a 1/f power spectrum, unit RMS."""
    spectrum = torch.fft.rfft(torch.randn(b, n, device=device))
    spectrum = spectrum / torch.arange(spectrum.shape[-1], device=device).clamp(min=1).sqrt()
    noise = torch.fft.irfft(spectrum, n)
    return noise / _rms(noise)


def babble(x: torch.Tensor, rows: torch.Tensor, talkers: int = 3) -> torch.Tensor:
    """For clips `rows` of batch `x`, the sum of `talkers` other clips of the batch."""
    b = x.shape[0]
    if b < 2:
        return torch.randn(len(rows), x.shape[1], device=x.device)
    picks = torch.stack([torch.randperm(b - 1, device=x.device)[: min(talkers, b - 1)] for _ in range(len(rows))])
    others = (rows[:, None] + 1 + picks) % b  # never the clip itself
    return x[others].sum(dim=1)


def add_noise(x: torch.Tensor, chosen: torch.Tensor, snr_db: torch.Tensor, types: list[str]) -> torch.Tensor:
    """Noise of a type drawn from `types` per chosen example, at `snr_db` (B,) below each clip's RMS."""
    n = x.shape[1]
    kinds = torch.randint(0, len(types), (x.shape[0],), device=x.device)
    out = x.clone()
    for k, kind in enumerate(types):
        rows = (chosen & (kinds == k)).nonzero().flatten()
        if rows.numel() == 0:
            continue
        if kind == "white":
            noise = torch.randn(len(rows), n, device=x.device)
        elif kind == "pink":
            noise = pink_noise(len(rows), n, x.device)
        else:
            noise = babble(x, rows)
        scale = _rms(x[rows]) / _rms(noise) / 10 ** (snr_db[rows, None] / 20)
        out[rows] = x[rows] + noise * scale
    return out


def fft_size(n: int) -> int:
    """The smallest length >= n whose FFT is fast (no prime factor above 5). A room's length follows its
    drawn RT60, so the plain sum of lengths is often a large prime's multiple, and an FFT of that size
    took 8x as long (75 against 9.6 ms for 16 four-second clips, one thread)."""
    from scipy.fft import next_fast_len

    return next_fast_len(n, real=True)


def room_impulses(b: int, sample_rate: int, rt60_s: torch.Tensor, device,
                  drr_db: torch.Tensor | None = None) -> torch.Tensor:
    """(b, n) synthetic room responses: the direct sound, a 2 ms gap, then noise decaying by 60 dB at rt60.

    The direct sound is 1 against a tail of 0.3 times the noise (a direct-to-reverberant ratio of -13 to
    -20 dB over RT60 0.2-1.0 s: a talker several metres away), or, with `drr_db` (b,), scaled to that ratio."""
    n = int(float(rt60_s.max()) * sample_rate) + 1
    t = torch.arange(n, device=device) / sample_rate
    tail = torch.randn(b, n, device=device) * torch.exp(-6.9 * t[None, :] / rt60_s[:, None]) * 0.3
    tail[:, : int(0.002 * sample_rate)] = 0.0
    if drr_db is None:
        tail[:, 0] = 1.0
    else:
        tail[:, 0] = (tail.square().sum(dim=-1) * 10 ** (drr_db / 10)).sqrt()
    return tail / tail.square().sum(dim=-1, keepdim=True).sqrt()


# `reverb_room=bands`: the tail's RT60 in four bands as a share of the drawn RT60 (air and soft surfaces
# absorb high frequencies faster), each jittered by +-15 %; the band edges in Hz.
BAND_EDGES_HZ = (500.0, 2000.0, 4000.0)
BAND_RT60_SHARE = (1.0, 0.85, 0.7, 0.55)
EARLY_REFLECTIONS = 6
EARLY_S = (0.003, 0.040)
DRR_DB = (-3.0, 12.0)  # direct-to-reverberant ratio: a close microphone to one across the room


def band_rooms(b: int, sample_rate: int, rt60_s: torch.Tensor, device) -> torch.Tensor:
    """(b, n) room responses closer to measured ones than `room_impulses`: a faster decay at high
    frequencies, a few early reflections and a random direct-to-reverberant ratio. Unit energy."""
    n = int(float(rt60_s.max()) * sample_rate) + 1
    t = torch.arange(n, device=device) / sample_rate
    spectrum = torch.fft.rfft(torch.randn(b, n, device=device))
    freqs = torch.fft.rfftfreq(n, 1 / sample_rate).to(device)
    edges = (0.0, *BAND_EDGES_HZ, float("inf"))
    tail = torch.zeros(b, n, device=device)
    for (low, high), share in zip(zip(edges[:-1], edges[1:]), BAND_RT60_SHARE):
        band = torch.fft.irfft(spectrum * ((freqs >= low) & (freqs < high)), n)
        rt60 = rt60_s[:, None] * share * (1 + 0.3 * (torch.rand(b, 1, device=device) - 0.5))
        tail = tail + band * torch.exp(-6.9 * t[None, :] / rt60)
    tail[:, : int(EARLY_S[0] * sample_rate)] = 0.0
    rows = torch.arange(b, device=device)[:, None].expand(b, EARLY_REFLECTIONS)
    delays = (EARLY_S[0] + (EARLY_S[1] - EARLY_S[0]) * torch.rand(b, EARLY_REFLECTIONS, device=device))
    delays = (delays * sample_rate).long().clamp(max=n - 1)
    gains = (torch.rand(b, EARLY_REFLECTIONS, device=device) * 0.6 + 0.2) * torch.sign(torch.randn(b, EARLY_REFLECTIONS, device=device))
    tail = tail / tail.square().sum(dim=-1, keepdim=True).sqrt()
    tail = tail.index_put((rows, delays), gains * 0.3, accumulate=True)  # reflections, 0.06-0.24 of the tail's energy each
    drr = 10 ** ((DRR_DB[0] + (DRR_DB[1] - DRR_DB[0]) * torch.rand(b, device=device)) / 20)
    tail[:, 0] = drr * tail.square().sum(dim=-1).sqrt()
    return tail / tail.square().sum(dim=-1, keepdim=True).sqrt()


def reverberate(x: torch.Tensor, chosen: torch.Tensor, sample_rate: int, rt60_s: torch.Tensor,
                room: str = "simple", drr_db: torch.Tensor | None = None) -> torch.Tensor:
    """Convolve the chosen clips with a room of their own RT60 (FFT convolution), level kept. `room`:
    ``simple`` (`room_impulses`, with each clip's direct-to-reverberant ratio `drr_db` (B,) when given) or
    ``bands`` (`band_rooms`)."""
    rows = chosen.nonzero().flatten()
    if rows.numel() == 0:
        return x
    dry = x[rows]
    if room == "bands":
        rir = band_rooms(len(rows), sample_rate, rt60_s[rows], x.device)
    else:
        rir = room_impulses(len(rows), sample_rate, rt60_s[rows], x.device, None if drr_db is None else drr_db[rows])
    size = fft_size(dry.shape[-1] + rir.shape[-1] - 1)  # room enough for a linear convolution
    wet = torch.fft.irfft(torch.fft.rfft(dry, size) * torch.fft.rfft(rir, size), size)[:, : dry.shape[-1]]
    out = x.clone()
    out[rows] = wet * (_rms(dry) / _rms(wet))
    return out


def quantize(x: torch.Tensor, chosen: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """Round the chosen clips to `bits` (B,) bits, as a low-resolution recorder or codec would."""
    rows = chosen.nonzero().flatten()
    if rows.numel() == 0:
        return x
    levels = (2 ** (bits[rows] - 1))[:, None]
    out = x.clone()
    out[rows] = torch.clamp(torch.round(x[rows] * levels), -levels, levels - 1) / levels
    return out


def dropouts(x: torch.Tensor, chosen: torch.Tensor, sample_rate: int, loss: torch.Tensor, frame_s: float = 0.02,
             mean_burst: float = 2.0) -> torch.Tensor:
    """Write 20 ms frames of the chosen clips as zeros, about `loss` (B,) of them, in bursts of `mean_burst`
    frames on average (geometric lengths): what a dropped packet leaves in a recording. A burst starts at a
    frame with probability loss / mean_burst, so bursts that overlap lose a little less than `loss`."""
    b, n = x.shape
    frame = max(1, int(round(frame_s * sample_rate)))
    frames = -(-n // frame)
    starts = torch.rand(b, frames, device=x.device) < (loss / mean_burst)[:, None]
    lengths = torch.floor(torch.log(torch.rand(b, frames, device=x.device).clamp(min=1e-12))
                          / math.log(1 - 1 / mean_burst)) + 1  # geometric, mean `mean_burst`
    index = torch.arange(frames, device=x.device, dtype=x.dtype)
    ends = torch.where(starts, index + lengths.to(x.dtype), torch.zeros_like(lengths, dtype=x.dtype))
    lost = torch.cummax(ends, dim=-1).values > index  # inside a burst that started at or before the frame
    lost = lost & chosen[:, None]
    keep = (~lost).repeat_interleave(frame, dim=-1)[:, :n]
    return x * keep.to(x.dtype)


def overload(x: torch.Tensor, chosen: torch.Tensor, drive_db: torch.Tensor) -> torch.Tensor:
    """Push the chosen clips' peaks `drive_db` (B,) past full scale and clamp at +-1: a recorder's
    input gain set too high. The clipped clip stays loud, as a clipped recording does."""
    peak = x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-8)
    driven = torch.clamp(x / peak * 10 ** (drive_db[:, None] / 20), -1.0, 1.0)
    return torch.where(chosen[:, None], driven, x)


def compress(x: torch.Tensor, chosen: torch.Tensor, sample_rate: int, ratio: torch.Tensor,
             threshold_db: torch.Tensor) -> torch.Tensor:
    """Dynamic range compression of the chosen clips, as a phone's automatic gain control or a call's
    compressor: where the level (RMS over a sliding 10 ms) exceeds `threshold_db` (B,) below the clip's
    peak level, the excess is divided by `ratio` (B,); the peak is then restored (make-up gain)."""
    rows = chosen.nonzero().flatten()
    if rows.numel() == 0:
        return x
    clips = x[rows]
    width = max(1, int(0.01 * sample_rate))
    summed = torch.nn.functional.pad(clips.double().square().cumsum(dim=-1), (width, 0))  # running sums
    power = (summed[:, width:] - summed[:, :-width]) / width  # mean square over the last `width` samples
    level_db = (10 * torch.log10(power + 1e-12)).to(clips.dtype)
    over = (level_db - (level_db.amax(dim=-1, keepdim=True) - threshold_db[rows, None])).clamp(min=0)
    squeezed = clips * 10 ** (-over * (1 - 1 / ratio[rows, None]) / 20)
    peak = clips.abs().amax(dim=-1, keepdim=True) / squeezed.abs().amax(dim=-1, keepdim=True).clamp(min=1e-12)
    out = x.clone()
    out[rows] = squeezed * peak
    return out


def band_mask(chosen: torch.Tensor, n_freq: int, sample_rate: int, low_hz: torch.Tensor,
              high_hz: torch.Tensor, order: int = 4) -> torch.Tensor:
    """(B, n_freq) power gains of a band-pass (Butterworth-like skirts of `order`) for the chosen
    examples, 1 elsewhere: phones, calls and cheap microphones drop the lows and the highs."""
    freqs = torch.linspace(0, sample_rate / 2, n_freq, device=chosen.device)[None, :]
    high_pass = 1 / (1 + (low_hz[:, None] / freqs.clamp(min=1.0)) ** (2 * order))
    low_pass = 1 / (1 + (freqs / high_hz[:, None]) ** (2 * order))
    return torch.where(chosen[:, None], high_pass * low_pass, torch.ones_like(high_pass))


def bass_rolloff(chosen: torch.Tensor, n_freq: int, sample_rate: int, cutoff_hz: torch.Tensor,
                 order: torch.Tensor) -> torch.Tensor:
    """(B, n_freq) power gains of a high-pass for the chosen examples, 1 elsewhere: a Butterworth
    filter's power response, ``1 / (1 + (cutoff / f) ** (2 * order))``, with a cutoff and an order (any
    real > 0) per example. Small microphones pass little of the voice's fundamental, 80-300 Hz."""
    freqs = torch.linspace(0, sample_rate / 2, n_freq, device=chosen.device)[None, :]
    gains = 1 / (1 + (cutoff_hz[:, None] / freqs.clamp(min=1.0)) ** (2 * order[:, None]))
    return torch.where(chosen[:, None], gains, torch.ones_like(gains))


def telephone_mask(chosen: torch.Tensor, n_freq: int, sample_rate: int) -> torch.Tensor:
    """(B, n_freq) power gains of a narrow-band call for the chosen examples, 1 elsewhere: a band
    from 250-350 Hz to 3.2-3.6 kHz with 8th-order skirts (a 4th-order filter run forwards and
    back), and nothing above 4 kHz, the Nyquist frequency of 8 kHz sampling."""
    b, device = chosen.shape[0], chosen.device
    low = 250.0 + 100.0 * torch.rand(b, device=device)
    high = 3200.0 + 400.0 * torch.rand(b, device=device)
    mask = band_mask(chosen, n_freq, sample_rate, low, high, order=8)
    above = torch.linspace(0, sample_rate / 2, n_freq, device=device)[None, :] > 4000.0
    return torch.where(chosen[:, None] & above, torch.zeros_like(mask), mask)


def equalizer(chosen: torch.Tensor, n_freq: int, sample_rate: int, max_db: float) -> torch.Tensor:
    """(B, n_freq) power gains of a random equaliser for the chosen examples, 1 elsewhere.

    Microphones, rooms and whole corpora colour the spectrum: nEMO's mean spectrum lies 5-8 dB
    below RAVDESS's at 4-8 kHz, more than any emotion moves it. The curve is a tilt of up to
    `max_db` at 8 kHz against 1 kHz (linear in octaves) plus three smooth bumps on a
    log-frequency axis, each up to `max_db` / 3.
    """
    b, device = chosen.shape[0], chosen.device
    freqs = torch.linspace(0, sample_rate / 2, n_freq, device=device).clamp(min=50.0)
    octaves = torch.log2(freqs / 1000.0)[None, :]  # (1, n_freq), -4.3 .. +3
    slope = (2 * torch.rand(b, 1, device=device) - 1) * max_db / 3  # dB per octave
    position = (octaves - octaves.min()) / (octaves.max() - octaves.min())  # 0..1
    k = torch.arange(1, 4, device=device, dtype=freqs.dtype)[None, :, None]
    phase = 2 * torch.pi * torch.rand(b, 3, 1, device=device)
    bumps = ((2 * torch.rand(b, 3, 1, device=device) - 1) * max_db / 3
             * torch.cos(torch.pi * k * position[:, None, :] + phase)).sum(dim=1)
    gain_db = slope * octaves + bumps
    return torch.where(chosen[:, None], 10 ** (gain_db / 10), torch.ones_like(gain_db))
