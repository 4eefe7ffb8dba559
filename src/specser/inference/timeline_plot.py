"""A long recording's timeline as PNG: a strip of label runs, and the probabilities over time.

Readable from a 10-second clip to an hour: windows with the same label merge into runs, only runs
wide enough for their name are labelled (a legend names the colours), and the time axis switches
to minutes for long recordings.
"""

from __future__ import annotations

from pathlib import Path

from specser.inference.results import Prediction
from specser.inference.segments import label_runs

MIN_LABELLED_SHARE = 0.08  # a run narrower than this share of the axis gets no text: it would overlap


def plot_timeline(prediction: Prediction, labels: list[str], path: Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from specser.atomic import atomic_path

    segments, duration = prediction.timeline, prediction.duration_s
    minutes = duration > 180
    scale = 60.0 if minutes else 1.0
    colors = {label: plt.get_cmap("tab10")(i % 10) for i, label in enumerate(labels)}
    fig, (ax_bar, ax_prob) = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True, gridspec_kw={"height_ratios": [1, 3]})
    shown = []
    for start, end, label in label_runs(segments):
        if label is None:  # windows without speech stay a gap
            continue
        shown.append(label)
        ax_bar.axvspan(start / scale, end / scale, color=colors[label], alpha=0.45, lw=0)
        if (end - start) / duration >= MIN_LABELLED_SHARE:
            ax_bar.text((start + end) / 2 / scale, 0.5, label, ha="center", va="center", fontsize=8, clip_on=True)
    ax_bar.set(yticks=[], title=title or f"overall: {prediction.label}")
    ax_bar.legend(handles=[Patch(color=colors[l], alpha=0.45, label=l) for l in labels if l in shown],
                  fontsize=7, ncol=len(labels), loc="lower center", bbox_to_anchor=(0.5, 1.25), frameon=False)
    centres = [(s.start_s + s.end_s) / 2 / scale for s in segments]
    marker = "o" if len(segments) <= 60 else None
    for label in labels:
        ax_prob.plot(centres, [s.probabilities[label] if s.probabilities else float("nan") for s in segments],
                     marker=marker, ms=3, lw=1, color=colors[label], label=label)
    ax_prob.set(xlabel="time (min)" if minutes else "time (s)", ylabel="probability", ylim=(0, 1),
                xlim=(0, duration / scale))
    ax_prob.grid(alpha=0.3)
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
