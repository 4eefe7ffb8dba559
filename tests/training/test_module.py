"""Augmentation touches training batches only: validation and test inputs reach the model untouched."""

import torch
from torch import nn

from specser.config import TrainConfig
from specser.training.module import EmotionClassifier


class Recorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = []
        self.head = nn.Linear(1, 3)

    def forward(self, x):
        self.seen.append(x.clone())
        return self.head(x.mean(dim=(1, 2, 3))[:, None])


def test_specaugment_masks_training_batches_only():
    cfg = TrainConfig()
    cfg.specaugment.enabled = True
    model = Recorder()
    module = EmotionClassifier(model, cfg)
    module.log = lambda *a, **k: None  # outside a Trainer
    x, y = torch.randn(8, 1, 40, 100) + 5.0, torch.zeros(8, dtype=torch.long)
    module.train()
    module._step((x, y), "train")
    module.eval()
    module._step((x, y), "val")
    module(x)  # the test / inference path
    train_in, val_in, test_in = model.seen
    assert (train_in == 0).any() and not torch.equal(train_in, x)  # masks were applied
    assert torch.equal(val_in, x) and torch.equal(test_in, x)
