"""Rumble's bands put back on the floor of a `robust` log-Mel; clean speech, and other front-ends, untouched."""

import dataclasses

import numpy as np
import pytest
import torch

from specser.audio.degrade import CONDITIONS, rumble
from specser.config import load_config
from specser.features.bass_noise import MAX_BANDS, applies_to, floor_noisy_bass, noisy_bass_bands
from specser.features.logmel import LogMel
from tests.audio.test_knocks import sentence

SR = 16000
ROBUST = load_config(preset="robust").features


def logmel(wave: np.ndarray) -> torch.Tensor:
    return LogMel(ROBUST)(torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)))


@pytest.mark.parametrize("snr_db", [10.0, 0.0])
def test_rumble_fills_the_lowest_bands_and_they_go_back_to_the_floor(snr_db):
    clean = sentence()
    x = logmel(rumble(clean, SR, snr_db, np.random.default_rng(0)))
    bands = noisy_bass_bands(x)
    assert 3 <= bands <= MAX_BANDS
    out = floor_noisy_bass(x)
    assert torch.equal(out[:bands], torch.full_like(out[:bands], float(x.min())))
    assert torch.equal(out[bands:], x[bands:])  # the voice's bands as they were
    assert not torch.equal(x[:bands], out[:bands])  # ... and the input itself is left alone
    np.testing.assert_array_equal(floor_noisy_bass(x.numpy()), out.numpy())  # the numpy backend's log-Mels too


@pytest.mark.parametrize("condition", ["clean", "white 10 dB SNR", "telephone band",
                                       "high-pass 200 Hz (small built-in microphone)"])
def test_speech_without_rumble_is_returned_as_it_is(condition):
    wave = CONDITIONS[condition](sentence(), SR, np.random.default_rng(1), None).astype(np.float32)
    x = logmel(wave)
    assert noisy_bass_bands(x) == 0 and floor_noisy_bass(x) is x


def test_only_front_ends_with_a_floor_of_40_db_or_less():
    assert applies_to(ROBUST)
    assert not applies_to(dataclasses.replace(ROBUST, top_db=80.0))
    assert not applies_to(dataclasses.replace(ROBUST, top_db=None))
    assert not applies_to(load_config(preset="paper").features)  # 80 dB
    assert not applies_to(dataclasses.replace(ROBUST, compression="pcen"))
    assert not applies_to(dataclasses.replace(ROBUST, mode="encoder"))
