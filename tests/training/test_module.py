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


class MatmulFrontEnd(nn.Module):
    """Stands in for `WaveFeatures`: a matrix product, which autocast would run in bf16."""

    def __init__(self):
        super().__init__()
        self.dtypes = []

    def forward(self, waves, lengths):
        mel = waves[:, :40 * 10].reshape(len(waves), 10, 40) @ torch.eye(40)
        self.dtypes.append(mel.dtype)
        return mel.transpose(1, 2).unsqueeze(1)


def test_the_front_end_stays_float32_under_mixed_precision():
    """bf16 autocast speeds up the network; the log-Mels must still be the float32 ones inference computes."""
    front_end, model = MatmulFrontEnd(), Recorder()
    module = EmotionClassifier(model, TrainConfig(), wave_features=front_end)
    module.log = lambda *a, **k: None
    module.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = module._step((torch.randn(4, 800), torch.full((4,), 800), torch.zeros(4, dtype=torch.long)), "train")
    assert front_end.dtypes == [torch.float32] and model.seen[0].dtype == torch.float32
    assert model.head.weight.dtype == torch.float32 and loss.dtype == torch.float32
