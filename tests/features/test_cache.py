"""The feature cache: keyed by settings and file content, atomic, self-healing."""

import dataclasses

import numpy as np

from specser.config import FeatureConfig
from specser.features.cache import FeatureCache, content_hash, settings_hash


def test_settings_that_change_the_output_change_the_folder_and_others_do_not():
    base = FeatureConfig()
    assert settings_hash(dataclasses.replace(base, n_mels=64)) != settings_hash(base)
    assert settings_hash(dataclasses.replace(base, f_max=7000.0)) != settings_hash(base)
    # The input policy (length, mode, image size) does not change the log-Mel: one cache serves them all.
    assert settings_hash(dataclasses.replace(base, clip_seconds=3.0, mode="image", image_size=64)) == settings_hash(base)
    assert content_hash(b"a") != content_hash(b"b")


def test_put_get_and_a_damaged_entry_is_recomputed_not_fatal(tmp_path):
    cache = FeatureCache(tmp_path, FeatureConfig())
    key = content_hash(b"audio bytes")
    assert cache.get(key) is None
    value = np.arange(12, dtype=np.float64).reshape(3, 4)
    cache.put(key, value)
    got = cache.get(key)
    assert got.dtype == np.float32 and np.array_equal(got, value)
    (cache.dir / f"{key}.npy").write_bytes(b"\x93NUMPY truncated")
    assert cache.get(key) is None and not (cache.dir / f"{key}.npy").exists()


def test_level_normalisation_gets_its_own_cache_and_leaves_earlier_caches_valid():
    base = FeatureConfig()
    assert settings_hash(dataclasses.replace(base, level_norm=True)) != settings_hash(base)
    utterance = settings_hash(dataclasses.replace(base, utterance_norm=True))
    assert utterance not in {settings_hash(base), settings_hash(dataclasses.replace(base, level_norm=True))}
    assert settings_hash(base) == "8281de390af5"  # the folder name every earlier release used
