"""The LightningModule: loss, metrics logging, optimiser and LR-on-plateau schedule."""

from __future__ import annotations

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn

from specser.config import TrainConfig
from specser.training.specaugment import SpecAugment


class EmotionClassifier(L.LightningModule):
    """Wraps any registered model (a plain nn.Module) for training.

    Args:
        model: the network, mapping (B, C, F, T) to logits.
        train_cfg: the recipe (optimiser, LR schedule, SpecAugment).
    """

    def __init__(self, model: nn.Module, train_cfg: TrainConfig):
        super().__init__()
        self.channels_last = train_cfg.channels_last
        self.model = model.to(memory_format=torch.channels_last) if self.channels_last else model
        self.cfg = train_cfg
        self.augment = SpecAugment(train_cfg.specaugment)
        # Kept out of the module tree, so checkpoints hold one copy of the weights under "model.".
        object.__setattr__(self, "_run_model", torch.compile(self.model) if train_cfg.compile else self.model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return self._run_model(x)

    def _step(self, batch, stage: str) -> torch.Tensor:
        x, y = batch
        if stage == "train":
            x = self.augment(x)
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        acc = (logits.argmax(dim=1) == y).float().mean()
        # Epoch-level figures, averaged over DDP processes (a no-op in a single process).
        self.log(f"{stage}_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        self.log(f"{stage}_acc", acc, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        return loss

    def on_train_epoch_start(self) -> None:
        # The LR in force during this epoch, aligned with the epoch's losses in the log.
        self.log("lr", self.optimizers().param_groups[0]["lr"], on_step=False, on_epoch=True, batch_size=1, sync_dist=True)

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def configure_optimizers(self):
        params = self.model.parameters()
        if self.cfg.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        elif self.cfg.optimizer == "adamw":
            opt = torch.optim.AdamW(params, lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        else:
            raise ValueError(f"train.optimizer: unknown optimizer {self.cfg.optimizer!r} (adam, adamw)")
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=self.cfg.lr_factor, patience=self.cfg.lr_patience, min_lr=self.cfg.min_lr
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_loss", "interval": "epoch"}}
