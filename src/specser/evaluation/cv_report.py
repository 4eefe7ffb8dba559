"""report.md for a cross-validation: the paper's Table 2 layout, with mean ± std over folds."""

from __future__ import annotations

from specser.evaluation.cross_corpus import matrix_lines
from specser.evaluation.cv_summary import top_confusions
from specser.evaluation.summaries import CVSummary, Stat
from specser.references import PAPER_TABLE2, reference_figures
from specser.evaluation.report import (SPEAKER_NORM_NOTE, confusion_table, corpus_table, intensity_table, pct,
                                       plots_section, validation_kind)

PROTOCOL_NOTES = {
    "random-5fold": "stratified 5-fold over files: every speaker is in train and test, so this figure is "
                    "**speaker-dependent** (optimistic). Put `actor-5fold` beside it.",
    "actor-5fold": "stratified 5-fold grouped by speaker: no speaker is in both train and test (**speaker-independent**).",
    "emobox": "the EmoBox fixed RAVDESS folds (6 folds x 4 test actors): **speaker-independent**, comparable with "
              "the EmoBox leaderboard (8 classes).",
    "loso": "leave one speaker out: **speaker-independent**, the strictest protocol.",
    "loco": "leave one corpus out: train on the other corpora, test on this one (**cross-corpus**).",
}


def pm(stat: Stat) -> str:
    return f"{100 * stat.mean:.1f} ± {100 * stat.std:.1f} %"


def render_cv_report(summary: CVSummary, plot_files: list[str]) -> str:
    run = summary.run
    labels = summary.labels
    lines = [
        f"# specser cross-validation: {run.run_name}", "",
        "| item | value |", "|---|---|",
        f"| model | {run.model} |",
        f"| protocol | **{run.protocol}**, {run.n_folds} folds: {PROTOCOL_NOTES.get(run.protocol, '')} |",
        f"| corpus | `{run.data_path}` ({run.corpus}, label set `{run.label_set}`), {run.n_files} files, "
        f"{run.n_skipped} skipped |",
        f"| preset / seed | `{run.preset}` / {run.seed} |",
        f"| wall time | {run.fold_wall_time_s:.0f} s summed over folds |",
        "",
        *([SPEAKER_NORM_NOTE, ""] if run.speaker_norm else []),
        "## Summary (mean ± std over folds, sample std)", "",
        "| metric | ours | published reference |", "|---|---|---|",
    ]
    refs = reference_figures(run.model, run.protocol)
    for key, name in (("accuracy", "accuracy (WA)"), ("uar", "UA (balanced accuracy)"), ("macro_f1", "macro F1")):
        lines.append(f"| {name} | {pm(getattr(summary, key))} | {refs.get(key, 'not reported')} |")
    lines += [
        "",
        "## Per class (the paper's Table 2 layout)", "",
        "| class | F1 | precision | recall | support | paper F1 / P / R |", "|---|---|---|---|---|---|",
    ]
    for label in labels:
        paper = PAPER_TABLE2.get(label) if run.model.startswith("Spec-ResNet") else None
        paper_text = " / ".join(f"{v} %" for v in paper) if paper else "not reported"
        lines.append(f"| {label} | {pm(summary.f1_per_class[label])} | {pm(summary.precision_per_class[label])} | "
                     f"{pm(summary.recall_per_class[label])} | {summary.pooled['per_class'][label]['support']} | {paper_text} |")
    lines.append(f"| **average accuracy** | {pm(summary.accuracy)} | | | {sum(summary.n_test_per_fold)} | 92 % |")
    lines += ["", "## Per fold", "",
              "| fold | test speakers | test files | WA | UA | macro F1 | validation WA | epochs (best) | wall time |",
              "|---|---|---|---|---|---|---|---|---|"]
    for i, fold in enumerate(run.folds):
        speakers = ", ".join(fold.test_speakers) if len(fold.test_speakers) <= 6 else f"{len(fold.test_speakers)} speakers"
        epochs = f"{fold.epochs} ({fold.best_epoch})" if fold.epochs is not None else "n/a"
        wall = f"{fold.wall_time_s:.0f} s" if fold.wall_time_s is not None else "n/a"
        val = pct(fold.val_accuracy) if fold.val_accuracy is not None else "n/a"
        lines.append(f"| {fold.fold} | {speakers} | {fold.n_test} | {pct(summary.accuracy.per_fold[i])} | "
                     f"{pct(summary.uar.per_fold[i])} | {pct(summary.macro_f1.per_fold[i])} | {val} | {epochs} | {wall} |")
    lines += validation_gap_lines(run.folds, summary.accuracy.per_fold)
    params = [(fold.fold, fold.params) for fold in run.folds if fold.params]
    if params:
        lines += ["", "Hyper-parameters chosen by inner cross-validation on each fold's training part: "
                  + "; ".join(f"fold {k}: " + ", ".join(f"{n.split('__')[-1]}={v}" for n, v in p.items()) for k, p in params) + "."]
    lines += [""] + matrix_lines(summary)
    lines += ["## Confusion matrix, summed over folds (rows: true, columns: predicted)", ""]
    lines += confusion_table(summary.confusion_matrix, labels)
    confusions = top_confusions(summary.confusion_matrix, labels)
    if confusions:
        lines += ["", "Most frequent confusions (the paper names sad→neutral, surprised→angry, neutral→surprised): "
                  + "; ".join(f"{t}→{p} {n} ({100 * share:.0f} % of {t})" for t, p, n, share in confusions) + "."]
    lines += intensity_table(summary.accuracy_by_intensity, "## Accuracy by intensity (pooled over folds)")
    lines += corpus_table(summary.by_corpus, "## By corpus (pooled over folds)")
    lines += calibration_over_folds_lines(summary)
    lines.append("")
    lines += plots_section(plot_files)
    lines += ["Each fold's own run folder (`fold_NN/`) holds its report, per-file predictions and model. "
              "The fold assignment is in `folds.json`; all figures in `cv_summary.json`.", ""]
    return "\n".join(lines)


def validation_gap_lines(folds: list, test_accuracy: list[float]) -> list[str]:
    """How far validation ran above the test, on average: a validation that shares the training
    speakers runs above a speaker-independent test and picks epochs for the wrong reason."""
    pairs = [(f.val_accuracy, acc, f.val_by_speaker) for f, acc in zip(folds, test_accuracy) if f.val_accuracy is not None]
    if not pairs:
        return []
    gap = 100 * sum(v - t for v, t, _ in pairs) / len(pairs)
    kinds = {by for _, _, by in pairs}
    how = validation_kind(kinds.pop()) if len(kinds) == 1 else "drawn both ways"
    side = "above" if gap >= 0 else "below"
    return ["", f"Validation WA at the chosen epoch ran {abs(gap):.1f} points {side} the test WA on average, over "
                f"{len(pairs)} folds (validation: {how}; `data.val_split`)."]


def calibration_over_folds_lines(summary: CVSummary) -> list[str]:
    """How far the fold models' probabilities can be trusted on their test folds, mean ± std over folds."""
    c = summary.calibration
    if "ece" not in c:
        return []
    wrong = f", {pm(c['confidence_when_wrong'])} when wrong" if "confidence_when_wrong" in c else ""
    if "confidence_auroc" in c:
        a = c["confidence_auroc"]
        wrong += f"; it tells right labels from wrong with an AUROC of {a.mean:.2f} ± {a.std:.2f} (0.5: not at all)"
    return ["", "## How far to trust its probabilities (mean ± std over folds)", "",
            f"Mean top probability {pm(c['mean_confidence'])} against WA {pm(summary.accuracy)}{wrong}; "
            f"expected calibration error (ECE) {pm(c['ece'])}. Each fold's `report.md` and `reliability.png` "
            "say which way its probabilities err."]
