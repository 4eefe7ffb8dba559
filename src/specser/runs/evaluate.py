"""Re-evaluate a finished run from its model.specser, on its saved test split or a whole corpus.

It takes the same path as the run's own evaluation and `specser predict`: cached log-Mels
into the `Predictor`, with the model's test-time crops unless told otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from specser.atomic import atomic_write_json, atomic_write_text
from specser.config import load_config
from specser.evaluation import plots
from specser.evaluation.metrics import compute_metrics
from specser.evaluation.report import calibration_lines, pct
from specser.features.prepare import prepare_corpus
from specser.inference.model_file import ModelFile
from specser.inference.predictor import Predictor
from specser.runs.folder import RunFolder


ADAPTED_NOTE = ("> **Adapted to these clips.** The model's BatchNorm statistics were measured on the {n} evaluated "
                "clips, without their labels (`--adapt`, as `specser adapt` does). The test audio shaped the model: keep "
                "this figure in a row of its own, beside the unadapted one.")


def evaluate_run(run_dir: Path, data: Path | None = None, out: Path | None = None,
                 all_files: bool = False, progress: bool = True, tta_crops: int | None = None,
                 adapt: bool = False) -> dict:
    """Evaluate the run's model; write metrics.json, report.md, a confusion and a reliability plot into `out`.

    Args:
        run_dir: the training run folder.
        data: corpus to evaluate on (default: the run's own).
        all_files: use every file of `data` rather than the saved test split.
        tta_crops: average the predictions of this many clip windows per file (native pad_crop
            models); None uses the number the model was trained with.
        adapt: first adapt the model to the evaluated clips, without their labels
            (`specser.inference.adapt`); the report says so.
    """
    folder = RunFolder(run_dir)
    if not (folder / "config.yaml").is_file():
        raise FileNotFoundError(f"{run_dir}: not a run folder (no config.yaml)")
    mf = ModelFile.load(folder / "model.specser")
    cfg = load_config(folder / "config.yaml", [f"data.path={data}"] if data is not None else [])
    cfg.features = mf.features
    if all_files:  # folder/CSV corpora keep only the model's labels; RAVDESS uses its label set
        cfg.data.labels = list(mf.labels)
    corpus = prepare_corpus(cfg, progress)
    if all_files:
        ids = [r.utt_id for r in corpus.rows if r.label in mf.labels]
    else:
        ids = folder.read_json("split.json")["test"]
        missing = [i for i in ids if i not in corpus.rows_by_id]
        if missing:
            raise ValueError(f"{len(missing)} test files of the run are not in {corpus.data_path} "
                             f"(e.g. {missing[0]}); pass --all to evaluate a different corpus")
    if not ids:
        raise ValueError("nothing to evaluate: the run has no test split (pass --all)")
    if tta_crops and tta_crops > 1 and (mf.mean is None or mf.features.length_mode != "pad_crop"):
        raise ValueError("test-time crops need a native-mode model with features.length_mode=pad_crop")
    rows = [corpus.rows_by_id[i] for i in ids]
    unknown = sorted({r.label for r in rows} - set(mf.labels))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the model's labels {mf.labels}")
    features = [corpus.features[i] for i in ids]
    if adapt:
        from specser.inference.adapt import adapt_to_logmels

        mf = adapt_to_logmels(mf, features, device=cfg.train.accelerator)
    predictor = Predictor(mf, device=cfg.train.accelerator, tta_crops=tta_crops)
    probs = predictor.feature_probabilities(features)
    metrics = compute_metrics(rows, np.array([mf.labels.index(r.label) for r in rows]), probs, mf.labels)
    if adapt:
        metrics["adapted"] = mf.extra["adapted"]

    out = Path(out) if out else folder / "evaluation"
    plots.plot_confusion(metrics["confusion_matrix"], mf.labels, out / "confusion_matrix.png")
    plots.plot_reliability(metrics["calibration"], out / "reliability.png")
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_text(out / "report.md", "\n".join([
        f"# Evaluation of {run_dir}", "",
        f"Data: `{corpus.data_path}`, {'all files' if all_files else 'the run test split'} ({metrics['n']} files), "
        f"{predictor.tta_crops} test-time crop(s) per file.", "",
        *([ADAPTED_NOTE.format(n=len(features)), ""] if adapt else []),
        "| accuracy (WA) | UA | macro F1 |", "|---|---|---|",
        f"| {pct(metrics['accuracy'])} | {pct(metrics['uar'])} | {pct(metrics['macro_f1'])} |", "",
        *calibration_lines(metrics["calibration"], "## How far to trust its probabilities"), "",
        "![confusion matrix](confusion_matrix.png)", "", "![reliability](reliability.png)", ""]))
    return metrics
