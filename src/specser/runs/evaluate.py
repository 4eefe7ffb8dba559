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


PROFILES_NOTE = ("> **With voice profiles.** Each speaker's model was adapted to {clips} of their clips drawn at random "
                 "(a voice profile: BatchNorm statistics, the trained ones counted as {prior:g} clips; `--profiles`), "
                 "without their labels; the figures are on the speaker's other {n} clips. The same model as trained "
                 "scores {base} on those clips.{left_out}")


def unfamiliar_share(metrics: dict, scores: np.ndarray, threshold: float) -> dict:
    """How many files the `unfamiliar` warning would flag, and how accurate the flagged and the other files are;
    each per-file prediction gets its `unfamiliar` flag. Evaluating on another corpus, this says how much of it
    the model finds unlike its training clips (`specser.inference.familiarity`)."""
    flagged = scores > threshold
    for row, flag in zip(metrics["predictions"], flagged):
        row["unfamiliar"] = bool(flag)
    correct = np.array([row["predicted"] == row["label"] for row in metrics["predictions"]])

    def accuracy(mask: np.ndarray) -> float | None:
        return float(correct[mask].mean()) if mask.any() else None

    return {"threshold": float(threshold), "flagged": float(flagged.mean()), "n_flagged": int(flagged.sum()),
            "accuracy_flagged": accuracy(flagged), "accuracy_unflagged": accuracy(~flagged)}


def unfamiliar_line(figures: dict) -> str:
    def share(x):
        return "no files" if x is None else f"{100 * x:.1f} %"

    return (f"The `unfamiliar` warning flags {figures['n_flagged']} of these files ({share(figures['flagged'])}): "
            f"accuracy {share(figures['accuracy_flagged'])} on them, {share(figures['accuracy_unflagged'])} on the "
            "others. It says a recording is unlike the training clips, not that its label is wrong.")


def evaluate_run(run_dir: Path, data: Path | None = None, out: Path | None = None,
                 all_files: bool = False, progress: bool = True, tta_crops: int | None = None,
                 adapt: bool = False, profiles: int = 0) -> dict:
    """Evaluate the run's model; write metrics.json, report.md, a confusion and a reliability plot into `out`.

    Args:
        run_dir: the training run folder.
        data: corpus to evaluate on (default: the run's own).
        all_files: use every file of `data` rather than the saved test split.
        tta_crops: average the predictions of this many clip windows per file (native pad_crop
            models); None uses the number the model was trained with.
        adapt: first adapt the model to the evaluated clips, without their labels
            (`specser.inference.adapt`); the report says so.
        profiles: instead, give each speaker a voice profile made from this many of their clips (drawn
            at random, seed 0) and evaluate on their other clips, beside the model as trained on them.
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
    device = cfg.train.accelerator
    if profiles:
        if mf.features.speaker_norm:
            raise ValueError("--profiles does not take a features.speaker_norm model yet (its evaluation features are "
                             "normalised by each speaker's statistics over all of their clips)")
        probs, kept, baseline, left_out = profile_probabilities(mf, features, [r.speaker for r in rows], profiles, device,
                                                                tta_crops)
        rows, features = [rows[i] for i in kept], [features[i] for i in kept]
    if adapt:
        from specser.inference.adapt import adapt_to_logmels

        mf = adapt_to_logmels(mf, features, device=device)
    predictor = Predictor(mf, device=device, tta_crops=tta_crops)
    targets = np.array([mf.labels.index(r.label) for r in rows])
    scores = None
    if not profiles:
        probs, scores = predictor.feature_outputs(features)
    metrics = compute_metrics(rows, targets, probs, mf.labels)
    if scores is not None and predictor.familiarity_threshold is not None:
        metrics["unfamiliar"] = unfamiliar_share(metrics, scores, predictor.familiarity_threshold)
    if adapt:
        metrics["adapted"] = mf.extra["adapted"]
    if profiles:
        from specser.inference.adapt import PRIOR

        as_trained = compute_metrics(rows, targets, baseline, mf.labels)
        metrics["profiles"] = {"clips": profiles, "prior": PRIOR, "left_out_speakers": left_out,
                               "as_trained_on_the_same_clips": {k: as_trained[k] for k in ("accuracy", "uar", "macro_f1")}}

    out = Path(out) if out else folder / "evaluation"
    plots.plot_confusion(metrics["confusion_matrix"], mf.labels, out / "confusion_matrix.png")
    plots.plot_reliability(metrics["calibration"], out / "reliability.png")
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_text(out / "report.md", "\n".join([
        f"# Evaluation of {run_dir}", "",
        f"Data: `{corpus.data_path}`, {'all files' if all_files else 'the run test split'} ({metrics['n']} files), "
        f"{predictor.tta_crops} test-time crop(s) per file.", "",
        *([ADAPTED_NOTE.format(n=len(features)), ""] if adapt else []),
        *([_profiles_note(metrics), ""] if profiles else []),
        "| accuracy (WA) | UA | macro F1 |", "|---|---|---|",
        f"| {pct(metrics['accuracy'])} | {pct(metrics['uar'])} | {pct(metrics['macro_f1'])} |", "",
        *calibration_lines(metrics["calibration"], "## How far to trust its probabilities"), "",
        *([unfamiliar_line(metrics["unfamiliar"]), ""] if "unfamiliar" in metrics else []),
        "![confusion matrix](confusion_matrix.png)", "", "![reliability](reliability.png)", ""]))
    return metrics


def profile_probabilities(model_file: ModelFile, features: list, speakers: list[str], clips: int, device: str,
                          tta_crops: int | None = None, seed: int = 0) -> tuple[np.ndarray, list[int], np.ndarray, list[str]]:
    """Per speaker, a voice profile from `clips` of their log-Mels drawn at random (`specser.inference.adapt`,
    with its prior) labels their other clips. Returns those clips' probabilities with the profiles, their
    indices, their probabilities as trained, and the speakers left out for having `clips` clips or fewer."""
    from specser.inference.adapt import PRIOR, adapt_to_logmels

    rng = np.random.default_rng(seed)
    speakers = np.array(speakers)
    base = Predictor(model_file, device=device, tta_crops=tta_crops)
    kept, probs, baseline, left_out = [], [], [], []
    for speaker in sorted(set(speakers)):
        own = np.flatnonzero(speakers == speaker)
        if len(own) <= clips:
            left_out.append(str(speaker))
            continue
        drawn = rng.choice(own, clips, replace=False)
        rest = [int(i) for i in np.setdiff1d(own, drawn)]
        adapted = adapt_to_logmels(model_file, [features[i] for i in drawn], seed=seed, device=device, min_inputs=1,
                                   prior=PRIOR)
        probs.append(Predictor(adapted, device=device, tta_crops=tta_crops).feature_probabilities([features[i] for i in rest]))
        baseline.append(base.feature_probabilities([features[i] for i in rest]))
        kept += rest
    if not kept:
        raise ValueError(f"no speaker has more than {clips} clips: nothing is left to evaluate beside the profiles")
    return np.concatenate(probs), kept, np.concatenate(baseline), left_out


def _profiles_note(metrics: dict) -> str:
    info = metrics["profiles"]
    left = info["left_out_speakers"]
    return PROFILES_NOTE.format(clips=info["clips"], prior=info["prior"], n=metrics["n"],
                                base=pct(info["as_trained_on_the_same_clips"]["accuracy"]),
                                left_out=f" Left out, with {info['clips']} clips or fewer: {', '.join(left)}." if left else "")
