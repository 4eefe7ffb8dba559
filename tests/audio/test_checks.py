"""The speech check: absolute thresholds, never relative to the clip's own peak."""

import numpy as np
import pytest

from specser.audio.checks import speech_problem, speech_seconds, trim_silence
from tests.synth import emotional_tone

SR = 16000
RNG = np.random.default_rng(0)


def _speechlike(seconds=1.5):
    return emotional_tone("05", 2, np.random.default_rng(1), seconds=seconds)


def test_voiced_audio_passes_at_any_sensible_level():
    wave = _speechlike()
    assert speech_problem(wave, SR) is None and speech_seconds(wave, SR) > 0.8
    assert speech_problem(wave * 0.1, SR) is None  # 20 dB quieter
    assert speech_problem(np.clip(wave * 10, -1, 1), SR) is None  # 20 dB louder, clipped
    assert speech_problem(wave + RNG.standard_normal(wave.size).astype(np.float32) * 1e-3, SR) is None  # -60 dBFS floor
    assert speech_problem(wave * 0.1 + 0.05, SR) is None  # a DC offset above the speech itself


@pytest.mark.parametrize("name, wave, kind", [
    ("steady white noise, loud", RNG.standard_normal(SR) * 0.1, "no_speech"),
    ("a -60 dBFS noise floor alone", RNG.standard_normal(SR) * 1e-3, "no_speech"),
    ("near-silence peaking at -78 dBFS", RNG.uniform(-1, 1, SR) * 10 ** (-78 / 20), "no_speech"),
    ("mains hum", 0.3 * np.sin(2 * np.pi * 50 * np.arange(SR) / SR), "no_speech"),
    ("digital silence with one click", np.r_[np.zeros(SR // 2), np.full(10, 0.5), np.zeros(SR // 2)], "no_speech"),
    ("10 ms", RNG.standard_normal(160) * 0.1, "too_short"),
    ("one sample", np.array([0.5]), "too_short"),
])
def test_nothing_to_classify_is_named(name, wave, kind):
    problem = speech_problem(wave.astype(np.float32), SR)
    assert problem is not None and problem[0] == kind, name


def test_thresholds_are_configurable():
    assert speech_problem(RNG.standard_normal(800).astype(np.float32), SR, min_duration_s=0.01)[0] == "no_speech"
    assert speech_problem(_speechlike(0.3), SR, min_duration_s=0.5)[0] == "too_short"


def test_long_silence_around_the_speech_is_shortened_and_short_silence_kept():
    rng = np.random.default_rng(2)
    speech = _speechlike(1.0)  # 0.15 s of floor, voice, 0.1 s of floor
    room = lambda seconds: (rng.standard_normal(int(seconds * SR)) * 1e-3).astype(np.float32)  # noqa: E731
    wave = np.concatenate([room(3.0), speech, room(2.0)])
    trimmed = trim_silence(wave, SR, keep_s=0.5)
    assert 1.0 + 2 * 0.5 - 0.4 < trimmed.size / SR < 1.0 + 2 * 0.5 + 0.1  # the voice and about 0.5 s either side
    start = int(np.flatnonzero(np.all(np.lib.stride_tricks.sliding_window_view(wave, trimmed.size) == trimmed, axis=1))[0])
    assert 3.0 + 0.15 - 0.5 - 0.1 < start / SR < 3.0 + 0.15 - 0.5 + 0.1  # cut 0.5 s before the voice starts
    assert trim_silence(speech, SR, keep_s=0.5) is speech  # less than 0.5 s of silence either side: as it is
    noise = room(2.0)
    assert trim_silence(noise, SR, keep_s=0.5) is noise  # no speech: nothing to trim to


def test_only_silence_longer_than_over_s_is_shortened():
    rng = np.random.default_rng(3)
    room = lambda seconds: (rng.standard_normal(int(seconds * SR)) * 1e-3).astype(np.float32)  # noqa: E731
    speech = _speechlike(1.0)
    opening = np.concatenate([room(1.5), speech])  # a corpus-like opening: left exactly as it is
    assert trim_silence(opening, SR, keep_s=1.0, over_s=2.0) is opening
    waiting = np.concatenate([room(3.0), speech, room(1.5)])  # a wait before, a short pause after
    trimmed = trim_silence(waiting, SR, keep_s=1.0, over_s=2.0)
    assert waiting.size - trimmed.size == pytest.approx((3.0 + 0.15 - 1.0) * SR, abs=0.05 * SR)  # only the wait
