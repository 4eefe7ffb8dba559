"""Does averaging each label over noisy copies of the recording raise accuracy on models and clips that
played no part in choosing it? The rule, written before the run: benchmarks/results/real_voices/
rule_views_accuracy.txt. The candidate is T3 of `noise_views.py` (the recording and two copies with pink
noise at 20 and 10 dB SNR, probabilities averaged), which raised clean accuracy by 2.0 points on the
development speakers, where the rule it was built for (agreement under recording conditions) failed.

    python benchmarks/views_accuracy.py --folds runs/cv-robust-e90-random --across runs/nemo-robust90 \\
        --out benchmarks/results/real_voices/views_accuracy.json

A: each fold model on its own test-fold clips, the development actors left out; B: a nEMO model on those
actors' RAVDESS clips; C: the fold models under the seven release conditions; D: the bundled model's time
for a 4 s clip. Each stage prints its figures as it ends.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import nullcontext
from functools import partial
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import mean_over, predicted_labels, speech_like_clip, variants  # noqa: E402
from machine import describe, write_result  # noqa: E402
from noise_views import CANDIDATES, with_views  # noqa: E402
from release_model import RELEASE_CONDITIONS  # noqa: E402

from specser.audio.load import load_audio  # noqa: E402
from specser.bundled import default_model  # noqa: E402
from specser.corpus.manifest import load_manifest  # noqa: E402
from specser.inference.model_file import ModelFile  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402
from specser.runs.folder import RunFolder  # noqa: E402

DEVELOPMENT_ACTORS = ("02", "07", "13", "18")  # looked at with views under rule_noise_views.txt
DEGRADED = [c for c in RELEASE_CONDITIONS if c != "clean"]
CONTEXTS = {"as it stands": nullcontext, "T3": partial(with_views, CANDIDATES["T3"])}


def accuracies(model: Path, clips: list[tuple[str, str]]) -> dict:
    """{context: accuracy} of `model` on the (path, label) clips with one of its labels, through the predictor,
    each clip decoded once."""
    predictor = Predictor(ModelFile.load(model), device="cpu")
    clips = [c for c in clips if c[1] in predictor.labels]
    waves = [load_audio(path, predictor.sample_rate, name=path) for path, _ in clips]
    out = {}
    for name, context in CONTEXTS.items():
        with context():
            predicted = predicted_labels(predictor, waves)
        out[name] = {"accuracy": float(np.mean([p == label for p, (_, label) in zip(predicted, clips)])),
                     "clips": len(clips)}
    return out


def fold_clips(fold: Path) -> list[tuple[str, str]]:
    """The fold's test clips (from its per-file predictions) of speakers other than the development actors."""
    rows = RunFolder(fold).read_json("metrics.json")["predictions"]
    return [(r["path"], r["label"]) for r in rows if r["speaker"] not in DEVELOPMENT_ACTORS]


def seconds_per_clip(model: Path, repeats: int = 20) -> dict:
    """{context: mean seconds} for the predictor on a 4 s speech-like clip (after three warm-up calls)."""
    predictor = Predictor(ModelFile.load(model), device="cpu")
    clip = 0.3 * speech_like_clip(predictor.sample_rate)
    out = {}
    for name, context in CONTEXTS.items():
        with context():
            for _ in range(3):
                predictor.predict_wave(clip)
            start = time.perf_counter()
            for _ in range(repeats):
                predictor.predict_wave(clip)
            out[name] = (time.perf_counter() - start) / repeats
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=Path, default=Path("runs/cv-robust-e90-random"), help="a CV run folder")
    parser.add_argument("--across", type=Path, default=Path("runs/nemo-robust90"), help="a run trained on nEMO")
    parser.add_argument("--ravdess", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the timing (D)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "views_accuracy.json")
    args = parser.parse_args()
    folds = sorted(p for p in args.folds.glob("fold_*") if (p / "model.specser").exists())
    torch.set_num_threads(1)

    in_folds = {f.name: accuracies(f / "model.specser", fold_clips(f)) for f in folds}
    change_a = {f: 100 * (r["T3"]["accuracy"] - r["as it stands"]["accuracy"]) for f, r in in_folds.items()}
    print("A, each fold on its own test clips (accuracy as it stands -> T3, %):",
          {f: f"{100 * r['as it stands']['accuracy']:.1f} -> {100 * r['T3']['accuracy']:.1f}" for f, r in in_folds.items()},
          f"mean change {np.mean(list(change_a.values())):+.2f}", flush=True)

    ravdess = [(r.path, r.label) for r in load_manifest(args.ravdess).rows if r.speaker not in DEVELOPMENT_ACTORS]
    across = accuracies(args.across / "model.specser", ravdess)
    change_b = 100 * (across["T3"]["accuracy"] - across["as it stands"]["accuracy"])
    print(f"B, nEMO -> RAVDESS: {100 * across['as it stands']['accuracy']:.1f} -> {100 * across['T3']['accuracy']:.1f} %"
          f" ({across['T3']['clips']} clips)", flush=True)

    conditions = variants(folds, DEGRADED, CONTEXTS)

    def change_c(key: str) -> float:
        return 100 * (mean_over(conditions["T3"], DEGRADED, key) - mean_over(conditions["as it stands"], DEGRADED, key))

    print(f"C, the release conditions: accuracy {change_c('accuracy'):+.2f}, agreement {change_c('agreement'):+.2f}"
          " points", flush=True)

    torch.set_num_threads(args.threads)
    timing = seconds_per_clip(default_model())
    print("D, the bundled model, a 4 s clip:", {k: f"{1000 * v:.1f} ms" for k, v in timing.items()}, flush=True)

    verdict = {"a_mean_fold_change": float(np.mean(list(change_a.values()))), "a_worst_fold_change": min(change_a.values()),
               "b_across_change": change_b, "c_accuracy_change": change_c("accuracy"),
               "c_agreement_change": change_c("agreement"), "d_ms_per_clip": 1000 * timing["T3"]}
    verdict["passes"] = bool(verdict["a_mean_fold_change"] >= 0.5 and verdict["a_worst_fold_change"] >= -1.0
                             and verdict["b_across_change"] >= -0.5 and verdict["c_accuracy_change"] >= -0.3
                             and verdict["c_agreement_change"] >= -0.5 and verdict["d_ms_per_clip"] <= 30.0)
    print("verdict:", {k: (round(v, 2) if isinstance(v, float) else v) for k, v in verdict.items()})
    write_result({"machine": describe(), "rule": "benchmarks/results/real_voices/rule_views_accuracy.txt",
                  "candidate": CANDIDATES["T3"], "development_actors_left_out": DEVELOPMENT_ACTORS,
                  "in_folds": in_folds, "fold_changes": change_a, "across": across,
                  "conditions": conditions, "seconds_per_clip": timing, "verdict": verdict}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
