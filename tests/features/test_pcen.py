import dataclasses

import numpy as np
import pytest
import torch

from specser.config import ConfigError, FeatureConfig, load_config
from specser.features.cache import settings_hash
from specser.features.logmel import LogMel
from specser.features.logmel_np import logmel_numpy
from specser.features.pcen import pcen_numpy, pcen_torch, smoothing_coefficient
from tests.synth import emotional_tone

PCEN = dataclasses.replace(FeatureConfig(), compression="pcen", level_norm=True)


def _speech(seconds=1.5, seed=0):
    return (emotional_tone("05", 2, np.random.default_rng(seed), seconds=seconds) * 0.3).astype(np.float32)


def test_pcen_matches_librosa_in_torch_and_numpy():
    """librosa's PCEN with its default constants, given the same start for its smoother (each band's first frame)."""
    librosa = pytest.importorskip("librosa")
    power = (np.random.default_rng(0).random((64, 300)) ** 4 * 1e3).astype(np.float32)
    c = smoothing_coefficient(16000, 256)
    ref = librosa.pcen(power, sr=16000, hop_length=256, gain=0.98, bias=2.0, power=0.5, time_constant=0.4,
                       eps=1e-6, zi=(1 - c) * power[:, :1].astype(np.float64))
    assert np.abs(pcen_numpy(power, c) - ref).max() < 1e-5
    assert np.abs(pcen_torch(torch.from_numpy(power), c).numpy() - ref).max() < 1e-4


def test_pcen_flattens_a_steady_background_whatever_its_level():
    """A stationary band tends to nearly the same value at any level: the gain control divides it out
    (40 dB apart here, 0.05 apart after PCEN; in dB they stay 40 apart)."""
    c = smoothing_coefficient(16000, 256)
    steady = np.ones((4, 400), np.float32)
    quiet, loud = pcen_numpy(steady * 1e-2, c), pcen_numpy(steady * 1e2, c)
    assert np.abs(quiet[:, -1] - loud[:, -1]).max() < 0.1
    onset = steady.copy()
    onset[:, 200:] *= 100.0  # 20 dB louder from frame 200
    out = pcen_numpy(onset, c)
    assert out[0, 201] > 3 * out[0, 199]  # the onset stands out, then fades as the average catches up
    assert out[0, -1] < 0.5 * out[0, 201]


def test_pcen_front_end_in_torch_equals_numpy_batched_and_ignores_the_gain():
    wave = _speech()
    front = LogMel(PCEN)
    ref = front(torch.from_numpy(wave)).numpy()
    assert ref.shape == (PCEN.n_mels, wave.size // PCEN.hop_length + 1) and ref.min() >= 0
    numpy_pcen = logmel_numpy(wave, front.filterbank.numpy(), PCEN.n_fft, PCEN.hop_length, PCEN.win_length,
                              PCEN.top_db, level_norm=True, pcen_coefficient=front.pcen)
    assert np.abs(numpy_pcen - ref).max() < 1e-3
    # zero padding after a clip in a batch leaves its frames alone (the smoother is causal)
    batch = front.forward_list([torch.from_numpy(wave[:9000]), torch.from_numpy(wave)])
    assert np.abs(batch[1].numpy() - ref).max() < 1e-5
    assert np.abs(batch[0].numpy() - front(torch.from_numpy(wave[:9000])).numpy()).max() < 1e-5
    for scale in (0.1, 3.0):
        assert np.abs(front(torch.from_numpy(wave * scale)).numpy() - ref).max() < 1e-3
    unnormalised = LogMel(dataclasses.replace(PCEN, level_norm=False))
    moved = unnormalised(torch.from_numpy(wave * 0.1)).numpy() - unnormalised(torch.from_numpy(wave)).numpy()
    assert np.abs(moved).max() > 1e-2  # without level_norm a gain change still moves PCEN a little


def test_pcen_has_its_own_cache_and_refuses_dB_only_options():
    assert settings_hash(PCEN) != settings_hash(dataclasses.replace(PCEN, compression="db"))
    assert settings_hash(FeatureConfig()) == settings_hash(dataclasses.replace(FeatureConfig(), compression="db"))
    for clash in ("features.utterance_norm=true", "features.speaker_norm=true", "features.mode=image"):
        with pytest.raises(ConfigError, match="pcen cannot be combined"):
            load_config(preset="robust", overrides=["features.compression=pcen", clash])
    assert load_config(preset="robust", overrides=["features.compression=pcen"]).features.compression == "pcen"
