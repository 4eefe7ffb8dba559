import numpy as np

from specser.features.mfcc import mfcc, mfcc_statistics
from tests.synth import emotional_tone


def test_mfcc_statistics_shapes_and_values():
    wave = emotional_tone("03", 1, np.random.default_rng(0))
    coeffs = mfcc(wave, 16000, n_mfcc=20)
    stats = mfcc_statistics(wave, 16000, n_mfcc=20)
    assert coeffs.shape[0] == 20 and stats.shape == (40,)
    np.testing.assert_allclose(stats[:20], coeffs.mean(axis=1), rtol=1e-5)
    assert mfcc_statistics(wave, 16000, n_mfcc=20, deltas=True).shape == (120,)
    other = mfcc_statistics(emotional_tone("04", 1, np.random.default_rng(0)), 16000, n_mfcc=20)
    assert not np.allclose(stats, other)
