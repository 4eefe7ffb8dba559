"""One training run, end to end, into a self-contained run folder, as five named steps.

    prepare   corpus -> split -> inputs; writes config.yaml, manifest.csv, split.json
    build     the registered network for the corpus's labels
    fit       Lightning fit (resuming from last.ckpt), then the best weights
    evaluate  the test split through the `Predictor`, the same path `specser predict` takes
    write     model.specser, plots, report.md, and metrics.json last (it marks the run finished)

`train_run` runs them in order; cross-validation and the benchmarks call the same steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader

from specser.config import ConfigError, ExperimentConfig
from specser.corpus.manifest import Utterance
from specser.data.datasets import LogMelDataset, RandomCropDataset, WaveDataset, collate_for
from specser.data.inputs import Inputs, build_inputs, load_waves
from specser.data.splits import Split, holdout_split, with_extra_train
from specser.evaluation.metrics import compute_metrics
from specser.evaluation.summaries import RunSummary
from specser.features.prepare import PreparedCorpus, prepare_corpus
from specser.inference.device import pick_device
from specser.inference.model_file import ModelFile
from specser.paths import default_cache_dir
from specser.runs.folder import RunFolder, RunFolderError  # noqa: F401  (part of this module's API)
from specser.training.interrupt import TrainingInterrupted  # noqa: F401  (part of this module's API)


@dataclass
class TrainingData:
    """What the `prepare` step hands on: the corpus, the split and the train / val inputs."""

    corpus: PreparedCorpus
    split: Split
    inputs: Inputs
    labels: list[str]

    @property
    def test_rows(self) -> list[Utterance]:
        return [self.corpus.rows_by_id[i] for i in self.split.test]


@dataclass
class Fitted:
    """What the `fit` step hands on."""

    model: torch.nn.Module  # the best weights, on the CPU
    epochs: int
    best_epoch: int
    log: dict
    grid: tuple[torch.Tensor, torch.Tensor]  # one training batch as the network saw it, for the plot
    device: str
    precision: str  # Lightning's, as resolved


def check_encoder_recipe(cfg: ExperimentConfig) -> None:
    """`features.mode=encoder` trains a head on fixed encoder layers: spectrogram-shaped options cannot apply."""
    if cfg.features.mode != "encoder":
        return
    aug, problems = cfg.train.augment, []
    if cfg.model.name != "encoder_head":
        problems.append("model.name=encoder_head")
    if aug.audio_domain or aug.random_crop or aug.time_shift_s > 0:
        problems.append("no audio-domain augmentation, random crops or time shifts (train.augment)")
    if cfg.train.specaugment.enabled:
        problems.append("train.specaugment.enabled=false")
    if aug.freq_mixstyle_prob > 0:
        problems.append("train.augment.freq_mixstyle_prob=0")
    if cfg.features.speaker_norm:
        problems.append("features.speaker_norm=false")
    if cfg.train.finetune.enabled and aug.mixup_alpha > 0:
        problems.append("train.augment.mixup_alpha=0 when fine-tuning")
    if problems:
        raise ConfigError("features.mode=encoder needs " + "; ".join(problems) + " (the `encoder` preset has them)")


def prepare(cfg: ExperimentConfig, folder: RunFolder, progress: bool = True, corpus: PreparedCorpus | None = None,
            split: Split | None = None) -> TrainingData:
    """Corpus (prepared here unless given), split (`cfg.data`'s holdout unless given) and train / val inputs."""
    check_encoder_recipe(cfg)
    corpus = corpus or prepare_corpus(cfg, progress)
    folder.write_start(cfg, corpus)
    if split is None:
        split = with_extra_train(holdout_split(corpus.main_rows, cfg.data.test_size, cfg.data.val_size, cfg.seed,
                                               cfg.data.test_speakers, cfg.data.val_split), corpus.extra_train)
    folder.write_json("split.json", split.to_dict())
    labels = corpus.manifest.labels
    image_dir = default_cache_dir(cfg.data.cache_dir) / "images" if cfg.features.mode == "image" else None
    inputs = build_inputs({"train": split.train, "val": split.val}, corpus.rows_by_id, corpus.features, corpus.keys,
                          labels, cfg.features, image_dir, progress=progress, waveforms=_fine_tuned(cfg))
    return TrainingData(corpus, split, inputs, labels)


def network(cfg: ExperimentConfig, data: TrainingData) -> tuple[str, dict]:
    """The registered network's name and options for these inputs and labels: `cfg.model`, or when
    fine-tuning, the encoder and `cfg.model`'s head as one `encoder_classifier`."""
    if _fine_tuned(cfg):
        from specser.encoders.pretrained import classifier_options

        return "encoder_classifier", classifier_options(cfg.features.encoder, cfg.model.options, len(data.labels),
                                                        cfg.train.finetune.gradient_checkpointing)
    dim = {"input_dim": data.inputs.input_dim} if data.inputs.input_dim is not None else {}
    return cfg.model.name, {**cfg.model.options, "in_channels": data.inputs.in_channels,
                            "num_classes": len(data.labels), **dim}


def build(cfg: ExperimentConfig, net: tuple[str, dict]) -> torch.nn.Module:
    """The registered network `net` (`network`: name, options), a fine-tuned encoder starting from its
    pretrained weights, or another run's network (`train.init_from`); prints its size."""
    from specser.models import count_parameters, create_model

    name, options = net
    if name == "encoder_classifier":
        from specser.encoders.pretrained import pretrained_classifier

        model = pretrained_classifier(cfg.features.encoder, options)
        if cfg.train.finetune.freeze_feature_encoder:
            model.freeze_feature_encoder()
    else:
        model = create_model(name, **options)
    if cfg.train.init_from:
        from specser.training.warm_start import warm_start

        warm_start(model, name, cfg.features, cfg.train.init_from)
    n = count_parameters(model)
    print(f"model {name}: {n['total']:,} parameters ({n['trainable']:,} trainable)")
    return model


def corpus_balanced_sampler(rows, seed: int):
    """Draws training examples so that each corpus supplies the same share of every epoch (with
    replacement; as many draws as examples): a 1,000-clip corpus beside a 4,500-clip one is not
    drowned out. None when the rows come from one corpus."""
    corpora = [r.metadata.get("corpus", "") for r in rows]
    counts = {c: corpora.count(c) for c in set(corpora)}
    if len(counts) < 2:
        return None
    weights = torch.tensor([1.0 / counts[c] for c in corpora], dtype=torch.double)
    return torch.utils.data.WeightedRandomSampler(weights, len(rows), replacement=True,
                                                  generator=torch.Generator().manual_seed(seed))


def _loader(dataset, batch_size: int, shuffle: bool, cfg: ExperimentConfig, sampler=None) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
                      num_workers=cfg.train.num_workers,
                      collate_fn=collate_for(cfg.features), generator=torch.Generator().manual_seed(cfg.seed),
                      persistent_workers=cfg.train.num_workers > 0)


def _data_on_device(cfg: ExperimentConfig, device: str) -> bool:
    """Hold the features on the GPU: by default only for a single-GPU run (DDP ranks each own one)."""
    if cfg.train.data_on_device is not None:
        return cfg.train.data_on_device
    t = cfg.train
    single = t.num_nodes == 1 and (t.devices == "1" or (t.devices == "auto" and torch.cuda.device_count() == 1))
    return device == "cuda" and single


def _augmented_training_set(cfg: ExperimentConfig, data: TrainingData):
    """Swap in the training set that the augmentation needs; returns the `WaveFeatures` for audio-domain
    augmentation, else None. Validation and test sets are never touched."""
    aug, inputs = cfg.train.augment, data.inputs
    if not (aug.audio_domain or aug.random_crop):
        return None
    if cfg.features.mode != "native" or cfg.features.length_mode != "pad_crop":
        raise ConfigError("train.augment: random crops and audio-domain augmentation need features.mode=native "
                          "and features.length_mode=pad_crop")
    rows, targets = inputs.rows["train"], inputs.datasets["train"].targets
    if not aug.audio_domain:
        inputs.datasets["train"] = RandomCropDataset([data.corpus.features[r.utt_id] for r in rows], targets,
                                                     inputs.mean, inputs.std, cfg.features.clip_frames)
        return None
    from specser.features.logmel import mel_filterbank
    from specser.training.augment import WaveFeatures

    stats = [data.corpus.speaker_stats[r.speaker] for r in rows] if cfg.features.speaker_norm else None
    inputs.datasets["train"] = WaveDataset(load_waves(rows, cfg.features.sample_rate, cfg.data.max_duration_s), targets,
                                           stats)
    return WaveFeatures(cfg.features, aug, aug.random_crop, torch.from_numpy(mel_filterbank(cfg.features)),
                        torch.from_numpy(inputs.mean), torch.from_numpy(inputs.std))


def _class_weights(cfg: ExperimentConfig, data: TrainingData) -> torch.Tensor | None:
    if not cfg.train.class_weights:
        return None
    counts = torch.bincount(data.inputs.datasets["train"].targets.cpu(), minlength=len(data.labels)).float()
    return counts.sum() / (len(data.labels) * counts.clamp(min=1))


def fit(cfg: ExperimentConfig, data: TrainingData, model: torch.nn.Module, folder: RunFolder,
        progress: bool = True, callbacks: Sequence = ()) -> Fitted | None:
    """Train with Lightning (resuming from `last.ckpt`), with `callbacks` beside the usual ones; None on a
    DDP rank other than 0.

    Raises:
        TrainingInterrupted: stopped by Ctrl-C or SIGTERM; the same command resumes.
    """
    from specser.evaluation.plots import read_epoch_log
    from specser.training.augment import time_shift_frames
    from specser.training.distill import load_teachers
    from specser.training.fit import fit as lightning_fit
    from specser.training.module import EmotionClassifier

    ds, device = data.inputs.datasets, pick_device(cfg.train.accelerator).type
    if _data_on_device(cfg, device):
        for dataset in ds.values():
            if isinstance(dataset, LogMelDataset):
                dataset.to(device)
    wave_features = _augmented_training_set(cfg, data)
    grid = next(iter(_loader(ds["train"], 32, True, cfg)))
    with torch.no_grad():  # the batch-grid plot shows what the network sees, augmentation included
        grid_x = (wave_features(*grid[:-1]) if wave_features else grid[0]).cpu()
    inputs = data.inputs
    teachers = load_teachers(cfg.train.distill, cfg.features, data.labels, inputs.mean, inputs.std,
                             frozenset(data.split.test))
    module = EmotionClassifier(model, cfg.train, wave_features, _class_weights(cfg, data),
                               time_shift_frames(cfg.features, cfg.train.augment.time_shift_s), teachers)
    val_loader = _loader(ds["val"], cfg.train.eval_batch_size, False, cfg) if "val" in ds else None
    sampler = corpus_balanced_sampler(data.inputs.rows["train"], cfg.seed) if cfg.train.balance_corpora else None
    trainer, best_ckpt = lightning_fit(module, _loader(ds["train"], cfg.train.batch_size, True, cfg, sampler),
                                       val_loader, folder.path, progress, callbacks)
    if not trainer.is_global_zero:
        return None
    weights, model_epoch = checkpoint_network(best_ckpt)
    model.load_state_dict(weights)
    model.to("cpu", memory_format=torch.contiguous_format)
    return Fitted(model, trainer.current_epoch, model_epoch,
                  read_epoch_log(folder / "logs" / "metrics.csv"), (grid_x, grid[-1].cpu()), device,
                  str(trainer.precision))


def checkpoint_network(ckpt: Path) -> tuple[dict[str, torch.Tensor], int]:
    """The network's weights in a Lightning checkpoint of `EmotionClassifier` (its `model.` entries, the
    averaged ones under weight averaging), and the checkpoint's epoch, counted from 1."""
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    weights = {k[len("model."):]: v for k, v in state["state_dict"].items() if k.startswith("model.")}
    return weights, int(state.get("epoch", -1)) + 1


def model_file(cfg: ExperimentConfig, data: TrainingData, model: torch.nn.Module,
               net: tuple[str, dict]) -> ModelFile:
    """The trained network as a `ModelFile`, with its front-end, labels and training statistics."""
    from specser.features.logmel import mel_filterbank
    from specser.models.registry import config_dict

    inputs = data.inputs
    name, options = net
    return ModelFile.from_model(
        model, name, config_dict(name, **options), data.labels, cfg.features,
        torch.from_numpy(mel_filterbank(cfg.features)),
        None if inputs.mean is None else torch.from_numpy(inputs.mean),
        None if inputs.std is None else torch.from_numpy(inputs.std),
        tta_crops=cfg.train.tta_crops, time_views=tuple(cfg.train.tta_time_views), protocol=data.split.protocol)


def with_familiarity(mf: ModelFile, data: TrainingData, device: str = "cpu") -> ModelFile:
    """`mf` with the statistics that let inference warn of an unfamiliar recording
    (`specser.inference.familiarity`), from the run's training and validation clips (`familiar_to`)."""
    rows, features = data.inputs.rows, data.corpus.features
    return familiar_to(mf, [features[r.utt_id] for r in rows["train"]], [r.label for r in rows["train"]],
                       [features[r.utt_id] for r in rows.get("val", [])], device)


def familiar_to(mf: ModelFile, train: list, labels: list[str], validation: list, device: str = "cpu") -> ModelFile:
    """`mf` with familiarity statistics fitted to the embeddings of the `train` log-Mels (their class `labels`),
    the threshold set on the `validation` log-Mels'. A network without an embedding (an encoder head), an
    image-mode model, or fewer validation clips than a threshold needs: `mf` as it is."""
    from specser.inference.familiarity import MIN_CLIPS, fit_familiarity, supports_familiarity
    from specser.inference.predictor import Predictor

    if mf.features.mode != "native" or len(validation) < MIN_CLIPS:
        return mf
    predictor = Predictor(mf, device=device)
    if not supports_familiarity(predictor.model):
        return mf
    targets = np.array([mf.labels.index(label) for label in labels])
    return mf.with_familiarity(fit_familiarity(predictor.feature_embeddings(train), targets,
                                               predictor.feature_embeddings(validation)))


def evaluate(mf: ModelFile, data: TrainingData, device: str = "cpu") -> dict:
    """Test metrics through the `Predictor` (the path `specser predict` takes), or {} with no test split."""
    from specser.inference.predictor import Predictor

    rows = data.test_rows
    if not rows:
        return {}
    probs = Predictor(mf, device=device).feature_probabilities([data.corpus.features[r.utt_id] for r in rows])
    index = {label: i for i, label in enumerate(data.labels)}
    return compute_metrics(rows, np.array([index[r.label] for r in rows]), probs, data.labels)


def summarize(cfg: ExperimentConfig, data: TrainingData, folder: RunFolder, fitted: Fitted, started: float) -> RunSummary:
    corpus, split = data.corpus, data.split

    def speakers(ids: list[str]) -> set[str]:
        return {corpus.rows_by_id[i].speaker for i in ids}

    train_speakers = speakers(split.train + split.val)
    test_speakers = speakers(split.test)
    val_accuracy = fitted.log.get("val_acc", {}).get(fitted.best_epoch - 1)
    return RunSummary(
        run_name=folder.path.name, preset=cfg.preset, data_path=str(corpus.data_path), corpus=corpus.manifest.corpus,
        label_set=cfg.data.label_set if corpus.manifest.corpus == "ravdess" else "as found", protocol=split.protocol,
        n_train=len(split.train), n_val=len(split.val), n_test=len(split.test), n_skipped=len(corpus.skipped),
        mode=_mode(cfg), model_name="encoder_classifier" if _fine_tuned(cfg) else cfg.model.name,
        parameters=sum(p.numel() for p in fitted.model.parameters()), epochs=fitted.epochs,
        best_epoch=fitted.best_epoch, wall_time_s=time.time() - started, device=fitted.device,
        n_speakers=len(train_speakers | test_speakers), shared_speakers=len(train_speakers & test_speakers),
        speaker_norm=cfg.features.speaker_norm,
        val_accuracy=None if val_accuracy is None else float(val_accuracy),
        val_by_speaker=bool(split.val) and not speakers(split.val) & speakers(split.train),
        precision=fitted.precision)


def _fine_tuned(cfg: ExperimentConfig) -> bool:
    return cfg.features.mode == "encoder" and cfg.train.finetune.enabled


def _mode(cfg: ExperimentConfig) -> str:
    """The feature mode as the report names it, with a fine-tuned encoder's schedule."""
    if not _fine_tuned(cfg):
        return cfg.features.mode
    ft = cfg.train.finetune
    return (f"encoder `{cfg.features.encoder}`, fine-tuned from epoch {ft.unfreeze_after_epochs + 1} at LR "
            f"{ft.encoder_lr:g} (the head alone before)")


def write(folder: RunFolder, cfg: ExperimentConfig, mf: ModelFile, fitted: Fitted, metrics: dict,
          summary: RunSummary) -> None:
    """model.specser, plots and report.md, then metrics.json (last: it marks the run finished)."""
    from specser.evaluation import plots
    from specser.evaluation.report import render_report, write_report

    mf.test_accuracy = metrics.get("accuracy")
    mf.save(folder / "model.specser")
    files = ["training_curves.png", "lr_vs_val_loss.png"]
    plots.plot_training_curves(fitted.log, folder / files[0])
    plots.plot_lr_vs_val_loss(fitted.log, folder / files[1])
    if cfg.features.mode == "encoder":  # what the network sees is the encoder's layers: show how it weighs them
        files.append("layer_weights.png")
        plots.plot_layer_weights(fitted.model.layer_weights().detach().tolist(), cfg.features.encoder, folder / files[-1])
    else:
        files.append("spectrogram_batch.png")
        grid_x, grid_y = fitted.grid
        plots.plot_batch_grid(plots.grid_images(grid_x, cfg.features.mode), grid_y.tolist(), mf.labels, folder / files[-1])
    if metrics:
        plots.plot_confusion(metrics["confusion_matrix"], mf.labels, folder / "confusion_matrix.png")
        plots.plot_reliability(metrics["calibration"], folder / "reliability.png")
        files += ["confusion_matrix.png", "reliability.png"]
    write_report(folder / "report.md", render_report(summary, metrics or None, files))
    folder.write_json("metrics.json", {**metrics, "run": summary.to_dict(), "history": fitted.log})


def train_run(cfg: ExperimentConfig, run_dir: Path, progress: bool = True, overwrite: bool = False,
              split: Split | None = None, corpus: PreparedCorpus | None = None, callbacks: Sequence = ()) -> dict:
    """Train and evaluate one model; write everything into `run_dir`.

    Args:
        split: the train / val / test ids to use (a cross-validation fold); by default the
            holdout split that `cfg.data` describes.
        corpus: an already prepared corpus (cross-validation prepares it once for all folds).
        callbacks: further Lightning callbacks (a fold worker's `FollowThreadShare`).

    Returns:
        The test metrics (empty dict when `data.test_size=0` trains on all data, and on DDP ranks
        other than 0).
    """
    import lightning as L

    folder = RunFolder(run_dir).open(cfg, overwrite)
    started = time.time()
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    data = prepare(cfg, folder, progress, corpus, split)
    net = network(cfg, data)  # once: an encoder's options read its config files
    fitted = fit(cfg, data, build(cfg, net), folder, progress, callbacks)
    if fitted is None:
        return {}
    mf = with_familiarity(model_file(cfg, data, fitted.model, net), data, fitted.device)
    metrics = evaluate(mf, data, fitted.device)
    write(folder, cfg, mf, fitted, metrics, summarize(cfg, data, folder, fitted, started))
    return metrics
