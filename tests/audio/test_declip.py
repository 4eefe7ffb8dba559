"""Declipping: cut peaks come back closer to the truth; what was not clipped is never touched."""

import time

import numpy as np

from specser.audio.declip import consistent_iht, declip, is_clipped
from specser.audio.degrade import gain
from specser.audio.quality import FULL_SCALE, clipped_share
from tests.audio.test_quality import speech_like


def voiced(seconds: float = 2.0, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """A gliding vowel, as sparse in a short-time spectrum as recorded speech: 12 harmonics falling
    6 dB an octave, a syllable rhythm, a faint noise floor; peak 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    phase = 2 * np.pi * np.cumsum(150 + 30 * np.sin(2 * np.pi * 0.5 * t)) / sr
    wave = sum(np.sin(k * phase + rng.uniform(0, 6.28)) / k for k in range(1, 13))
    wave = wave * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)) + 0.002 * rng.standard_normal(t.size)
    return (0.5 * wave / np.max(np.abs(wave))).astype(np.float32)


def error_db(truth: np.ndarray, estimate: np.ndarray) -> float:
    """Signal-to-error ratio of `estimate` against `truth`, in dB."""
    return float(10 * np.log10(np.sum(truth.astype(np.float64) ** 2) / np.sum((truth - estimate.astype(np.float64)) ** 2)))


def test_unclipped_audio_comes_back_as_it_is():
    wave = speech_like()  # the quality warnings' test signal, which they leave alone too
    assert not is_clipped(wave) and declip(wave) is wave
    peak_normalised = wave / np.max(np.abs(wave))  # a few samples touch full scale: not a clipped recording
    assert declip(peak_normalised) is peak_normalised


def test_clipped_peaks_move_towards_the_truth_and_nothing_else_moves():
    for louder_db in (10.0, 20.0):
        truth = voiced() * 10 ** (louder_db / 20)
        clipped = gain(voiced(), louder_db)
        assert is_clipped(clipped) and clipped_share(clipped) > 0.01
        repaired = declip(clipped)
        assert repaired.dtype == clipped.dtype and repaired.shape == clipped.shape
        kept = np.abs(clipped) < FULL_SCALE
        np.testing.assert_array_equal(repaired[kept], clipped[kept])
        cut = ~kept  # re-estimated: the same sign, at least the clip level
        assert np.all(np.sign(repaired[cut]) == np.sign(clipped[cut])) and np.all(np.abs(repaired[cut]) >= FULL_SCALE)
        assert np.max(np.abs(repaired)) > 1.2  # the peaks rise above full scale again
        assert error_db(truth, repaired) > error_db(truth, clipped) + 0.5, louder_db  # about 2.5 and 0.7 dB


def test_recorded_speech_gains_several_db(ravdess_dir):
    """Real speech is sparser than the synthetic vowel: 10 dB past its peak, the repair gained 6 dB at
    the median over 60 RAVDESS and nEMO clips, and never lost."""
    from specser.audio.load import load_audio

    files = sorted(ravdess_dir.glob("Actor_0[1-3]/*-05-02-01-01-*.flac"))[:3]  # strong anger: loud, clipped hard
    assert files
    for path in files:
        truth = load_audio(path, 16000).astype(np.float64)
        truth *= 10 ** (10 / 20) / np.max(np.abs(truth))
        clipped = np.clip(truth, -1, 1).astype(np.float32)
        assert error_db(truth, declip(clipped)) > error_db(truth, clipped) + 3.0, path.name


def test_only_the_clipped_stretch_of_a_long_recording_is_computed():
    quiet = voiced(seconds=60.0) * 0.1
    burst = slice(16000 * 30, 16000 * 31)
    quiet[burst] = gain(voiced(seconds=1.0), 20.0)  # one loud second in a minute
    assert is_clipped(quiet)
    start = time.perf_counter()
    repaired = declip(quiet)
    elapsed = time.perf_counter() - start
    outside = np.ones(quiet.size, dtype=bool)
    outside[burst] = False
    np.testing.assert_array_equal(repaired[outside], quiet[outside])
    assert not np.array_equal(repaired[burst], quiet[burst])
    assert elapsed < 2.0  # a few frames around the burst, not the whole minute (about 0.05 s here)


def test_the_sparse_estimate_keeps_inside_any_bounds_and_undoes_rounding():
    """`consistent_iht` with every sample bounded by half a rounding step (coarse audio, 5 bits of a quiet
    vowel): each sample stays inside its bounds, and the estimate is closer to the truth than the rounding."""
    truth = voiced(1.0).astype(np.float64)
    step = 2.0 ** -4
    rounded = np.round(truth / step) * step
    estimate = consistent_iht(rounded, rounded - step / 2, rounded + step / 2)
    assert np.all(np.abs(estimate - rounded) <= step / 2 + 1e-12)
    assert error_db(truth, estimate) > error_db(truth, rounded) + 2.0  # 21.5 against 18.0 dB
