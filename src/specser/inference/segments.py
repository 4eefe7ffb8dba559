"""Sliding windows over a long recording."""

from __future__ import annotations

import numpy as np


def sliding_windows(wave: np.ndarray, sample_rate: int, window_s: float, hop_s: float) -> list[tuple[float, float, np.ndarray]]:
    """(start_s, end_s, samples) windows covering the whole recording.

    Windows start every `hop_s`; the last one is moved back to end at the recording's end,
    so no tail is dropped and no window is mostly padding.
    """
    n, win, hop = wave.size, int(round(window_s * sample_rate)), int(round(hop_s * sample_rate))
    if n <= win:
        return [(0.0, n / sample_rate, wave)]
    starts = list(range(0, n - win + 1, hop))
    if starts[-1] + win < n:
        starts.append(n - win)
    return [(s / sample_rate, (s + win) / sample_rate, wave[s : s + win]) for s in starts]


def label_runs(timeline: list) -> list[tuple[float, float, str | None]]:
    """Consecutive windows (`Segment`s) with the same label merged into (start_s, end_s, label) runs.

    Windows overlap, so a run ends where the next run's first window starts (the last run at its
    window's end); windows without speech (label None) make runs of their own: gaps."""
    runs: list[list] = []
    for i, seg in enumerate(timeline):
        end = timeline[i + 1].start_s if i + 1 < len(timeline) else seg.end_s
        if runs and runs[-1][2] == seg.label:
            runs[-1][1] = end
        else:
            runs.append([seg.start_s, end, seg.label])
    return [tuple(r) for r in runs]
