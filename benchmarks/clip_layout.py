"""Is the corpus gap partly the clips' layout? A diagnostic, not a rule: nothing here is adopted.

RAVDESS clips last about 3.6 s with about a second of silence before the speech; nEMO clips about 2.4 s,
cut close to the speech. In a 4 s input a nEMO clip is mostly speech then 1.6 s of padding, a RAVDESS clip
silence, speech, a little padding. A RAVDESS model calls half of nEMO "sad" (docs/results.md, "Cross-corpus").
This measures each model's accuracy and its share of "sad" on both corpora when each clip is laid out the other
corpus's way: its silence trimmed to 0.1 s either side, or a second of silence put before it.

    python benchmarks/clip_layout.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 --nemo-clips 1500

RAVDESS: each run's own test clips (the development actors); nEMO: a fixed random draw of its clips.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import predicted_labels  # noqa: E402
from machine import describe, write_result  # noqa: E402

from specser.audio.checks import trim_silence  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402
from specser.corpus.manifest import load_manifest  # noqa: E402
from specser.inference.model_file import ModelFile  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402
from specser.runs.folder import RunFolder  # noqa: E402


def layouts(sample_rate: int) -> dict:
    """name -> a function of a waveform: the clip laid out another way."""
    second = np.zeros(sample_rate, dtype=np.float32)
    return {"as it is": lambda w: w,
            "speech only (0.1 s either side)": lambda w: trim_silence(w, sample_rate, 0.1, 0.1),
            "1 s of silence before": lambda w: np.concatenate([second, w]),
            "speech only, then 1 s of silence before": lambda w: np.concatenate([second, trim_silence(w, sample_rate, 0.1, 0.1)])}


def measure(predictor: Predictor, clips: list[tuple[np.ndarray, str]]) -> dict:
    out = {}
    for name, layout in layouts(predictor.sample_rate).items():
        waves = [layout(w) for w, _ in clips]
        predicted = predicted_labels(predictor, waves)
        counts = Counter(predicted)
        out[name] = {"accuracy": float(np.mean([p == t for p, (_, t) in zip(predicted, clips)])),
                     "sad_share": counts["sad"] / len(predicted), "predicted": dict(counts),
                     "mean_seconds": float(np.mean([w.size for w in waves]) / predictor.sample_rate)}
        print(f"  {name}: accuracy {100 * out[name]['accuracy']:.1f} %, 'sad' {100 * out[name]['sad_share']:.1f} %, "
              f"mean length {out[name]['mean_seconds']:.2f} s", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="runs trained on RAVDESS with a held-out test split")
    parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))
    parser.add_argument("--nemo-clips", type=int, default=1500, help="nEMO clips drawn (seed 0); 0: all")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "clip_layout.json")
    args = parser.parse_args()
    rows = load_manifest(args.nemo).rows
    if args.nemo_clips:
        rows = [rows[i] for i in sorted(np.random.default_rng(0).choice(len(rows), args.nemo_clips, replace=False))]
    record = {"machine": describe(), "nemo_clips": len(rows), "runs": {}}
    nemo_waves = None
    for run in args.runs:
        predictor = Predictor(ModelFile.load(run / "model.specser"), device="cpu")
        if nemo_waves is None:
            nemo_waves = [(load_audio(r.path, predictor.sample_rate, name=r.path), r.label) for r in rows]
        tests = RunFolder(run).read_json("metrics.json")["predictions"]
        ravdess = [(load_audio(r["path"], predictor.sample_rate, name=r["path"]), r["label"]) for r in tests]
        print(f"{run}, RAVDESS ({len(ravdess)} test clips):", flush=True)
        on_ravdess = measure(predictor, ravdess)
        print(f"{run}, nEMO ({len(nemo_waves)} clips):", flush=True)
        record["runs"][str(run)] = {"ravdess": on_ravdess, "nemo": measure(predictor, nemo_waves)}
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
