"""Quality warnings: clipping, a telephone's narrow band, separate parties and quiet 8-bit audio are named;
clean and quiet speech are not."""

import numpy as np
import pytest

from specser.audio.degrade import gain, telephone
from specser.audio.quality import (NARROW_BAND_DB, QualityWarning, clipped_share, few_bits_warning, grid_bits,
                                    high_band_db, parties_warning, quality_warnings, separate_parties, speech_bits)


def speech_like(seconds: float = 2.0, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """A voiced sweep with harmonics up to 8 kHz and a breathy noise part, peaking at -6 dBFS."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 40) if k * 220 < sr / 2)
    wave = voiced * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.standard_normal(t.size)
    return (0.5 * wave / np.max(np.abs(wave))).astype(np.float32)


def kinds(wave: np.ndarray, sr: int = 16000) -> list[str]:
    return [w.kind for w in quality_warnings(wave, sr)]


def test_clean_quiet_and_loud_unclipped_speech_get_no_warning():
    wave = speech_like()
    assert kinds(wave) == [] and high_band_db(wave, 16000) > NARROW_BAND_DB + 20
    assert kinds(gain(wave, -30.0)) == []
    assert kinds(wave / np.max(np.abs(wave))) == []  # peak-normalised to full scale: a few samples touch it


def test_clipping_is_named_with_its_share():
    clipped = gain(speech_like(), 20.0)
    warnings = quality_warnings(clipped, 16000)
    assert [w.kind for w in warnings] == ["clipped"]
    assert f"{100 * clipped_share(clipped):.1f} %" in warnings[0].message and clipped_share(clipped) > 0.1


def test_telephone_band_and_8khz_audio_are_narrow_band():
    import soxr

    wave = speech_like()
    assert kinds(telephone(wave, 16000).astype(np.float32)) == ["narrow_band"]
    eight_k = soxr.resample(soxr.resample(wave, 16000, 8000), 8000, 16000)
    assert kinds(eight_k) == ["narrow_band"]
    assert "narrow_band" in kinds(telephone(gain(wave, 20.0), 16000).astype(np.float32))  # a loud caller


@pytest.mark.parametrize("sr, size", [(8000, 16000), (16000, 100)])
def test_no_band_verdict_without_room_above_4khz_or_without_a_frame(sr, size):
    assert high_band_db(np.ones(size, dtype=np.float32) * 0.1, sr) is None
    assert kinds(np.zeros(size, dtype=np.float32), sr) == []


def two_party_call(sr: int = 16000, crosstalk: float = 0.0) -> np.ndarray:
    """(frames, 2): one speaker's turns on the left channel, another's on the right, taking turns for 8 s;
    `crosstalk` leaks each into the other channel at that amplitude ratio (an echo on the line)."""
    first, second = speech_like(2.0, sr, seed=1), speech_like(2.0, sr, seed=2)
    pause = np.zeros_like(first)
    left, right = np.concatenate([first, pause, first, pause]), np.concatenate([pause, second, pause, second])
    return np.stack([left + crosstalk * right, right + crosstalk * left], axis=1)


@pytest.mark.parametrize("crosstalk", [0.0, 0.05])  # 0.05: the other party 26 dB down
def test_a_call_with_each_party_on_its_own_channel_is_named(crosstalk):
    parties = separate_parties(two_party_call(crosstalk=crosstalk), 16000)
    assert parties == (1, 2)
    warning = parties_warning(parties)
    assert warning.kind == "separate_parties" and "channels 1 and 2" in warning.message and "--channel" in warning.message
    assert warning.to_dict()["channels"] == [1, 2]
    assert "channels" not in QualityWarning("clipped", "…").to_dict()  # other warnings keep their two fields


@pytest.mark.parametrize("layout", ["same", "quieter", "inverted", "dead", "hiss", "spaced pair", "mono"])
def test_one_voice_on_every_channel_is_not_two_parties(layout):
    """A stereo microphone, a channel recorded inverted, a dead or hissing channel: one voice, no warning."""
    rng = np.random.default_rng(3)
    voice = np.concatenate([speech_like(2.0, seed=1), np.zeros(16000, np.float32), speech_like(2.0, seed=2)])
    other = {"same": voice, "quieter": 0.5 * voice, "inverted": -voice, "dead": 0 * voice,
             "hiss": 1e-4 * rng.standard_normal(voice.size),
             "spaced pair": 0.7 * np.roll(voice, 40) + 0.003 * rng.standard_normal(voice.size)}.get(layout)
    data = voice[:, None] if other is None else np.stack([voice, other], axis=1)
    assert separate_parties(data, 16000) == ()


def on_grid(wave: np.ndarray, bits: int, offset: float = 0.0) -> np.ndarray:
    step = 2.0 ** -(bits - 1)
    return (np.clip(np.round(wave / step), -2 ** (bits - 1), 2 ** (bits - 1) - 1) * step + offset).astype(np.float32)


def test_quiet_speech_in_an_8_bit_file_is_named_and_loud_or_16_bit_speech_is_not():
    quiet = gain(speech_like(sr=48000), -29.0)  # peaks at -35 dBFS
    assert grid_bits(on_grid(quiet, 8)) == 8 and grid_bits(on_grid(quiet, 8, offset=0.25)) == 8  # up to an offset
    assert grid_bits(on_grid(quiet, 16)) is None and grid_bits(quiet) is None
    assert speech_bits(on_grid(quiet, 8)) == pytest.approx(8 - 35 / 6.02, abs=0.3)
    warning = few_bits_warning(on_grid(quiet, 8))
    assert warning.kind == "few_bits" and "8-bit recording" in warning.message and "about 2 bits" in warning.message
    assert few_bits_warning(on_grid(speech_like(sr=48000), 8)) is None  # -6 dBFS: about 7 bits for the speech
    assert few_bits_warning(on_grid(quiet, 16)) is None and few_bits_warning(quiet) is None
    assert few_bits_warning(np.zeros(100, np.float32)) is None
