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


def test_mfcc_from_the_cached_logmel_equals_librosa_from_audio():
    """The baselines take MFCCs from the feature cache: it must be librosa's MFCC, not an approximation."""
    from specser.config import FeatureConfig
    from specser.features.logmel import LogMel
    from specser.features.mfcc import mfcc_from_logmel
    import torch

    wave = emotional_tone("05", 2, np.random.default_rng(1), seconds=2.0)
    cfg = FeatureConfig()
    logmel = LogMel(cfg)(torch.from_numpy(wave)).numpy()
    ours = mfcc_from_logmel(logmel, n_mfcc=40)
    reference = mfcc(wave, 16000, n_mfcc=40, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels, fmax=cfg.f_max)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=0.05)  # dB-level float32 differences through the DCT
