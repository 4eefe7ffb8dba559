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


class TwoViews(nn.Module):
    """Stands in for `WaveFeatures` with `augment.consistency`: each clip twice, the second view shifted."""

    def forward(self, waves, lengths):
        x = waves[:, :400].reshape(len(waves), 1, 10, 40)
        return torch.cat([x, x + 1.0])


def test_consistency_adds_the_weighted_divergence_of_the_two_views_to_the_loss():
    from specser.training.augment import jensen_shannon

    torch.manual_seed(0)
    waves, y = torch.randn(4, 800), torch.tensor([0, 1, 2, 0])
    losses = {}
    for weight in (0.0, 5.0):
        cfg = TrainConfig()
        cfg.augment.consistency = weight
        model = Recorder()
        torch.manual_seed(1)
        model.head.reset_parameters()
        module = EmotionClassifier(model, cfg, wave_features=TwoViews())
        module.log = lambda *a, **k: None
        module.train()
        losses[weight] = module._step((waves, torch.full((4,), 800), y), "train")
        assert model.seen[0].shape[0] == 8  # both views reached the network, with the labels twice
    logits = model.head(model.seen[0].mean(dim=(1, 2, 3))[:, None])
    divergence = jensen_shannon(logits)
    assert divergence > 1e-4
    torch.testing.assert_close(losses[5.0], losses[0.0] + 5.0 * divergence)
