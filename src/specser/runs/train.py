"""One training run, end to end, into a self-contained run folder.

prepare corpus -> split -> inputs -> Lightning fit -> best weights -> test metrics
-> metrics.json, plots, report.md, model.specser. Each step lives in its own module;
this file only wires them and writes the run folder.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from specser.inference.model_file import save_artifact
from specser.config import ConfigError, ExperimentConfig, without_runtime_keys
from specser.data.splits import Split
from specser.corpus.manifest import write_manifest_csv
from specser.data.datasets import LogMelDataset, RandomCropDataset, WaveDataset, collate_for
from specser.data.inputs import build_inputs, load_waves
from specser.data.splits import holdout_split
from specser.evaluation import plots
from specser.evaluation.inference import crop_tta_probabilities, loader_probabilities, pick_device
from specser.evaluation.metrics import compute_metrics
from specser.evaluation.report import render_report, write_report
from specser.atomic import atomic_write_json
from specser.models import count_parameters, create_model
from specser.models.registry import config_dict
from specser.paths import default_cache_dir
from specser.features.prepare import PreparedCorpus, prepare_corpus


class RunFolderError(RuntimeError):
    pass


class TrainingInterrupted(RuntimeError):
    """Training stopped early (Ctrl-C or a signal); the same command resumes it."""


def _check_run_folder(run_dir: Path, cfg: ExperimentConfig, overwrite: bool) -> None:
    if (run_dir / "metrics.json").exists() and not overwrite:
        raise RunFolderError(f"{run_dir} already holds a finished run; choose another --out or pass --overwrite")
    saved = run_dir / "config.yaml"
    if saved.exists() and not overwrite and (run_dir / "checkpoints" / "last.ckpt").exists():
        import yaml

        if without_runtime_keys(yaml.safe_load(saved.read_text())) != cfg.outcome_dict():
            raise RunFolderError(
                f"{run_dir} holds an interrupted run with a different config; resume it with the same "
                "arguments, choose another --out, or pass --overwrite"
            )
    if overwrite:
        for name in ("checkpoints/last.ckpt", "checkpoints/best.ckpt", "metrics.json", "logs/metrics.csv"):
            (run_dir / name).unlink(missing_ok=True)
        for part in run_dir.glob("logs/metrics.part*.csv"):
            part.unlink()


def _loader(dataset, batch_size: int, shuffle: bool, cfg: ExperimentConfig, seed: int) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=cfg.train.num_workers,
                      collate_fn=collate_for(cfg.features), generator=generator, persistent_workers=cfg.train.num_workers > 0)


def _grid_images(x: torch.Tensor, mode: str) -> np.ndarray:
    """A batch of inputs as (B, H, W, 3) RGB in [0, 1] for the batch-grid plot."""
    if mode == "image":
        from specser.features.images import IMAGENET_MEAN, IMAGENET_STD

        x = x * torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        return x.clamp(0, 1).permute(0, 2, 3, 1).numpy()
    import matplotlib

    x = x[:, 0].flip(1)  # (B, n_mels, T), low frequencies at the bottom
    lo, hi = x.amin(dim=(1, 2), keepdim=True), x.amax(dim=(1, 2), keepdim=True)
    return matplotlib.colormaps["magma"](((x - lo) / (hi - lo + 1e-8)).numpy())[..., :3]


def _data_on_device(cfg: ExperimentConfig, device: str) -> bool:
    """Hold the features on the GPU: by default only for a single-GPU run (DDP ranks each own one)."""
    if cfg.train.data_on_device is not None:
        return cfg.train.data_on_device
    single = cfg.train.num_nodes == 1 and (cfg.train.devices == "1" or (cfg.train.devices == "auto" and torch.cuda.device_count() == 1))
    return device == "cuda" and single


def _augmented_training_set(cfg: ExperimentConfig, inputs, corpus: PreparedCorpus):
    """Swap in the training set that the augmentation needs; returns the `WaveFeatures` for audio-domain
    augmentation, else None. Validation and test sets are never touched."""
    aug = cfg.train.augment
    if not (aug.audio_domain or aug.random_crop):
        return None
    if cfg.features.mode != "native" or cfg.features.length_mode != "pad_crop":
        raise ConfigError("train.augment: random crops and audio-domain augmentation need features.mode=native "
                          "and features.length_mode=pad_crop")
    rows, targets = inputs.rows["train"], inputs.datasets["train"].targets
    if not aug.audio_domain:
        inputs.datasets["train"] = RandomCropDataset([corpus.features[r.utt_id] for r in rows], targets,
                                                     inputs.mean, inputs.std, cfg.features.clip_frames)
        return None
    from specser.features.logmel import mel_filterbank
    from specser.training.augment import WaveFeatures

    inputs.datasets["train"] = WaveDataset(load_waves(rows, cfg.features.sample_rate, cfg.data.max_duration_s), targets)
    return WaveFeatures(cfg.features, aug, aug.random_crop, torch.from_numpy(mel_filterbank(cfg.features)),
                        torch.from_numpy(inputs.mean), torch.from_numpy(inputs.std))


def _load_best_weights(model: torch.nn.Module, ckpt: Path) -> int:
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    model.load_state_dict({k[len("model."):]: v for k, v in state["state_dict"].items() if k.startswith("model.")})
    return int(state.get("epoch", -1)) + 1


def train_run(cfg: ExperimentConfig, run_dir: Path, progress: bool = True, overwrite: bool = False,
              split: Split | None = None, corpus: PreparedCorpus | None = None) -> dict:
    """Train and evaluate one model; write everything into `run_dir`.

    Args:
        split: the train / val / test ids to use (a cross-validation fold); by default the
            holdout split that `cfg.data` describes.
        corpus: an already prepared corpus (cross-validation prepares it once for all folds).

    Returns:
        The test metrics (empty dict when `data.test_size=0` trains on all data).
    """
    import lightning as L

    from specser.training.augment import time_shift_frames
    from specser.training.fit import fit
    from specser.training.module import EmotionClassifier

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_run_folder(run_dir, cfg, overwrite)
    started = time.time()
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    corpus = corpus or prepare_corpus(cfg, progress)
    cfg.save(run_dir / "config.yaml")
    write_manifest_csv(corpus.manifest, run_dir / "manifest.csv")
    atomic_write_json(run_dir / "skipped.json", [{"path": p, "reason": r} for p, r in corpus.skipped])

    if split is None:
        split = holdout_split(corpus.rows, cfg.data.test_size, cfg.data.val_size, cfg.seed, cfg.data.test_speakers)
    atomic_write_json(run_dir / "split.json", split.to_dict())
    labels = corpus.manifest.labels
    image_dir = default_cache_dir(cfg.data.cache_dir) / "images" if cfg.features.mode == "image" else None
    inputs = build_inputs({"train": split.train, "val": split.val, "test": split.test}, corpus.rows_by_id,
                          corpus.features, corpus.keys, labels, cfg.features, image_dir, progress=progress)

    options = {**cfg.model.options, "in_channels": inputs.in_channels, "num_classes": len(labels)}
    model = create_model(cfg.model.name, **options)
    n_params = count_parameters(model)
    print(f"model {cfg.model.name}: {n_params['total']:,} parameters ({n_params['trainable']:,} trainable)")

    ds = inputs.datasets
    device = pick_device(cfg.train.accelerator)
    if _data_on_device(cfg, device):
        for dataset in ds.values():
            if isinstance(dataset, LogMelDataset):
                dataset.to(device)
    wave_features = _augmented_training_set(cfg, inputs, corpus)
    train_loader = _loader(ds["train"], cfg.train.batch_size, True, cfg, cfg.seed)
    val_loader = _loader(ds["val"], cfg.train.eval_batch_size, False, cfg, cfg.seed) if "val" in ds else None
    grid = next(iter(_loader(ds["train"], 32, True, cfg, cfg.seed)))
    with torch.no_grad():  # the batch-grid plot shows what the network sees, augmentation included
        grid_x, grid_y = (wave_features(grid[0], grid[1]) if wave_features else grid[0]).cpu(), grid[-1].cpu()

    class_weights = None
    if cfg.train.class_weights:
        counts = torch.bincount(ds["train"].targets.cpu(), minlength=len(labels)).float()
        class_weights = counts.sum() / (len(labels) * counts.clamp(min=1))
    module = EmotionClassifier(model, cfg.train, wave_features, class_weights,
                               time_shift_frames(cfg.features, cfg.train.augment.time_shift_s))
    trainer, best_ckpt = fit(module, train_loader, val_loader, run_dir, progress)
    if trainer.interrupted:
        raise TrainingInterrupted(f"training was interrupted; run the same command again to resume from {run_dir}/checkpoints/last.ckpt")
    if not trainer.is_global_zero:
        return {}
    best_epoch = _load_best_weights(model, best_ckpt)
    log = plots.read_epoch_log(run_dir / "logs" / "metrics.csv")

    metrics: dict = {}
    if "test" in ds and cfg.train.tta_crops > 1 and inputs.mean is not None:
        probs = crop_tta_probabilities(model, [corpus.features[r.utt_id] for r in inputs.rows["test"]], inputs.mean,
                                       inputs.std, cfg.features.clip_frames, cfg.train.tta_crops, device)
        targets = ds["test"].targets.cpu().numpy()
    elif "test" in ds:
        probs, targets = loader_probabilities(model, _loader(ds["test"], cfg.train.eval_batch_size, False, cfg, 0), device,
                                              cfg.train.channels_last)
    if "test" in ds:
        metrics = compute_metrics(inputs.rows["test"], targets, probs, labels)
    model.to("cpu", memory_format=torch.contiguous_format)

    from specser.features.logmel import mel_filterbank

    save_artifact(
        run_dir / "model.specser", model, cfg.model.name, config_dict(cfg.model.name, **options), labels,
        cfg.features,
        None if inputs.mean is None else torch.from_numpy(inputs.mean),
        None if inputs.std is None else torch.from_numpy(inputs.std),
        torch.from_numpy(mel_filterbank(cfg.features)),
        extra={"protocol": split.protocol, "test_accuracy": metrics.get("accuracy"), "tta_crops": cfg.train.tta_crops},
    )

    plot_files = ["training_curves.png", "lr_vs_val_loss.png", "spectrogram_batch.png"]
    plots.plot_training_curves(log, run_dir / plot_files[0])
    plots.plot_lr_vs_val_loss(log, run_dir / plot_files[1])
    plots.plot_batch_grid(_grid_images(grid_x, cfg.features.mode), grid_y.tolist(), labels, run_dir / plot_files[2])
    if metrics:
        plots.plot_confusion(metrics["confusion_matrix"], labels, run_dir / "confusion_matrix.png")
        plot_files.append("confusion_matrix.png")

    train_speakers = {corpus.rows_by_id[i].speaker for i in split.train + split.val}
    test_speakers = {corpus.rows_by_id[i].speaker for i in split.test}
    summary = {
        "run_name": run_dir.name, "preset": cfg.preset, "data_path": str(corpus.data_path), "corpus": corpus.manifest.corpus,
        "label_set": cfg.data.label_set if corpus.manifest.corpus == "ravdess" else "as found",
        "protocol": split.protocol, "n_train": len(split.train), "n_val": len(split.val), "n_test": len(split.test),
        "n_skipped": len(corpus.skipped), "mode": cfg.features.mode, "model_name": cfg.model.name,
        "parameters": n_params["total"], "epochs": trainer.current_epoch, "best_epoch": best_epoch,
        "wall_time_s": time.time() - started, "device": device,
        "n_speakers": len(train_speakers | test_speakers), "shared_speakers": len(train_speakers & test_speakers),
    }
    write_report(run_dir / "report.md", render_report(summary, metrics or None, plot_files))
    atomic_write_json(run_dir / "metrics.json", {**metrics, "run": summary, "history": log})
    return metrics
