"""Can a recording's dropouts be repaired before it is labelled? Two repairs, measured on tuning clips only (the
development runs' training actors and every 15th nEMO clip, never the test actors), and neither kept.

A Bluetooth link or a USB stream that drops packets, or a call recorded without loss concealment, writes each
lost 20 ms as zeros (`specser.audio.degrade.dropouts`). Over all 24 actors they move the `robust` fold models'
labels (docs/results.md, "Dropouts"). A dropout differs from a pause in that the sound just before and just
after it are both loud (and, in an 8-bit file, span many of its steps, where the dead zone of quiet speech
does not); that finds them without a model. The repairs: cut each gap out and crossfade its sides (the
recording gets shorter), or fill it with its two sides mirrored into it (its length kept, no step at either
end).

    python benchmarks/dropouts.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 \
        --out benchmarks/results/real_voices/dropouts.json

Prints how many tuning clips the detector fires on, clean and under each condition, and for each run and
condition the labels kept with the clean clip's (per corpus), for the predictor as it is and with each repair
in front of its DC removal.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import predicted_labels, replaced  # noqa: E402
from machine import describe, write_result  # noqa: E402

import specser.inference.base as inference_base  # noqa: E402
from specser.audio.degrade import degrade_all  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402
from specser.corpus.manifest import load_manifest  # noqa: E402
from specser.inference.model_file import ModelFile  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402

CONDITIONS = ("dropouts, 5 % of 20 ms frames lost", "dropouts, 15 % of 20 ms frames lost", "8-bit")
DEV_TEST_ACTORS = ("02", "07", "13", "18")

ZERO_LEVEL = 1e-5  # a sample this close to zero is silence (-100 dBFS: under a 16-bit LSB; a resampled gap's core)
MIN_GAP_S = 0.002  # the shortest gap cut out (a USB frame is 1 ms, a Bluetooth voice packet 3.75-7.5 ms)
MAX_GAP_S = 0.5  # a longer silence is a pause or a mute, not a lost packet
EDGE_S = 0.005  # the sound just before and just after a gap: 5 ms each side
EDGE_UNDER_SPEECH_DB = 20.0  # both sides are at most this far under the recording's speech level
GRID_STEPS = 16  # ... and each side's peak spans this many of the recording's smallest steps (8 bits: 1/128)
FRAME_S = 0.010  # frames of the speech level
SPEECH_PERCENTILE = 90  # the speech level: this percentile of the frames' energies (as `specser.audio.knocks`)
CROSSFADE_S = 0.0025  # the two sides of a gap overlap this long, fading out and in


def _speech_level_db(wave: np.ndarray, sample_rate: int) -> float:
    frame = max(1, int(round(FRAME_S * sample_rate)))
    n = wave.size // frame
    if n == 0:
        return -np.inf
    power = np.mean(np.square(wave[: n * frame].reshape(n, frame), dtype=np.float64), axis=1)
    return float(10 * np.log10(np.percentile(power, SPEECH_PERCENTILE) + 1e-20))


def _silent_runs(wave: np.ndarray, shortest: int, longest: int) -> list[tuple[int, int]]:
    """(start, end) of each run of near-zero samples `shortest` to `longest` long."""
    silent = np.abs(wave) <= ZERO_LEVEL
    edges = np.flatnonzero(np.diff(np.concatenate([[False], silent, [False]]).astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    keep = (ends - starts >= shortest) & (ends - starts <= longest)
    return list(zip(starts[keep].tolist(), ends[keep].tolist()))


def find_dropouts(wave: np.ndarray, sample_rate: int) -> list[tuple[int, int]]:
    """The dropouts in `wave`: (first sample, end sample) of each, in order."""
    wave = np.asarray(wave)
    edge = max(1, int(round(EDGE_S * sample_rate)))
    runs = _silent_runs(wave, max(1, int(round(MIN_GAP_S * sample_rate))), int(round(MAX_GAP_S * sample_rate)))
    runs = [(a, b) for a, b in runs if a >= edge and b + edge <= wave.size]  # sound on both sides
    if not runs:
        return []
    floor = 10 ** ((_speech_level_db(wave, sample_rate) - EDGE_UNDER_SPEECH_DB) / 10)
    nonzero = np.abs(wave[wave != 0])
    least_peak = GRID_STEPS * float(nonzero.min()) if nonzero.size else np.inf

    def loud(segment: np.ndarray) -> bool:
        return (float(np.mean(np.square(segment, dtype=np.float64))) >= floor
                and float(np.max(np.abs(segment))) >= least_peak)

    return [(a, b) for a, b in runs if loud(wave[a - edge:a]) and loud(wave[b:b + edge])]


def remove_dropouts(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """`wave` with each dropout (`find_dropouts`) cut out and its sides crossfaded; `wave` itself when it has
    none."""
    gaps = find_dropouts(wave, sample_rate)
    if not gaps:
        return wave
    fade = max(1, int(round(CROSSFADE_S * sample_rate)))
    next_starts = [a for a, _ in gaps[1:]] + [wave.size]
    pieces, start = [], 0
    for (a, b), next_start in zip(gaps, next_starts):
        n = max(0, min(fade, a - start, next_start - b))  # as much of each side as the crossfade may take
        ramp = ((np.arange(n) + 0.5) / max(n, 1)).astype(wave.dtype)
        pieces += [wave[start:a - n], wave[a - n:a] * (1 - ramp) + wave[b:b + n] * ramp]
        start = b + n
    pieces.append(wave[start:])
    return np.concatenate(pieces)


def conceal_dropouts(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """`wave` with each dropout filled, its length kept: the gap's first half with the sound before it played
    backwards from the gap's start, its second half with the sound after it played backwards into the gap's
    end, crossfaded over 2.5 ms in the middle. Both ends join without a step."""
    gaps = find_dropouts(wave, sample_rate)
    if not gaps:
        return wave
    out = wave.copy()
    fade = max(1, int(round(CROSSFADE_S * sample_rate)))
    for a, b in gaps:
        length = b - a
        n = min(fade, length // 2)
        need = length - length // 2 + n  # samples each mirrored side must supply
        before = np.resize(wave[max(0, a - need):a][::-1], need)  # wave[a-1], wave[a-2], ...
        after = np.resize(wave[b:b + need], need)[::-1]  # ..., wave[b+1], wave[b]
        left = np.zeros(length, wave.dtype)
        left[:need] = before[:length]
        right = np.zeros(length, wave.dtype)
        right[length - need:] = after[-length:] if need > length else after
        k = np.arange(length)
        weight = np.clip((k - (length // 2 - n) + 0.5) / (2 * n), 0.0, 1.0).astype(wave.dtype)
        out[a:b] = left * (1 - weight) + right * weight
    return out


def with_repair(repair):
    """The predictors with `repair` in front of the DC removal of every recording's repairs."""
    product = inference_base.remove_dc
    return replaced(inference_base, "remove_dc", lambda wave: product(repair(wave, 16000)))


def tuning_clips(ravdess: Path, nemo: Path) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Every 8th six-emotion clip of the development runs' 20 training actors and every 15th nEMO clip, at 16
    kHz: (waves, speakers, corpus of each)."""
    ravdess_rows = [r for r in load_manifest(ravdess).rows if r.speaker not in DEV_TEST_ACTORS][::8]
    nemo_rows = load_manifest(nemo).rows[::15]
    tagged = [("ravdess", r) for r in ravdess_rows] + [("nemo", r) for r in nemo_rows]
    return ([load_audio(r.path, 16000) for _, r in tagged], [f"{c}-{r.speaker}" for c, r in tagged],
            [c for c, _ in tagged])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="development runs (each model labels the tuning clips)")
    parser.add_argument("--ravdess", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "dropouts.json")
    args = parser.parse_args()
    waves, speakers, corpora = tuning_clips(args.ravdess, args.nemo)
    corpora = np.array(corpora)
    degraded = {c: degrade_all(c, waves, speakers, 16000) for c in CONDITIONS}
    record = {"machine": describe(), "clips": {str(c): int(np.sum(corpora == c)) for c in sorted(set(corpora))},
              "fired": {"clean": sum(bool(find_dropouts(w, 16000)) for w in waves),
                        **{c: sum(bool(find_dropouts(w, 16000)) for w in d) for c, d in degraded.items()}},
              "runs": {}}
    print(f"{len(waves)} tuning clips; the detector fires on {record['fired']}")
    variants = {"as it is": nullcontext, "gaps cut out": lambda: with_repair(remove_dropouts),
                "gaps filled": lambda: with_repair(conceal_dropouts)}
    for run in args.runs:
        predictor = Predictor(ModelFile.load(run / "model.specser"), device="cpu")
        clean = np.array(predicted_labels(predictor, waves))
        record["runs"][str(run)] = {}
        for condition, audio in degraded.items():
            figures = {}
            for name, context in variants.items():
                with context():
                    kept = np.array(predicted_labels(predictor, audio)) == clean
                figures[name] = {str(c): 100 * float(kept[corpora == c].mean()) for c in sorted(set(corpora))}
            record["runs"][str(run)][condition] = figures
            print(run, condition, {n: {c: f"{v:.1f}" for c, v in f.items()} for n, f in figures.items()}, flush=True)
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
