"""Is anyone speaking? Voiced frames: what claps, knocks, noise and wind lack and speech always has.

The energy check (`specser.audio.checks`) passes anything that swings above its own floor, so hand
claps, typing, rain or bursts of noise got labels ("sad 0.96" for noise bursts). Every language voices
its vowels: the vocal folds make the sound periodic at the pitch, 60-500 Hz, in every harmonic. A frame
is voiced when its normalised autocorrelation peaks at `PERIODICITY` or more at a lag within that range,
counted only past the zero-lag lobe (low-passed noise stays correlated for a while after lag 0 and is
not periodic), when the frame above `HIGH_HZ` is periodic at the same lag too (`HIGH_PERIODICITY`: wind,
nearly a narrow band under 400 Hz, rolls like a pitch now and then, but not in harmonics above it), and
only in runs of `MIN_RUN` frames or more (a vowel lasts; noise is periodic by chance for one frame).
Frames are read every 20 ms, not every 10 ms as the energy check's: half the work, much the same answers.
Settings chosen on development clips and synthetic sounds, checked on others under a rule written
before (docs/results.md, "Sounds without a voice"). Whispered speech has no voicing and is refused too;
a sound with a pitch (music, a buzz, a whistle) is not what this refuses.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

FRAME_S = 0.040  # holds two periods of a 60 Hz voice
STEP = 2  # a frame at every other step of the energy check's mask (every 20 ms): half the work
PITCH_HZ = (60.0, 500.0)
PERIODICITY = 0.5
HIGH_HZ, HIGH_PERIODICITY = 400.0, 0.3
MIN_RUN = 2  # frames: 60 ms of voice
_CHUNK, _BLOCK = 250, 50  # frames high-passed together (5 s) and read together (1 s) before asking if enough


def _pitch_lags(sample_rate: int, n: int) -> np.ndarray:
    return np.arange(int(sample_rate / PITCH_HZ[1]), min(int(sample_rate / PITCH_HZ[0]), n - 1) + 1)


def _overlap_energy(frames: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """sqrt(energy of the first n - lag samples x energy of the last n - lag), per frame and lag (`lags`: one
    row for every frame, or one row per frame): the YIN normalisation, so that a frame fading in or out still
    reads as periodic."""
    n = frames.shape[1]
    energy = np.concatenate([np.zeros((frames.shape[0], 1)), np.cumsum(np.square(frames), axis=1)], axis=1)
    if lags.ndim == 1:
        return np.sqrt(energy[:, n - lags] * (energy[:, -1:] - energy[:, lags]) + 1e-20)
    rows = np.arange(frames.shape[0])[:, None]
    return np.sqrt(energy[rows, n - lags] * (energy[:, -1:] - energy[rows, lags]) + 1e-20)


def _autocorrelation(frames: np.ndarray, max_lag: int) -> np.ndarray:
    """(n, samples) -> (n, max_lag + 1), through an FFT long enough that no lag wraps around."""
    size = 1 << int(np.ceil(np.log2(frames.shape[1] + max_lag + 1)))
    return np.fft.irfft(np.abs(np.fft.rfft(frames, size)) ** 2, size)[:, :max_lag + 1]


def pitch_periodicity(frames: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, samples) frames -> (their highest normalised autocorrelation at a pitch lag past the zero-lag
    lobe, that lag in samples); 0 for a silent frame."""
    frames = frames - frames.mean(axis=1, keepdims=True)
    n = frames.shape[1]
    lags = _pitch_lags(sample_rate, n)
    acf = _autocorrelation(frames, lags[-1])
    nacf = acf[:, lags] / _overlap_energy(frames, lags)
    below = acf < 0
    lobe_end = np.where(below.any(axis=1), below.argmax(axis=1), lags[-1] + 1)
    nacf = np.where(lags[None, :] >= lobe_end[:, None], nacf, 0.0)
    best = nacf.argmax(axis=1)
    return nacf[np.arange(best.size), best], lags[best]


def periodicity_at(frames: np.ndarray, lag: np.ndarray, sample_rate: int) -> np.ndarray:
    """(n, samples) frames -> (n,) the highest normalised autocorrelation within one sample of each frame's
    `lag`."""
    frames = frames - frames.mean(axis=1, keepdims=True)
    last = _pitch_lags(sample_rate, frames.shape[1])[-1]
    lags = np.clip(lag[:, None] + np.array([-1, 0, 1]), 1, last)
    acf = np.take_along_axis(_autocorrelation(frames, last), lags, axis=1)
    return (acf / _overlap_energy(frames, lags)).max(axis=1)


def frame_voicing(frames: np.ndarray, high_frames: Callable[[np.ndarray], np.ndarray], sample_rate: int) -> np.ndarray:
    """(n, samples) frames -> (n,) which are voiced: periodic at a pitch lag past the zero-lag lobe
    (`PERIODICITY`), and above `HIGH_HZ` periodic at that lag too (within a sample). `high_frames(mask)`
    gives the masked frames high-passed; it is asked only for the frames periodic in the full band, and
    not at all when none is (high-passing costs an FFT of the whole stretch)."""
    periodicity, lag = pitch_periodicity(frames, sample_rate)
    voiced = periodicity >= PERIODICITY
    if voiced.any():
        voiced[voiced] = periodicity_at(high_frames(voiced), lag[voiced], sample_rate) >= HIGH_PERIODICITY
    return voiced


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


def voiced_seconds(wave: np.ndarray, sample_rate: int, active: np.ndarray, mask_hop_s: float,
                   enough_s: float | None = None) -> float:
    """Seconds of voice among the `active` frames (the energy check's mask of frames every `mask_hop_s`, by
    start time), read at every `STEP`-th. With `enough_s`, stops once that much is found: a recording's speech is
    found in its first second or so, and only a recording without a voice is read to its end."""
    wave = wave.astype(np.float64)
    frame, hop = int(FRAME_S * sample_rate), int(STEP * mask_hop_s * sample_rate)
    if wave.size < frame:
        wave = np.pad(wave, (0, frame - wave.size))
    starts = np.arange(0, wave.size - frame + 1, hop)[: (active.size + STEP - 1) // STEP]
    active = active[::STEP][: starts.size]
    voiced = np.zeros(starts.size, dtype=bool)

    def seconds(upto: int) -> float:
        return float(_in_runs(voiced[:upto], MIN_RUN).sum() * STEP * mask_hop_s)

    for first in range(0, starts.size, _CHUNK):
        chunk = starts[first:first + _CHUNK]
        span, high = wave[chunk[0]:chunk[-1] + frame], None
        for block in range(first, first + chunk.size, _BLOCK):
            todo = block + np.flatnonzero(active[block:min(block + _BLOCK, first + chunk.size)])
            if todo.size:  # only the frames the energy check passed
                within = (starts[todo] - chunk[0])[:, None] + np.arange(frame)

                def high_frames(mask: np.ndarray) -> np.ndarray:
                    nonlocal high
                    high = high_passed(span, sample_rate) if high is None else high
                    return high[within[mask]]

                voiced[todo] = frame_voicing(span[within], high_frames, sample_rate)
            if enough_s is not None and (found := seconds(block + _BLOCK)) >= enough_s:
                return found
    return seconds(starts.size)
