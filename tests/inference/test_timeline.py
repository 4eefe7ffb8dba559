"""Long-recording timelines: windows merge into label runs; the PNG stays readable for 10-minute files."""

import numpy as np

from specser.inference.results import Prediction, Segment
from specser.inference.segments import label_runs
from specser.inference.timeline_plot import plot_timeline

LABELS = ["neutral", "happy", "sad", "angry", "fearful", "surprised"]


def _window(start, label, hop=2.0):
    probs = None if label is None else {l: (0.9 if l == label else 0.02) for l in LABELS}
    return Segment(start, start + 2 * hop, label, probs, "ok" if label else "no_speech")


def test_label_runs_merge_same_label_windows_and_keep_gaps():
    timeline = [_window(t, l) for t, l in [(0, "sad"), (2, "sad"), (4, None), (6, "angry"), (8, "angry"), (10, "sad")]]
    assert label_runs(timeline) == [(0, 4, "sad"), (4, 6, None), (6, 10, "angry"), (10, 14, "sad")]
    assert label_runs([]) == []


def test_ten_minute_timeline_plot(tmp_path):
    rng = np.random.default_rng(0)
    labels = [LABELS[(t // 60) % 6] if rng.random() > 0.05 else None for t in range(0, 598, 2)]
    timeline = [_window(float(t), l) for t, l in zip(range(0, 598, 2), labels)]
    prediction = Prediction("sad", {l: 1 / 6 for l in LABELS}, 600.0, timeline)
    out = tmp_path / "long.png"
    plot_timeline(prediction, LABELS, out)
    assert out.stat().st_size > 10_000
    runs = [r for r in label_runs(timeline) if r[2] is not None]
    assert 10 <= len(runs) < len(timeline) / 4  # merged, not 299 stripes
