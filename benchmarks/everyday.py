"""Which part of an everyday recording moves the labels: "a laptop across the room" (named "a laptop at arm's
length" until 2026-12-07: a room with RT60 0.4 s whose direct sound is 16 dB under its tail, pink noise 20 dB SNR, a microphone 3 dB an octave duller over 500 Hz, then Opus at a low bit rate; one of
`specser.audio.degrade.CONDITIONS`) taken apart. For each run's held-out clips: the labels kept under all four
parts, under all but one, and under each alone.

    python benchmarks/everyday.py --out OUT.json runs/cv-robust-actor5-xeon/fold_01 ...   # ~1 min a fold model

Prints each run's agreement per variant and writes OUT.json
(benchmarks/results/real_voices/everyday_decomposition.json: the five fold models, two processes side by side).
The whole conditions run through `python benchmarks/robustness.py RUN --conditions "..."`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from specser.audio.degrade import add_noise, codec, pink_noise, reverberate, tilt
from specser.runs.robustness import held_out_clips, predicted_labels

SR = 16000
PARTS = ("room", "noise", "dull", "opus")


def variant(parts: tuple[str, ...]):
    """The laptop condition's parts, in its order (the room, noise in the room, the microphone, the codec)."""
    def degrade(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = wave
        if "room" in parts:
            out = reverberate(out, SR, 0.4, rng)
        if "noise" in parts:
            out = add_noise(out, pink_noise(out.size, rng), 20.0)
        if "dull" in parts:
            out = tilt(out, SR, -3.0)
        if "opus" in parts:
            out = codec(out, SR)
        return out.astype(np.float32)
    return degrade


VARIANTS = {"all four": PARTS, **{f"without {p}": tuple(q for q in PARTS if q != p) for p in PARTS},
            **{f"{p} alone": (p,) for p in PARTS}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    out = {}
    for run in args.runs:
        predictor, rows, waves = held_out_clips(run)
        speakers = [r.speaker for r in rows]
        targets = np.array([predictor.labels.index(r.label) for r in rows])
        clean = predicted_labels(predictor, waves, speakers)
        result = {}
        for name, parts in VARIANTS.items():
            degrade = variant(parts)
            labels = predicted_labels(predictor, [degrade(w, np.random.default_rng(i)) for i, w in enumerate(waves)],
                                      speakers)
            result[name] = {"agreement": float(np.mean(labels == clean)), "accuracy": float(np.mean(labels == targets))}
        out[str(run)] = result
        print(run, {k: round(100 * v["agreement"], 1) for k, v in result.items()}, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
