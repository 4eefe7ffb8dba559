"""A long recording's timeline as PNG: the winning label per window, and the probabilities over time."""

from __future__ import annotations

from pathlib import Path

from specser.inference.results import Prediction


def plot_timeline(prediction: Prediction, labels: list[str], path: Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from specser.atomic import atomic_path

    segments = prediction.timeline
    colors = {label: plt.get_cmap("tab10")(i % 10) for i, label in enumerate(labels)}
    fig, (ax_bar, ax_prob) = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True, gridspec_kw={"height_ratios": [1, 3]})
    for i, seg in enumerate(segments):  # windows overlap: draw each from its start to the next one's
        end = segments[i + 1].start_s if i + 1 < len(segments) else seg.end_s
        if seg.label is not None:  # windows without speech stay a gap
            ax_bar.axvspan(seg.start_s, end, color=colors[seg.label], alpha=0.35, lw=0)
    for start, end, label in _runs(segments):
        if label is not None:
            ax_bar.text((start + end) / 2, 0.5, label, ha="center", va="center", fontsize=8)
    ax_bar.set(yticks=[], title=title or f"overall: {prediction.label}")
    centres = [(s.start_s + s.end_s) / 2 for s in segments]
    for label in labels:
        ax_prob.plot(centres, [s.probabilities[label] if s.probabilities else float("nan") for s in segments],
                     marker="o", ms=3, color=colors[label], label=label)
    ax_prob.set(xlabel="time (s)", ylabel="probability", ylim=(0, 1), xlim=(0, prediction.duration_s))
    ax_prob.grid(alpha=0.3)
    ax_prob.legend(fontsize=7, ncol=4, loc="upper right")
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def _runs(segments):
    """Consecutive windows with the same label, merged: (start, end, label)."""
    runs: list[list] = []
    for seg in segments:
        if runs and runs[-1][2] == seg.label:
            runs[-1][1] = seg.end_s
        else:
            runs.append([seg.start_s, seg.end_s, seg.label])
    return [tuple(r) for r in runs]
