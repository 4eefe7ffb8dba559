"""Steady whines: a tone under the voice found by its steadiness and notched out; a voice, noise and a
recording too short to tell are never touched."""

import numpy as np
import pytest

from specser.audio.degrade import mains_hum
from specser.audio.hum import hum_frequency, remove_hum
from specser.audio.whine import find_whines, remove_whines
from tests.audio.test_hum import wandering_voice
from tests.audio.test_knocks import sentence

SR = 16000


def tone(n: int, hz: float, amplitude: float, phase: float = 0.3) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(n) / SR + phase)).astype(np.float32)


def tone_left_db(repaired: np.ndarray, clean: np.ndarray, hz: float) -> float:
    """How much of the tone at `hz` is left in `repaired` over `clean`, in dB of the tone added."""
    t = np.arange(clean.size) / SR
    basis = np.stack([np.sin(2 * np.pi * hz * t), np.cos(2 * np.pi * hz * t)])
    return float(20 * np.log10(np.linalg.norm(basis @ (repaired - clean)) / np.linalg.norm(basis @ tone(clean.size, hz, 1.0))))


@pytest.mark.parametrize("hz, below_db", [(1234.56, 10.0), (387.3, 10.0), (3901.2, 25.0)])
def test_a_whine_under_a_voice_is_found_and_notched_out(hz, below_db):
    clean = sentence()
    rms = np.sqrt(np.mean(clean.astype(np.float64) ** 2))
    whining = clean + tone(clean.size, hz, np.sqrt(2) * rms * 10 ** (-below_db / 20))
    found = find_whines(whining, SR)
    assert len(found) == 1 and abs(found[0] - hz) < 0.2
    repaired = remove_whines(whining, SR)
    assert repaired.dtype == whining.dtype and repaired.shape == whining.shape
    assert tone_left_db(repaired, clean, hz) < -25  # the tone loses more than 25 dB
    # the voice away from the line is as it was: the rest of the difference is well under the voice
    away = np.fft.rfft(repaired - whining)
    freqs = np.fft.rfftfreq(clean.size, 1 / SR)
    assert np.sum(np.abs(away[np.abs(freqs - hz) > 50]) ** 2) < 1e-4 * np.sum(np.abs(np.fft.rfft(clean)) ** 2)


def test_two_whines_are_both_notched():
    clean = sentence(seed=2)
    whining = clean + tone(clean.size, 700.0, 0.05) + tone(clean.size, 2900.5, 0.01)
    assert sorted(round(f, 1) for f in find_whines(whining, SR)) == [700.0, 2900.5]
    repaired = remove_whines(whining, SR)
    assert tone_left_db(repaired, clean, 700.0) < -25 and tone_left_db(repaired, clean, 2900.5) < -25


@pytest.mark.parametrize("make", [
    sentence,
    lambda: wandering_voice(seconds=4.0),
    lambda: (0.05 * np.random.default_rng(2).standard_normal(4 * SR)).astype(np.float32),
    # a whine, but 1.9 s: fewer than three 1 s frames, too short to tell a tone from a held note
    lambda: tone(int(1.9 * SR), 1000.0, 0.1) + wandering_voice(seconds=1.9),
    # a whine that starts half-way: not in every frame, so not steady
    lambda: wandering_voice(seconds=4.0) + np.r_[np.zeros(2 * SR), tone(2 * SR, 1000.0, 0.05)].astype(np.float32),
])
def test_audio_without_a_steady_whine_is_returned_as_it_is(make):
    wave = make().astype(np.float32)
    assert find_whines(wave, SR) == []
    assert remove_whines(wave, SR) is wave


def test_the_mains_harmonics_of_a_humming_recording_are_left_to_the_hum_notch():
    clean = wandering_voice(seconds=4.0)
    humming = mains_hum(clean, SR, 50.0, 10.0, np.random.default_rng(7))
    assert hum_frequency(humming, SR) == 50.0
    after_hum = remove_hum(humming, SR)
    assert find_whines(after_hum, SR)  # without the hint, harmonics the hum notch left are lines here
    assert find_whines(after_hum, SR, mains_hz=50.0) == []
    assert remove_whines(after_hum, SR, mains_hz=50.0) is after_hum
    with_whine = after_hum + tone(clean.size, 1234.5, 0.05)  # a whine off the mains harmonics is still found
    assert [round(f, 1) for f in find_whines(with_whine, SR, mains_hz=50.0)] == [1234.5]
