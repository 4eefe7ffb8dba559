"""Where a speaker-normalised model's statistics come from, and what each source costs.

A `features.speaker_norm` run is evaluated with each test speaker's statistics taken from all of
that speaker's test clips. A user has fewer: a handful of their recordings (`specser predict
--speaker-stats`), or only the clip itself (the default). This measures the run's test accuracy
with each source:

    python benchmarks/speaker_stats.py runs/dev-spk [--others 10] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from specser.atomic import atomic_write_json
from specser.audio.load import load_audio
from specser.inference.predictor import Predictor

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--others", type=int, default=10, help="other clips of the same speaker to take statistics from")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "speaker_norm_stats_sources.json")
    args = parser.parse_args()
    rows = json.loads((args.run / "metrics.json").read_text())["predictions"]
    predictor = Predictor.from_file(args.run / "model.specser", device="cpu")
    if not predictor.features.speaker_norm:
        raise SystemExit(f"{args.run}: not a features.speaker_norm model")
    waves = [load_audio(r["path"], predictor.sample_rate) for r in rows]
    truth = np.array([predictor.labels.index(r["label"]) for r in rows])
    all_clips = predictor.probabilities_by_speaker(waves, [r["speaker"] for r in rows]).argmax(axis=1)
    own = predictor.probabilities(waves).argmax(axis=1)
    rng, few = np.random.default_rng(args.seed), []
    for i, row in enumerate(rows):
        same = [j for j, other in enumerate(rows) if other["speaker"] == row["speaker"] and j != i]
        predictor.set_speaker([waves[j] for j in rng.choice(same, min(args.others, len(same)), replace=False)])
        few.append(int(predictor.probabilities([waves[i]])[0].argmax()))
    result = {"run": str(args.run), "n": len(rows),
              "accuracy": {"all of the speaker's test clips (as evaluated)": float(np.mean(all_clips == truth)),
                           f"{args.others} other clips of the speaker (--speaker-stats)": float(np.mean(np.array(few) == truth)),
                           "the clip alone (no --speaker-stats)": float(np.mean(own == truth))}}
    for source, accuracy in result["accuracy"].items():
        print(f"{100 * accuracy:5.1f} %  statistics from {source}")
    atomic_write_json(args.out, result)


if __name__ == "__main__":
    main()
