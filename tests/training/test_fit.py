"""The Trainer's checkpoints: the best epoch for the model, the latest for resuming."""

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from specser.config import TrainConfig
from specser.training.fit import build_trainer


class WorseEachEpoch(L.LightningModule):
    """A model whose validation loss only rises, so the best epoch is the first."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 2)

    def training_step(self, batch, _):
        x, y = batch
        loss = nn.functional.cross_entropy(self.layer(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, _):
        self.log("val_loss", torch.tensor(float(self.current_epoch)))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_last_checkpoint_is_every_epoch_even_when_the_best_stays_behind(tmp_path):
    data = DataLoader(TensorDataset(torch.randn(8, 2), torch.randint(0, 2, (8,))), batch_size=4)
    trainer = build_trainer(TrainConfig(max_epochs=3, early_stopping_patience=10, accelerator="cpu"), tmp_path,
                            has_val=True, progress=False, steps_per_epoch=2)
    trainer.fit(WorseEachEpoch(), data, data)
    epoch_of = lambda name: torch.load(tmp_path / "checkpoints" / name, weights_only=True)["epoch"]  # noqa: E731
    assert epoch_of("best.ckpt") == 0 and epoch_of("last.ckpt") == 2
    assert trainer.checkpoint_callback.best_model_path.endswith("best.ckpt")
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
