"""The run's report.md: the paper's tables, our figures, the protocol stated plainly."""

from __future__ import annotations

from pathlib import Path

from specser.evaluation.summaries import RunSummary


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def confusion_table(cm: list[list[int]], labels: list[str]) -> list[str]:
    lines = ["| | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    return lines + [f"| **{label}** | " + " | ".join(str(v) for v in row) + " |" for label, row in zip(labels, cm)]


def corpus_table(by_corpus: dict, heading: str) -> list[str]:
    if not by_corpus:
        return []
    lines = ["", heading, "", "| corpus | WA | UA | files |", "|---|---|---|---|"]
    return lines + [f"| {k} | {pct(v['accuracy'])} | {pct(v['uar'])} | {v['n']} |" for k, v in by_corpus.items()]


def intensity_table(by_intensity: dict, heading: str) -> list[str]:
    if not by_intensity:
        return []
    lines = ["", heading, "", "| intensity | accuracy | files |", "|---|---|---|"]
    return lines + [f"| {k} | {pct(v['accuracy'])} | {v['n']} |" for k, v in by_intensity.items()]


def plots_section(files: list[str]) -> list[str]:
    return ["## Plots", ""] + [f"![{p}]({p})" for p in files] + [""] if files else []


SPEAKER_NORM_NOTE = (
    "> **Speaker-normalised.** Each clip was normalised by its speaker's statistics (`features.speaker_norm`), "
    "taken from all of that speaker's clips, the test speakers' included (unlabelled). A user who names "
    "a speaker's recordings (`specser predict --speaker-stats`) gets the same; keep this figure in a row "
    "of its own, beside runs without it.")


def render_report(summary: RunSummary, metrics: dict | None, plots: list[str]) -> str:
    """Markdown for a training run.

    Args:
        summary: run facts (protocol, counts, epochs, wall time, parameters, speakers overlap...).
        metrics: test metrics, or None when the run trained on all data.
        plots: PNG file names in the run folder.
    """
    lines = [f"# specser run: {summary.run_name}", ""]
    lines += [
        "| item | value |",
        "|---|---|",
        f"| corpus | `{summary.data_path}` ({summary.corpus}, label set `{summary.label_set}`) |",
        f"| protocol | **{summary.protocol}** |",
        f"| preset | `{summary.preset}` |",
        f"| files (train / val / test) | {summary.n_train} / {summary.n_val} / {summary.n_test} |",
        f"| skipped files | {summary.n_skipped} |",
        f"| feature mode | {summary.mode} |",
        f"| model | `{summary.model_name}`, {summary.parameters:,} parameters |",
        f"| epochs run | {summary.epochs} (model from epoch {summary.best_epoch}) |",
        *validation_row(summary.val_accuracy, summary.val_by_speaker),
        f"| wall time | {summary.wall_time_s:.0f} s on {summary.device}"
        f"{f' ({summary.precision})' if summary.precision else ''} |",
        "",
    ]
    if summary.shared_speakers and summary.n_test:
        lines += [
            f"> **Speaker overlap.** This split is not speaker-independent: {summary.shared_speakers} of "
            f"{summary.n_speakers} speakers appear in both train and test, so the figure below is "
            "speaker-dependent and optimistic. Run `specser train --test-speakers ...` for a "
            "speaker-independent figure, and put both side by side.",
            "",
        ]
    if summary.speaker_norm and summary.n_test:
        lines += [SPEAKER_NORM_NOTE, ""]
    if metrics is None:
        lines += ["No test set (trained on all data): no test figures.", ""]
    else:
        lines += [
            "## Test results",
            "",
            "| metric | ours | paper |",
            "|---|---|---|",
            f"| accuracy (WA) | {pct(metrics['accuracy'])} | 92 % (random split, protocol not stated) |",
            f"| UA (balanced accuracy) | {pct(metrics['uar'])} | not reported |",
            f"| macro F1 | {pct(metrics['macro_f1'])} | 92 % (\"macro\") |",
            f"| macro precision / recall | {pct(metrics['macro_precision'])} / {pct(metrics['macro_recall'])} | |",
            "",
            "### Per class",
            "",
            "| class | precision | recall | F1 | support |",
            "|---|---|---|---|---|",
        ]
        for label, m in metrics["per_class"].items():
            lines.append(f"| {label} | {pct(m['precision'])} | {pct(m['recall'])} | {pct(m['f1'])} | {m['support']} |")
        lines += ["", "### Confusion matrix (rows: true, columns: predicted)", ""]
        lines += confusion_table(metrics["confusion_matrix"], metrics["labels"])
        lines += intensity_table(metrics["accuracy_by_intensity"], "### Accuracy by intensity")
        lines += corpus_table(metrics.get("by_corpus") or {}, "### By corpus")
        lines += calibration_lines(metrics.get("calibration"), "### How far to trust its probabilities")
        lines.append("")
    lines += plots_section(plots)
    lines += ["Per-file predictions are in `metrics.json`; the resolved config in `config.yaml`.", ""]
    return "\n".join(lines)


def write_report(path: Path, text: str) -> None:
    from specser.atomic import atomic_write_text

    atomic_write_text(Path(path), text)


def validation_kind(by_speaker: bool | None) -> str:
    """How validation was drawn, as the run and CV reports say it."""
    return "whole speakers held out" if by_speaker else "clips of the training speakers"


def validation_row(val_accuracy: float | None, by_speaker: bool | None) -> list[str]:
    """The report's validation line: its accuracy at the chosen epoch and how it was drawn."""
    if val_accuracy is None:
        return []
    return [f"| validation accuracy (chosen epoch) | {100 * val_accuracy:.1f} % ({validation_kind(by_speaker)}) |"]


CALIBRATION_TOLERANCE = 0.02  # within 2 points, confidence and accuracy count as agreeing


def pct_or_na(x: float | None) -> str:
    return "n/a" if x is None else pct(x)


def verdict(figures: dict) -> str:
    """One sentence a reader can act on: which way the probabilities err, and by how much."""
    if not figures.get("n"):
        return "No clips: no calibration figures."
    gap = figures["mean_confidence"] - figures["accuracy"]
    if abs(gap) <= CALIBRATION_TOLERANCE:
        return (f"Well calibrated on these clips: its mean top probability ({100 * figures['mean_confidence']:.1f} %) "
                f"matches its accuracy ({100 * figures['accuracy']:.1f} %).")
    way, side, advice = (("over-confident", "higher", "read its probabilities as an upper bound") if gap > 0 else
                         ("under-confident", "lower", "its labels are right more often than its probabilities say"))
    return (f"{way.capitalize()} on these clips by {100 * abs(gap):.1f} points: its mean top probability "
            f"({100 * figures['mean_confidence']:.1f} %) is {side} than its accuracy ({100 * figures['accuracy']:.1f} %); "
            f"{advice}.")


def calibration_lines(figures: dict | None, heading: str) -> list[str]:
    """The report's calibration section: a table and the verdict."""
    if not figures or not figures.get("n"):
        return []
    auroc = "n/a" if figures.get("confidence_auroc") is None else f"{figures['confidence_auroc']:.2f}"
    return ["", heading, "",
            "| accuracy | mean top probability | ECE | top probability when right / wrong | right from wrong (AUROC) "
            "| NLL | Brier |",
            "|---|---|---|---|---|---|---|",
            f"| {pct(figures['accuracy'])} | {pct(figures['mean_confidence'])} | {pct(figures['ece'])} | "
            f"{pct_or_na(figures['confidence_when_right'])} / {pct_or_na(figures['confidence_when_wrong'])} | "
            f"{auroc} | {figures['nll']:.3f} | {figures['brier']:.3f} |",
            "", verdict(figures) + f" ECE over {figures['bins']} equal-width bins of top probability; "
            "`reliability.png` plots them."]
