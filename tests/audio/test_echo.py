"""A discrete echo found at its delay and cancelled, through a band too; voices, a room and a clip too short
for the delays are never touched."""

import numpy as np
import pytest

from specser.audio.degrade import echo, reverberate
from specser.audio.echo import find_echo, remove_echo
from tests.audio.test_hum import wandering_voice
from tests.audio.test_knocks import sentence

SR = 16000


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


@pytest.mark.parametrize("delay_s, below_db, band", [(0.15, 6.0, None), (0.3, 10.0, None), (0.25, 6.0, (300.0, 3400.0))])
def test_an_echo_is_found_at_its_delay_and_cancelled(delay_s, below_db, band):
    clean = sentence()
    echoing = echo(clean, SR, delay_s, below_db, band)
    found = find_echo(echoing, SR)
    assert found is not None and abs(found - delay_s * SR) <= (40 if band else 1)  # a band-pass delays a little
    cancelled = remove_echo(echoing, SR)
    assert cancelled.dtype == echoing.dtype and cancelled.shape == echoing.shape
    added, left = db(echoing - clean), db(cancelled - clean)
    assert left < added - 6  # the echo loses more than 6 dB (10-14 dB without a band, about 8 through one)


@pytest.mark.parametrize("make", [
    sentence,
    lambda: wandering_voice(seconds=3.0),
    lambda: reverberate(sentence(), SR, 0.6, np.random.default_rng(0)).astype(np.float32),  # a room: no one delay
    lambda: echo(wandering_voice(seconds=0.05), SR, 0.03, 6.0),  # too short for the delays searched
])
def test_audio_without_a_discrete_echo_is_returned_as_it_is(make):
    wave = make().astype(np.float32)
    assert find_echo(wave, SR) is None
    assert remove_echo(wave, SR) is wave


def test_a_long_recording_is_read_on_its_first_20_s_and_cancelled_to_its_end():
    rng = np.random.default_rng(0)
    t = np.arange(30 * SR) / SR
    clean = (0.1 * rng.standard_normal(t.size) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) ** 4).astype(np.float32)
    echoing = echo(clean, SR, 0.2, 6.0)
    assert find_echo(echoing, SR) == int(0.2 * SR)
    cancelled = remove_echo(echoing, SR)
    tail = slice(25 * SR, 30 * SR)  # past the 20 s read
    assert db(cancelled[tail] - clean[tail]) < db(echoing[tail] - clean[tail]) - 10
