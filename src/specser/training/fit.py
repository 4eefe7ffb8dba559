"""Build a Lightning Trainer for a run folder and fit, resuming from `last.ckpt` if present."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Callable, Sequence

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger
from torch.optim.swa_utils import get_ema_avg_fn
from torch.utils.data import DataLoader

from specser.config import TrainConfig
from specser.training.interrupt import TrainingInterrupted
from specser.training.module import EmotionClassifier


def _devices(value: str):
    return int(value) if value.isdigit() else value


def quiet_lightning() -> None:
    """Drop Lightning's per-Trainer banners (GPU/TPU availability, a logger advert) and an upstream
    deprecation warning: a cross-validation builds a Trainer per fold and they drown the progress."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")


def native_bf16(device: str) -> bool:
    """Whether `device` ("cpu" or "cuda") computes bf16 in hardware. Elsewhere bf16 is emulated and
    slower than float32 (on a CPU without AMX or AVX512-BF16, several times slower)."""
    if device == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device != "cpu":
        return False
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # private: absent in some torch builds
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def resolve_precision(cfg: TrainConfig) -> str:
    """Lightning's precision for `cfg.precision`; "auto" becomes "bf16-mixed" where the training device
    computes bf16 natively and "32-true" elsewhere.

    bf16 halves the convolutions' time on a CPU with AMX (0.36 -> 0.18 s per step of 64 log-Mels on
    2 cores; `docs/performance.md`). The weights, the optimiser and the front-end stay float32, so the
    model file is the same kind either way.
    """
    if cfg.precision != "auto":
        return cfg.precision
    from specser.inference.device import pick_device

    return "bf16-mixed" if native_bf16(pick_device(cfg.accelerator).type) else "32-true"


def _strategy(cfg: TrainConfig) -> str:
    """`cfg.strategy`, except that DDP must expect unused weights while a fine-tuned encoder is still frozen
    (they get no gradient in those epochs; the weights DDP registers at the start must be all of them)."""
    several = cfg.num_nodes > 1 or (cfg.devices.isdigit() and int(cfg.devices) > 1)
    frozen_first = cfg.finetune.enabled and cfg.finetune.unfreeze_after_epochs > 0
    if frozen_first and (cfg.strategy == "ddp" or (cfg.strategy == "auto" and several)):
        return "ddp_find_unused_parameters_true"
    return cfg.strategy


try:  # Lightning >= 2.5
    from lightning.pytorch.callbacks import WeightAveraging
except ImportError:  # pyproject admits 2.4 for older GPU images; `train.ema_epochs` then says so
    WeightAveraging = None

if WeightAveraging is not None:
    class EMAAfterWarmup(WeightAveraging):
        """An exponential moving average of the weights, updated every step from `start_step` on.
        Defined at module level so that a spawned DDP process can unpickle it."""

        def __init__(self, decay: float, start_step: int):
            super().__init__(avg_fn=get_ema_avg_fn(decay))
            self.start_step = start_step

        def should_update(self, step_idx: int | None = None, epoch_idx: int | None = None) -> bool:
            return step_idx is not None and step_idx >= self.start_step


def weight_averaging(cfg: TrainConfig, steps_per_epoch: int) -> L.Callback | None:
    """Lightning's weight averaging as an EMA over `cfg.ema_epochs` epochs, started after the warm-up;
    None when off. The decay follows from the epoch count, so the window is the same on a small
    corpus and a large one."""
    if cfg.ema_epochs <= 0:
        return None
    if WeightAveraging is None:
        raise RuntimeError(f"train.ema_epochs needs lightning >= 2.5 (WeightAveraging); this is {L.__version__}")
    steps = max(1, steps_per_epoch)
    return EMAAfterWarmup(decay=max(0.0, 1.0 - 1.0 / (cfg.ema_epochs * steps)), start_step=cfg.warmup_epochs * steps)


class FollowThreadShare(L.Callback):
    """Sets the CPU threads at each epoch's start to `threads()`: a fold process's share of the cores,
    which grows when the folds beside it finish (`specser.runs.workers.ThreadShare`)."""

    def __init__(self, threads: Callable[[], int]):
        self.threads = threads

    def on_train_epoch_start(self, trainer, module) -> None:
        wanted = self.threads()
        if wanted != torch.get_num_threads():
            torch.set_num_threads(wanted)


def build_trainer(cfg: TrainConfig, run_dir: Path, has_val: bool, progress: bool = True,
                  steps_per_epoch: int = 1, extra_callbacks: Sequence[L.Callback] = ()) -> L.Trainer:
    """Trainer with best/last checkpoints, early stopping (`selection=best`), optional weight averaging
    and a CSV log in `run_dir`."""
    quiet_lightning()
    monitor = "val_loss" if has_val else "train_loss"
    callbacks = [
        # The first checkpoint callback is `trainer.checkpoint_callback`: the best epoch, for the model.
        ModelCheckpoint(dirpath=run_dir / "checkpoints", filename="best", monitor=monitor, mode="min", save_top_k=1),
        # Every epoch, for resuming (and the model under `selection=last`). Lightning's `save_last` writes
        # only when the best one does, so a stopped run would redo every epoch since its last improvement.
        ModelCheckpoint(dirpath=run_dir / "checkpoints", filename="last", monitor=None, save_top_k=1,
                        enable_version_counter=False),
    ]
    if cfg.selection == "best":  # a fixed budget (`last`) runs every epoch
        callbacks.append(EarlyStopping(monitor=monitor, mode="min", patience=cfg.early_stopping_patience))
    averaging = weight_averaging(cfg, steps_per_epoch)
    if averaging is not None:
        callbacks.append(averaging)
    if progress:
        callbacks.append(TQDMProgressBar(refresh_rate=1))
    callbacks.extend(extra_callbacks)
    return L.Trainer(
        default_root_dir=run_dir,
        max_epochs=cfg.max_epochs,
        min_epochs=min(cfg.min_epochs, cfg.max_epochs) or None,
        accelerator=cfg.accelerator,
        devices=_devices(cfg.devices),
        num_nodes=cfg.num_nodes,
        strategy=_strategy(cfg),
        precision=resolve_precision(cfg),
        deterministic=cfg.deterministic,
        callbacks=callbacks,
        logger=CSVLogger(run_dir, name="logs", version=""),
        enable_progress_bar=progress,
        enable_model_summary=False,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
    )


def fit(
    module: EmotionClassifier,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    run_dir: Path,
    progress: bool = True,
    extra_callbacks: Sequence[L.Callback] = (),
) -> tuple[L.Trainer, Path]:
    """Train, resuming from ``checkpoints/last.ckpt`` when an earlier run was interrupted.

    Returns:
        The trainer and the checkpoint of the model: the best one (by validation loss), or the last one
        under `train.selection=last`.

    Raises:
        TrainingInterrupted: stopped by Ctrl-C or SIGTERM.
    """
    trainer = build_trainer(module.cfg, run_dir, val_loader is not None, progress, len(train_loader),
                            extra_callbacks)
    last = run_dir / "checkpoints" / "last.ckpt"
    log = run_dir / "logs" / "metrics.csv"
    if last.exists() and log.exists():
        # CSVLogger rewrites metrics.csv on resume: keep the earlier epochs as a numbered part.
        parts = len(list(log.parent.glob("metrics.part*.csv")))
        log.rename(log.with_name(f"metrics.part{parts:03d}.csv"))
    try:
        trainer.fit(module, train_loader, val_loader, ckpt_path=str(last) if last.exists() else None)
    except (KeyboardInterrupt, SystemExit) as exc:
        # Lightning turns Ctrl-C into SystemExit(1), and SIGTERM into SIGTERMException (a SystemExit) after the
        # batch in hand; both leave last.ckpt of the last finished epoch in place.
        if isinstance(exc, SystemExit) and not trainer.interrupted:
            raise
        raise TrainingInterrupted(f"training was stopped; run the same command again to resume from {last}") from exc
    if trainer.interrupted:
        raise TrainingInterrupted(f"training was stopped; run the same command again to resume from {last}")
    best = trainer.checkpoint_callback.best_model_path
    return trainer, Path(best) if best and module.cfg.selection == "best" else last
