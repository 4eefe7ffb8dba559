"""The speed options train correctly wherever they run; the GPU-only ones fall back on CPU.

No GPU is needed: data_on_device moves the tensors to the run's device (here the CPU),
and bf16 autocast runs on CPU too, so the code paths a GPU run takes are exercised.
"""

import json

import torch

from specser.config import load_config
from specser.data.datasets import LogMelDataset, stacked_collate
from specser.runs.train import train_run
from tests.synth import FAST_OVERRIDES


def test_stacked_batches_equal_item_by_item_batches():
    import numpy as np
    from torch.utils.data import DataLoader

    rng = np.random.default_rng(0)
    feats = [rng.standard_normal((8, n)).astype(np.float32) for n in (10, 14, 9, 12)]
    ds = LogMelDataset(feats, [0, 1, 2, 3], np.zeros(8, np.float32), np.ones(8, np.float32), frames=12)
    x, y = next(iter(DataLoader(ds, batch_size=3, collate_fn=stacked_collate)))
    assert x.shape == (3, 1, 8, 12) and y.tolist() == [0, 1, 2]
    for i in range(3):
        assert torch.equal(x[i], ds[i][0])
    ds.to("cpu")  # the GPU path's call, a no-op move here
    assert torch.equal(ds.__getitems__([2, 0])[0], torch.stack([ds[2][0], ds[0][0]]))


def test_training_with_the_gpu_recipe_on_cpu(synth_corpus, tmp_path):
    """data_on_device + bf16 autocast + channels_last: the single-GPU recipe, run on the CPU fallback."""
    cfg = load_config(overrides=FAST_OVERRIDES + [f"data.path={synth_corpus}", "train.accelerator=cpu",
                                                  "train.data_on_device=true", "train.precision=bf16-mixed"])
    metrics = train_run(cfg, tmp_path / "run", progress=False)
    assert metrics["accuracy"] >= 0.5, metrics["accuracy"]  # chance is 1/6; bf16 costs a little
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["run"]["device"] == "cpu"


def test_channels_last_is_a_layout_not_a_different_model():
    from specser.models import create_model
    from specser.training.module import EmotionClassifier

    torch.manual_seed(0)
    plain = create_model("spec_resnet", num_classes=6).eval()
    cfg = load_config().train
    module = EmotionClassifier(create_model("spec_resnet", num_classes=6), cfg).eval()
    module.model.load_state_dict(plain.state_dict())
    x = torch.randn(2, 1, 64, 100)
    with torch.no_grad():
        torch.testing.assert_close(module(x), plain(x), rtol=1e-4, atol=1e-4)
    assert module.model.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
