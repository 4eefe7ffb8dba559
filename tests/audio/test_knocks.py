"""Knocks: a tap or a thud found where it is and turned down; speech without one is never touched."""

import numpy as np
import pytest

from specser.audio.degrade import knock_burst
from specser.audio.knocks import FRAME_S, find_knocks, remove_knocks
from tests.audio.test_hum import wandering_voice
from tests.synth import emotional_tone

SR = 16000
FRAME = int(FRAME_S * SR)


def sentence(seed: int = 0) -> np.ndarray:
    """Two stretches of voice with a 0.4 s pause between them, over a faint noise floor."""
    rng = np.random.default_rng(seed)
    voice = wandering_voice(seconds=1.2, seed=seed)
    pause = np.zeros(int(0.4 * SR), np.float32)
    wave = np.concatenate([voice, pause, wandering_voice(seconds=1.2, seed=seed + 1)])
    return (wave + 1e-3 * rng.standard_normal(wave.size)).astype(np.float32)


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def burst_at(wave: np.ndarray, start: int, above_peak_db: float, decay_s: float = 0.005,
             low_pass_hz: float | None = None) -> np.ndarray:
    """`wave` with `degrade.knock`'s burst at `start` (the condition draws its own place)."""
    burst = knock_burst(SR, np.random.default_rng(0), decay_s, low_pass_hz)
    burst = burst[: wave.size - start] * np.max(np.abs(wave)) * 10 ** (above_peak_db / 20)
    out = wave.astype(np.float64)
    out[start:start + burst.size] += burst
    return out.astype(np.float32)


@pytest.mark.parametrize("decay_s, low_pass_hz", [(0.005, None), (0.015, 300.0)])
def test_a_knock_in_a_pause_is_found_where_it_is_and_turned_down(decay_s, low_pass_hz):
    clean = sentence()
    start = int(1.4 * SR)  # in the pause
    knocked = burst_at(clean, start, 12.0, decay_s, low_pass_hz)
    found = find_knocks(knocked, SR)
    assert len(found) == 1
    first, stop, _ = found[0]
    assert first <= start < first + 2 * FRAME and stop > start + int(0.01 * SR)
    cleaned = remove_knocks(knocked, SR)
    assert cleaned.dtype == knocked.dtype and cleaned.shape == knocked.shape
    stretch = slice(start, start + int(0.02 * SR))
    assert db(cleaned[stretch]) < db(knocked[stretch]) - 30  # the knock loses more than 30 dB
    assert db(cleaned[stretch]) < db(clean[int(0.3 * SR):int(1.1 * SR)]) - 10  # ... and is far below the voice
    away = np.r_[0:first - FRAME, stop + FRAME:clean.size]
    np.testing.assert_array_equal(cleaned[away], knocked[away])  # the rest is as it was


def test_a_knock_over_the_voice_is_turned_down_to_the_voice():
    clean = sentence()
    start = int(0.6 * SR)  # in the first stretch of voice (whose peak is only about 12 dB above its level)
    knocked = burst_at(clean, start, 20.0)
    assert len(find_knocks(knocked, SR)) == 1
    cleaned = remove_knocks(knocked, SR)
    stretch = slice(start, start + int(0.01 * SR))
    assert abs(db(cleaned[stretch]) - db(clean[stretch])) < 6  # back to about the voice's level
    assert db(knocked[stretch]) - db(clean[stretch]) > 15


@pytest.mark.parametrize("below_peak_db", [0.0, 3.0])
def test_keystrokes_in_a_pause_are_found_though_no_louder_than_the_voice(below_peak_db):
    clean = sentence()
    starts = [int(t * SR) for t in (1.25, 1.35, 1.45)]  # three keystrokes in the pause
    typed = clean
    for start in starts:
        typed = burst_at(typed, start, -below_peak_db, decay_s=0.002)
    found = find_knocks(typed, SR)
    assert [first <= start < first + 2 * FRAME for (first, _, _), start in zip(found, starts)] == [True] * 3
    cleaned = remove_knocks(typed, SR)
    for start in starts:
        stretch = slice(start, start + int(0.01 * SR))
        assert db(cleaned[stretch]) < db(typed[stretch]) - 20


def test_a_lone_click_in_a_pause_one_that_runs_into_the_voice_or_a_faint_one_is_left_alone():
    clean = sentence()
    lone = burst_at(clean, int(1.4 * SR), 0.0, decay_s=0.002)  # a mouth click: one, not a stream
    onset = int(1.6 * SR)  # where the second stretch of voice begins: a plosive's burst would sit here
    into_voice = clean
    for start in (onset - int(0.01 * SR), int(0.3 * SR), int(0.9 * SR)):
        into_voice = burst_at(into_voice, start, 0.0, decay_s=0.002)
    faint = clean
    for t in (1.25, 1.35, 1.45):  # in the pause, but far under the voice
        faint = burst_at(faint, int(t * SR), -25.0, decay_s=0.002)
    for wave in (lone, into_voice, faint):
        assert find_knocks(wave, SR) == [] and remove_knocks(wave, SR) is wave


@pytest.mark.parametrize("make", [
    sentence,
    lambda: wandering_voice(seconds=3.0),
    lambda: emotional_tone("05", 2, np.random.default_rng(1), seconds=3.0),
    # a voice that starts at once after silence: a sudden rise, but it lasts
    lambda: np.concatenate([np.zeros(SR // 2, np.float32), wandering_voice(seconds=1.0)]),
    # a short loud syllable (60 ms) between quiet ones: it lasts past the 40 ms a knock has died away by
    lambda: np.concatenate([0.1 * wandering_voice(0.5), wandering_voice(0.06, seed=3), 0.1 * wandering_voice(0.5)]),
    lambda: (0.1 * np.random.default_rng(2).standard_normal(3 * SR)).astype(np.float32),
])
def test_audio_without_a_knock_is_returned_as_it_is(make):
    wave = make().astype(np.float32)
    assert find_knocks(wave, SR) == []
    assert remove_knocks(wave, SR) is wave


def test_a_clip_shorter_than_the_windows_is_left_alone():
    short = burst_at(np.full(int(0.05 * SR), 1e-3, np.float32), 200, 12.0)[: int(0.05 * SR)]
    assert find_knocks(short, SR) == [] and remove_knocks(short, SR) is short
