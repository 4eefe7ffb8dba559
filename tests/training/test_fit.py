"""The Trainer's checkpoints (the best epoch for the model, the latest for resuming) and when it stops."""

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from specser.config import TrainConfig
import pytest

from specser.training.fit import build_trainer, fit


class WorseEachEpoch(L.LightningModule):
    """A model whose validation loss only rises, so the best epoch is the first."""

    def __init__(self, cfg: TrainConfig | None = None):
        super().__init__()
        self.layer = nn.Linear(2, 2)
        self.cfg = cfg  # what `fit` reads, as on EmotionClassifier

    def training_step(self, batch, _):
        x, y = batch
        loss = nn.functional.cross_entropy(self.layer(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, _):
        self.log("val_loss", torch.tensor(float(self.current_epoch)))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _data():
    return DataLoader(TensorDataset(torch.randn(8, 2), torch.randint(0, 2, (8,))), batch_size=4)


def test_last_checkpoint_is_every_epoch_even_when_the_best_stays_behind(tmp_path):
    data = _data()
    trainer = build_trainer(TrainConfig(max_epochs=3, early_stopping_patience=10, accelerator="cpu"), tmp_path,
                            has_val=True, progress=False, steps_per_epoch=2)
    trainer.fit(WorseEachEpoch(), data, data)
    epoch_of = lambda name: torch.load(tmp_path / "checkpoints" / name, weights_only=True)["epoch"]  # noqa: E731
    assert epoch_of("best.ckpt") == 0 and epoch_of("last.ckpt") == 2
    assert trainer.checkpoint_callback.best_model_path.endswith("best.ckpt")
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]


@pytest.mark.parametrize(("selection", "min_epochs", "epochs_run", "model_epoch"), [
    ("best", 0, 2, 0),  # patience 1: the second epoch without a new low stops it; the model is epoch 0
    ("best", 4, 4, 0),  # early stopping may not end it before the floor
    ("last", 0, 6, 5),  # a fixed budget: every epoch, and the last one is the model
])
def test_selection_and_min_epochs_decide_the_length_and_the_model(tmp_path, selection, min_epochs, epochs_run,
                                                                  model_epoch):
    cfg = TrainConfig(max_epochs=6, early_stopping_patience=1, min_epochs=min_epochs, selection=selection,
                      accelerator="cpu")
    trainer, model_ckpt = fit(WorseEachEpoch(cfg), _data(), _data(), tmp_path, progress=False)
    assert trainer.current_epoch == epochs_run
    assert torch.load(model_ckpt, weights_only=True)["epoch"] == model_epoch


@pytest.mark.parametrize(("asked", "native", "expected"), [
    ("auto", True, "bf16-mixed"),
    ("auto", False, "32-true"),  # emulated bf16 would be slower than float32
    ("32-true", True, "32-true"),  # an explicit choice is kept
    ("bf16-mixed", False, "bf16-mixed"),
])
def test_auto_precision_takes_bf16_only_where_the_device_computes_it(monkeypatch, asked, native, expected):
    import specser.training.fit as fit_module

    monkeypatch.setattr(fit_module, "native_bf16", lambda device: native)
    assert fit_module.resolve_precision(TrainConfig(precision=asked, accelerator="cpu")) == expected


def test_native_bf16_reads_the_cpu_probes(monkeypatch):
    from specser.training.fit import native_bf16

    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    assert not native_bf16("cpu")
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert native_bf16("cpu")
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    assert not native_bf16("cpu")  # a torch build without the probes: assume emulation
    assert not native_bf16("mps")
