"""Mains hum: found and notched out; a recording without it is never touched."""

import numpy as np
import pytest

from specser.audio.degrade import mains_hum
from specser.audio.hum import hum_frequency, remove_hum
from tests.synth import emotional_tone

SR = 16000


def wandering_voice(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """A vowel whose pitch wanders as a speaker's does (a random walk around 150 Hz, 20 Hz either way), 12
    harmonics falling 6 dB an octave, a syllable rhythm; peak 0.5."""
    rng = np.random.default_rng(seed)
    n = int(SR * seconds)
    walk = np.cumsum(rng.standard_normal(n // 400 + 2))
    walk = (walk - walk.mean()) / (walk.std() + 1e-9)
    pitch = 150 + 20 * np.interp(np.arange(n), np.arange(walk.size) * 400, walk)
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    t = np.arange(n) / SR
    wave = sum(np.sin(k * phase + rng.uniform(0, 6.28)) / k for k in range(1, 13)) * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))
    return (0.5 * wave / np.max(np.abs(wave))).astype(np.float32)


def _band_power(wave: np.ndarray, hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(wave.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(wave.size, 1 / SR)
    return float(spectrum[np.abs(freqs - hz) <= 1.0].sum())


@pytest.mark.parametrize("hz", [50.0, 60.0])
def test_hum_is_found_and_notched_out(hz):
    speech = wandering_voice(seconds=3.0)
    humming = mains_hum(speech, SR, hz, 20.0, np.random.default_rng(0))
    assert hum_frequency(humming, SR) == hz
    cleaned = remove_hum(humming, SR)
    assert cleaned.dtype == humming.dtype and cleaned.shape == humming.shape
    assert _band_power(cleaned, hz) < 0.01 * _band_power(humming, hz)  # the fundamental loses more than 20 dB
    above = lambda x: float(np.sum(np.abs(np.fft.rfft(x.astype(np.float64))[int(3 * 200):]) ** 2))  # noqa: E731
    assert above(cleaned) == pytest.approx(above(humming), rel=0.12)  # the voice above 200 Hz stays (within 0.5 dB)


@pytest.mark.parametrize("make", [lambda: wandering_voice(seconds=3.0),
                                  lambda: emotional_tone("05", 2, np.random.default_rng(1), seconds=3.0),
                                  lambda: (0.1 * np.random.default_rng(2).standard_normal(3 * SR)).astype(np.float32)])
def test_audio_without_hum_is_returned_as_it_is(make):
    wave = make()
    assert hum_frequency(wave, SR) is None
    assert remove_hum(wave, SR) is wave


def test_a_clip_too_short_to_tell_is_left_alone():
    short = mains_hum(wandering_voice(seconds=0.4), SR, 50.0, 0.0, np.random.default_rng(0))
    assert hum_frequency(short, SR) is None and remove_hum(short, SR) is short
