"""The LightningModule: augmentation, loss, metrics logging, optimiser and LR schedule."""

from __future__ import annotations

import math

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn

from specser.config import TrainConfig
from specser.training.augment import freq_mixstyle, jensen_shannon, mixup, time_shift
from specser.training.distill import distillation_loss
from specser.training.specaugment import SpecAugment


class EmotionClassifier(L.LightningModule):
    """Wraps any registered model (a plain nn.Module) for training.

    Args:
        model: the network, mapping (B, C, F, T) to logits.
        train_cfg: the recipe (optimiser, LR schedule, augmentation, loss).
        wave_features: turns (waves, lengths) training batches into log-Mels (audio-domain
            augmentation); None when training batches are log-Mels already.
        class_weights: per-class loss weights, or None.
        shift_frames: the largest random time shift, in frames.
        teachers: frozen networks whose softened mean probabilities the student also learns
            (`train.distill`, `specser.training.distill.Teachers`); None: the labels alone.
    """

    def __init__(self, model: nn.Module, train_cfg: TrainConfig, wave_features: nn.Module | None = None,
                 class_weights: torch.Tensor | None = None, shift_frames: int = 0, teachers: nn.Module | None = None):
        super().__init__()
        # Out of the module tree, like `_run_model`: checkpoints, the model file and DDP see the student alone.
        object.__setattr__(self, "_teachers", teachers)
        self.wave_features = wave_features
        self.shift_frames = shift_frames
        self.register_buffer("class_weights", class_weights, persistent=False)
        self.channels_last = train_cfg.channels_last
        self.model = model.to(memory_format=torch.channels_last) if self.channels_last else model
        self.cfg = train_cfg
        self.augment = SpecAugment(train_cfg.specaugment)
        # Kept out of the module tree, so checkpoints hold one copy of the weights under "model.".
        object.__setattr__(self, "_run_model", torch.compile(self.model) if train_cfg.compile else self.model)

    def forward(self, x: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        """`rest`: further inputs of networks that take several (a fine-tuned encoder's waveform lengths)."""
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return self._run_model(x, *rest)

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), y, weight=self.class_weights, label_smoothing=self.cfg.label_smoothing)

    def _step(self, batch, stage: str) -> torch.Tensor:
        inputs, y = list(batch[:-1]), batch[-1]
        partner, lam, views = None, 1.0, 1
        if stage == "train" and self.wave_features is not None:
            # waves, lengths (and speaker statistics) -> log-Mels, in float32 under mixed precision too:
            # the network must see the features inference computes, and the dB scale needs the range.
            with torch.autocast(self.device.type, enabled=False):
                inputs = [self.wave_features(*inputs)]
            views = len(inputs[0]) // len(y)  # 2 with `augment.consistency`: each clip with and without conditions
            y = y.repeat(views)
        if stage == "train" and len(inputs) == 1:  # spectrogram-shaped inputs: not a fine-tuned encoder's waves
            aug = self.cfg.augment
            restyled = freq_mixstyle(inputs[0], aug.freq_mixstyle_prob, aug.freq_mixstyle_alpha)
            inputs[0] = self.augment(time_shift(restyled, self.shift_frames))
            if self.cfg.augment.mixup_alpha > 0:
                inputs[0], partner, lam = mixup(inputs[0], self.cfg.augment.mixup_alpha, views)
        logits = self(*inputs)
        loss = self._loss(logits, y)
        if partner is not None:
            loss = lam * loss + (1 - lam) * self._loss(logits, y[partner])
        if views > 1:
            loss = loss + self.cfg.augment.consistency * jensen_shannon(logits, views)
        if stage == "train" and self._teachers is not None:  # validation keeps the labels' loss alone
            d = self.cfg.distill
            soft = distillation_loss(logits, self._teachers(*inputs), d.temperature)
            loss = (1 - d.weight) * loss + d.weight * soft
        acc = (logits.argmax(dim=1) == y).float().mean()
        # Epoch-level figures, averaged over DDP processes (a no-op in a single process).
        self.log(f"{stage}_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        self.log(f"{stage}_acc", acc, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        return loss

    def on_fit_start(self) -> None:
        if self._teachers is not None:
            self._teachers.to(self.device)

    def on_train_epoch_start(self) -> None:
        if self.cfg.finetune.enabled and hasattr(self.model, "encoder_frozen"):
            # From the epoch alone, so a resumed run picks up where it was.
            self.model.encoder_frozen = self.current_epoch < self.cfg.finetune.unfreeze_after_epochs
        # The LR in force during this epoch, aligned with the epoch's losses in the log.
        self.log("lr", self.optimizers().param_groups[0]["lr"], on_step=False, on_epoch=True, batch_size=1, sync_dist=True)

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def _parameter_groups(self) -> list[dict]:
        """One group, or when fine-tuning an encoder, the head's at `lr` and the encoder's at
        `finetune.encoder_lr`; the schedule scales both."""
        if not (self.cfg.finetune.enabled and hasattr(self.model, "encoder")):
            return [{"params": [p for p in self.model.parameters() if p.requires_grad]}]
        encoder = [p for p in self.model.encoder.parameters() if p.requires_grad]
        ids = {id(p) for p in self.model.encoder.parameters()}
        rest = [p for p in self.model.parameters() if p.requires_grad and id(p) not in ids]
        return [{"params": rest}, {"params": encoder, "lr": self.cfg.finetune.encoder_lr}]

    def configure_optimizers(self):
        params = self._parameter_groups()
        if self.cfg.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        elif self.cfg.optimizer == "adamw":
            opt = torch.optim.AdamW(params, lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        else:
            raise ValueError(f"train.optimizer: unknown optimizer {self.cfg.optimizer!r} (adam, adamw)")
        cfg = self.cfg
        if cfg.scheduler == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
                opt, mode="min", factor=cfg.lr_factor, patience=cfg.lr_patience, min_lr=cfg.min_lr
            )
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_loss", "interval": "epoch"}}
        if cfg.scheduler == "cosine":
            # Per step: linear warm-up, then cosine decay to min_lr at max_epochs.
            total = max(1, int(self.trainer.estimated_stepping_batches))
            warm = min(total - 1, cfg.warmup_epochs * total // max(1, cfg.max_epochs))
            floor = cfg.min_lr / cfg.lr

            def factor(step: int) -> float:
                if step < warm:
                    return (step + 1) / warm
                progress = (step - warm) / max(1, total - warm)
                return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

            sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        elif cfg.scheduler == "onecycle":
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups],
                                                        total_steps=max(2, int(self.trainer.estimated_stepping_batches)))
        else:
            raise ValueError(f"train.scheduler: unknown scheduler {cfg.scheduler!r} (plateau, cosine, onecycle)")
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
