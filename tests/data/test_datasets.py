import numpy as np
import torch

from specser.data.datasets import LogMelDataset, pad_collate
from specser.features.length import fit_length
from specser.features.normalize import normalization_stats


def test_normalization_stats_are_per_bin_over_all_frames():
    rng = np.random.default_rng(0)
    feats = [rng.normal(loc=np.arange(4)[:, None], scale=2.0, size=(4, n)).astype(np.float32) for n in (50, 300, 7)]
    mean, std = normalization_stats(feats)
    allf = np.concatenate(feats, axis=1)
    np.testing.assert_allclose(mean, allf.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(std, allf.std(axis=1), rtol=1e-5)


def test_fit_length_crops_centre_and_pads_with_floor():
    x = np.arange(10, dtype=np.float32)[None].repeat(2, 0)
    np.testing.assert_array_equal(fit_length(x, 4)[0], [3, 4, 5, 6])
    padded = fit_length(x, 13)
    assert padded.shape == (2, 13) and (padded[:, 10:] == 0).all()


def test_dataset_fixed_and_variable_length():
    feats = [np.full((3, n), 2.0, dtype=np.float32) for n in (5, 9)]
    mean, std = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
    fixed = LogMelDataset(feats, [0, 1], mean, std, frames=7)
    x, y = fixed[1]
    assert x.shape == (1, 3, 7) and y == 1 and torch.allclose(x, torch.full_like(x, 2.0))
    variable = LogMelDataset(feats, [0, 1], mean, std, frames=None)
    xs, ys = pad_collate([variable[0], variable[1]])
    assert xs.shape == (2, 1, 3, 9) and ys.tolist() == [0, 1] and (xs[0, ..., 5:] == 0).all()
