"""Fold workers share the CPU cores: a fold left training alone takes the cores the others freed."""

import multiprocessing

import torch

from specser.runs.workers import ThreadShare
from specser.training.fit import FollowThreadShare


def test_thread_share_divides_the_cores_among_the_running_folds():
    share = ThreadShare(multiprocessing.get_context("spawn"), cores=4)
    share.add(2)
    assert share.threads() == 2
    share.add(1)
    assert share.threads() == 1  # never below one thread
    share.add(-2)
    assert share.threads() == 4  # the last fold running gets every core
    share.add(-1)
    assert share.threads() == 4


def test_each_epoch_follows_the_share():
    before = torch.get_num_threads()
    wanted = [1, 2]
    callback = FollowThreadShare(lambda: wanted[0])
    try:
        callback.on_train_epoch_start(None, None)
        assert torch.get_num_threads() == 1
        wanted[0] = 2
        callback.on_train_epoch_start(None, None)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
