"""Is anyone speaking? Voiced frames: what claps, knocks, noise and wind lack and speech always has.

The energy check (`specser.audio.checks`) passes anything that swings above its own floor, so hand
claps, typing, rain or bursts of noise got labels ("sad 0.96" for noise bursts). Every language voices
its vowels: the vocal folds make the sound periodic at the pitch, 60-500 Hz, in every harmonic. A frame
is voiced when its normalised autocorrelation peaks at `PERIODICITY` or more at a lag within that range,
counted only past the zero-lag lobe (low-passed noise stays correlated for a while after lag 0 and is
not periodic), when the frame above `HIGH_HZ` is periodic at the same lag too (`HIGH_PERIODICITY`: wind,
nearly a narrow band under 400 Hz, rolls like a pitch now and then, but not in harmonics above it), and
only in runs of `MIN_RUN` frames or more (a vowel lasts; noise is periodic by chance for one frame).
Settings chosen on development clips and synthetic sounds, checked on others under a rule written
before (docs/results.md, "Sounds without a voice"). Whispered speech has no voicing and is refused too;
a sound with a pitch (music, a buzz, a whistle) is not what this refuses.
"""

from __future__ import annotations

import numpy as np

FRAME_S, HOP_S = 0.040, 0.010  # 40 ms holds two periods of a 60 Hz voice; the hop is the energy check's
PITCH_HZ = (60.0, 500.0)
PERIODICITY = 0.5
HIGH_HZ, HIGH_PERIODICITY = 400.0, 0.3
MIN_RUN = 3
_CHUNK = 500  # frames analysed at a time (5 s): memory stays small, and speech is found in the first


def _normalised_acf(frames: np.ndarray, lags: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, samples) frames -> their autocorrelation at lags 0..max(lags), and at `lags` normalised by the
    energy of the two overlapping parts, as in YIN, so a frame that fades in or out still reads as periodic."""
    n = frames.shape[1]
    acf = np.fft.irfft(np.abs(np.fft.rfft(frames, size)) ** 2, size)[:, :lags[-1] + 1]
    energy = np.concatenate([np.zeros((frames.shape[0], 1)), np.cumsum(np.square(frames), axis=1)], axis=1)
    head = energy[:, n - lags]  # the first n - lag samples
    tail = energy[:, -1:] - energy[:, lags]  # the last n - lag samples
    return acf, acf[:, lags] / np.sqrt(head * tail + 1e-20)


def frame_voicing(frames: np.ndarray, high: np.ndarray, sample_rate: int) -> np.ndarray:
    """(n, samples) frames and the same frames above `HIGH_HZ` -> (n,) which are voiced: periodic at a pitch
    lag past the zero-lag lobe (`PERIODICITY`), and the high band periodic at that lag (within a sample)."""
    frames = frames - frames.mean(axis=1, keepdims=True)
    n = frames.shape[1]
    lags = np.arange(int(sample_rate / PITCH_HZ[1]), min(int(sample_rate / PITCH_HZ[0]), n - 1) + 1)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    acf, nacf = _normalised_acf(frames, lags, size)
    below = acf < 0
    lobe_end = np.where(below.any(axis=1), below.argmax(axis=1), lags[-1] + 1)
    nacf = np.where(lags[None, :] >= lobe_end[:, None], nacf, 0.0)
    best = nacf.argmax(axis=1)
    rows = np.arange(best.size)
    _, high_nacf = _normalised_acf(high - high.mean(axis=1, keepdims=True), lags, size)
    near = np.stack([high_nacf[rows, np.clip(best + step, 0, lags.size - 1)] for step in (-1, 0, 1)]).max(axis=0)
    return (nacf[rows, best] >= PERIODICITY) & (near >= HIGH_PERIODICITY)


def high_passed(wave: np.ndarray, sample_rate: int, hz: float = HIGH_HZ, order: int = 4) -> np.ndarray:
    """`wave` through a Butterworth high-pass's magnitude response at `hz`, zero phase (one FFT)."""
    freqs = np.fft.rfftfreq(wave.size, 1 / sample_rate)
    gain = 1 / np.sqrt(1 + (hz / np.maximum(freqs, 1e-3)) ** (2 * order))
    return np.fft.irfft(np.fft.rfft(wave) * gain, wave.size)


def _in_runs(mask: np.ndarray, length: int) -> np.ndarray:
    """`mask` keeping only the runs of True at least `length` long."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = np.zeros_like(mask)
    for start, stop in zip(starts, stops):
        if stop - start >= length:
            out[start:stop] = True
    return out


def voiced_seconds(wave: np.ndarray, sample_rate: int, active: np.ndarray, enough_s: float | None = None) -> float:
    """Seconds of voiced frames among the `active` ones (the energy check's mask of frames every `HOP_S`,
    by start time). With `enough_s`, stops once that much is found: a long recording's speech is found in
    its first seconds, and only a recording without a voice is read to its end."""
    wave = wave.astype(np.float64)
    frame, hop = int(FRAME_S * sample_rate), int(HOP_S * sample_rate)
    if wave.size < frame:
        wave = np.pad(wave, (0, frame - wave.size))
    starts = np.arange(0, wave.size - frame + 1, hop)[: active.size]
    voiced = np.zeros(starts.size, dtype=bool)
    for first in range(0, starts.size, _CHUNK):
        chunk = starts[first:first + _CHUNK]
        todo = chunk[active[first:first + chunk.size]]  # only the frames the energy check passed
        if todo.size:
            span = wave[chunk[0]:chunk[-1] + frame]
            within = todo[:, None] - chunk[0] + np.arange(frame)
            voiced[todo // hop] = frame_voicing(span[within], high_passed(span, sample_rate)[within], sample_rate)
        seconds = float(_in_runs(voiced[: first + chunk.size], MIN_RUN).sum() * HOP_S)
        if enough_s is not None and seconds >= enough_s:
            return seconds
    return float(_in_runs(voiced, MIN_RUN).sum() * HOP_S)
