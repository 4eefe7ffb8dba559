"""Sounds without a voice, made up: what a microphone hears when nobody speaks into it.

The speech check must refuse them (`specser.audio.checks`); the benchmark (`benchmarks/speech_check.py
--voicing`) and the tests draw them from here. Each is noise or impulses shaped as the real sound is:
bursts with a syllable's length (so the energy check passes them), claps and knocks, typing, rain,
crumpled paper, a door, wind and traffic. Sounds with a pitch (music, a buzz) are left out on purpose:
the voice check is not built to refuse them.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from specser.audio.degrade import knock_burst, pink_noise


def _syllable_envelope(n: int, sample_rate: int, rng: np.random.Generator,
                       per_s: tuple[float, float] = (2.0, 8.0)) -> np.ndarray:
    """Hann-shaped bursts of 80-350 ms, each 0.3-1.0 high, a random `per_s` rate apart: a syllable's rhythm."""
    envelope, at = np.zeros(n), rng.uniform(0.0, 0.3)
    while at * sample_rate < n:
        length = rng.uniform(0.08, 0.35)
        burst = np.hanning(int(length * sample_rate)) * rng.uniform(0.3, 1.0)
        start = int(at * sample_rate)
        envelope[start:start + burst.size] = burst[: n - start]
        at += length + rng.exponential(1 / rng.uniform(*per_s))
    return envelope


def _band(noise: np.ndarray, sample_rate: int, low_hz: float = 0.0, high_hz: float | None = None,
          order: int = 4) -> np.ndarray:
    """`noise` through Butterworth-shaped magnitude responses (zero phase): a high-pass at `low_hz` and a
    low-pass at `high_hz`, each of `order`."""
    freqs = np.fft.rfftfreq(noise.size, 1 / sample_rate)
    gain = np.ones_like(freqs)
    if high_hz:
        gain /= np.sqrt(1 + (freqs / high_hz) ** (2 * order))
    if low_hz:
        gain /= np.sqrt(1 + (low_hz / np.maximum(freqs, 1e-3)) ** (2 * order))
    return np.fft.irfft(np.fft.rfft(noise) * gain, noise.size)


def _impulses(n: int, sample_rate: int, rng: np.random.Generator, per_s: float, decay_s: tuple[float, float],
              low_pass_hz: float | None = None) -> np.ndarray:
    """Knock-like bursts (`knock_burst`) of a random `decay_s` and height, a Poisson process `per_s` a second."""
    out, at = np.zeros(n), rng.uniform(0.0, 0.2)
    while at * sample_rate < n:
        burst = knock_burst(sample_rate, rng, rng.uniform(*decay_s), low_pass_hz) * rng.uniform(0.2, 1.0)
        start = int(at * sample_rate)
        out[start:start + burst.size] += burst[: n - start]
        at += rng.exponential(1 / per_s)
    return out


Sound = Callable[[int, int, np.random.Generator], np.ndarray]

SOUNDS: dict[str, Sound] = {
    "white noise bursts": lambda n, sr, rng: rng.standard_normal(n) * _syllable_envelope(n, sr, rng),
    "pink noise bursts": lambda n, sr, rng: pink_noise(n, rng) * _syllable_envelope(n, sr, rng),
    "wind gusts": lambda n, sr, rng: (_band(rng.standard_normal(n), sr, high_hz=rng.uniform(80.0, 400.0))
                                      * _syllable_envelope(n, sr, rng, (0.5, 2.0))),
    "breathing": lambda n, sr, rng: (_band(rng.standard_normal(n), sr, 400.0, 3500.0, order=8)
                                     * _syllable_envelope(n, sr, rng, (0.5, 2.0))),
    "hand claps": lambda n, sr, rng: _impulses(n, sr, rng, rng.uniform(1.0, 4.0), (0.004, 0.012)),
    "typing": lambda n, sr, rng: _impulses(n, sr, rng, 6.0, (0.001, 0.003)),
    "knocks on a door": lambda n, sr, rng: _impulses(n, sr, rng, rng.uniform(1.0, 3.0), (0.01, 0.03), 300.0),
    "rain": lambda n, sr, rng: _impulses(n, sr, rng, 200.0, (0.0005, 0.002)) + 0.05 * rng.standard_normal(n),
    "crumpled paper": lambda n, sr, rng: (_impulses(n, sr, rng, 60.0, (0.0005, 0.004))
                                          * _syllable_envelope(n, sr, rng, (1.0, 3.0))),
    "a door slammed": lambda n, sr, rng: np.pad(knock_burst(sr, rng, 0.08, 150.0), (sr // 2, n))[:n],
    "traffic": lambda n, sr, rng: ((_band(rng.standard_normal(n), sr, high_hz=200.0) + 0.2 * pink_noise(n, rng))
                                   * (0.3 + np.abs(np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * np.arange(n) / sr)))),
}


def sound(kind: str, seconds: float, sample_rate: int, rng: np.random.Generator,
          peak_dbfs: float | None = None) -> np.ndarray:
    """`seconds` of one of `SOUNDS` as float32, its peak at `peak_dbfs` (default: drawn from -30 to -6 dBFS)."""
    n = int(seconds * sample_rate)
    wave = SOUNDS[kind](n, sample_rate, rng)
    peak = 10 ** ((rng.uniform(-30.0, -6.0) if peak_dbfs is None else peak_dbfs) / 20)
    return (wave / (np.max(np.abs(wave)) + 1e-12) * peak).astype(np.float32)
