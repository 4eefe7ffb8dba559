"""Re-evaluate a finished run from its model.specser, on its saved test split or a whole corpus."""

from __future__ import annotations

import json
from pathlib import Path

from torch.utils.data import DataLoader

from specser.inference.model_file import build_model, load_artifact
from specser.config import load_config
from specser.data.datasets import collate_for
from specser.data.inputs import build_inputs
from specser.evaluation import plots
from specser.evaluation.inference import crop_tta_probabilities, loader_probabilities, pick_device
from specser.evaluation.metrics import compute_metrics
from specser.evaluation.report import pct
from specser.atomic import atomic_write_json, atomic_write_text
from specser.paths import default_cache_dir
from specser.features.prepare import prepare_corpus


def evaluate_run(run_dir: Path, data: Path | None = None, out: Path | None = None,
                 all_files: bool = False, progress: bool = True, tta_crops: int = 1) -> dict:
    """Evaluate the run's model; write metrics.json, report.md and a confusion plot into `out`.

    Args:
        run_dir: the training run folder.
        data: corpus to evaluate on (default: the run's own).
        all_files: use every file of `data` rather than the saved test split.
        tta_crops: average the predictions of this many clip windows per file (native pad_crop models).
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise FileNotFoundError(f"{run_dir}: not a run folder (no config.yaml)")
    payload = load_artifact(run_dir / "model.specser")
    overrides = [f"data.path={data}"] if data is not None else []
    cfg = load_config(run_dir / "config.yaml", overrides)
    cfg.features = payload["feature_config"]
    if all_files:  # folder/CSV corpora keep only the model's labels; RAVDESS uses its label set
        cfg.data.labels = list(payload["labels"])
    corpus = prepare_corpus(cfg, progress)
    if all_files:
        ids = [r.utt_id for r in corpus.rows if r.label in payload["labels"]]
    else:
        split = json.loads((run_dir / "split.json").read_text())
        missing = [i for i in split["test"] if i not in corpus.rows_by_id]
        if missing:
            raise ValueError(f"{len(missing)} test files of the run are not in {corpus.data_path} "
                             f"(e.g. {missing[0]}); pass --all to evaluate a different corpus")
        ids = split["test"]
    if not ids:
        raise ValueError("nothing to evaluate: the run has no test split (pass --all)")
    norm = payload["normalization"]
    stats = None if norm is None else (norm["mean"].numpy(), norm["std"].numpy())
    image_dir = default_cache_dir(cfg.data.cache_dir) / "images"
    inputs = build_inputs({"test": ids}, corpus.rows_by_id, corpus.features, corpus.keys, payload["labels"],
                          cfg.features, image_dir, stats=stats)
    device = pick_device(cfg.train.accelerator)
    if tta_crops > 1:
        if stats is None or cfg.features.length_mode != "pad_crop":
            raise ValueError("test-time crops need a native-mode model with features.length_mode=pad_crop")
        probs = crop_tta_probabilities(build_model(payload), [corpus.features[i] for i in ids], stats[0], stats[1],
                                       cfg.features.clip_frames, tta_crops, device)
        targets = inputs.datasets["test"].targets.numpy()
    else:
        loader = DataLoader(inputs.datasets["test"], batch_size=cfg.train.eval_batch_size,
                            collate_fn=collate_for(cfg.features))
        probs, targets = loader_probabilities(build_model(payload), loader, device)
    metrics = compute_metrics(inputs.rows["test"], targets, probs, payload["labels"])

    out = Path(out) if out else run_dir / "evaluation"
    plots.plot_confusion(metrics["confusion_matrix"], payload["labels"], out / "confusion_matrix.png")
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_text(out / "report.md", "\n".join([
        f"# Evaluation of {run_dir}", "",
        f"Data: `{corpus.data_path}`, {'all files' if all_files else 'the run test split'} ({metrics['n']} files).", "",
        "| accuracy (WA) | UA | macro F1 |", "|---|---|---|",
        f"| {pct(metrics['accuracy'])} | {pct(metrics['uar'])} | {pct(metrics['macro_f1'])} |", "",
        "![confusion matrix](confusion_matrix.png)", ""]))
    return metrics
