"""Quality warnings: clipping and a telephone's narrow band are named; clean and quiet speech are not."""

import numpy as np
import pytest

from specser.audio.degrade import gain, telephone
from specser.audio.quality import NARROW_BAND_DB, clipped_share, high_band_db, quality_warnings


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
