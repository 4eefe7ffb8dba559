"""Which epoch should be the model: the best by validation loss, or the last (a fixed budget)?

    python benchmarks/selection.py RUN_DIR [RUN_DIR ...] [--out benchmarks/results/selection.json]

Every finished run keeps two checkpoints: `best.ckpt` (lowest validation loss, what `model.specser`
holds under `train.selection=best`) and `last.ckpt` (the final epoch, what `train.selection=last`
keeps). This scores both on the run's own test files, with the run's front-end and statistics, so the
two rules are compared on the same trainings at no training cost. Run it from the folder the runs were
trained in: `metrics.json` records the test files' paths as they were given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.audio.load import load_audio  # noqa: E402
from specser.inference.model_file import ModelFile  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402
from specser.runs.train import checkpoint_network  # noqa: E402


def score(run: Path) -> dict:
    mf = ModelFile.load(run / "model.specser")
    metrics = json.loads((run / "metrics.json").read_text())
    rows = metrics["predictions"]
    waves = [load_audio(r["path"], mf.features.sample_rate) for r in rows]
    speakers = [r.get("speaker", "") for r in rows]
    targets = np.array([mf.labels.index(r["label"]) for r in rows])
    record = {"run": str(run), "n": len(rows), "reported_accuracy": metrics["accuracy"]}
    for rule in ("best", "last"):
        weights, epoch = checkpoint_network(run / "checkpoints" / f"{rule}.ckpt")
        predicted = Predictor(dataclasses.replace(mf, state_dict=weights), device="cpu").probabilities_by_speaker(waves, speakers).argmax(axis=1)
        record[rule] = {"epoch": epoch, "accuracy": float(np.mean(predicted == targets))}
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "selection.json")
    args = parser.parse_args()
    records = []
    for run in args.runs:
        r = score(run)
        records.append(r)
        print(f"{run}: best epoch {r['best']['epoch']} {100 * r['best']['accuracy']:.1f} %, "
              f"last epoch {r['last']['epoch']} {100 * r['last']['accuracy']:.1f} % (n={r['n']})", flush=True)
    gaps = [r["last"]["accuracy"] - r["best"]["accuracy"] for r in records]
    summary = {"mean_last_minus_best": float(np.mean(gaps)), "last_better": sum(g > 0 for g in gaps),
               "equal": sum(g == 0 for g in gaps), "best_better": sum(g < 0 for g in gaps)}
    print(f"last - best: {100 * summary['mean_last_minus_best']:+.2f} points on average; last better in "
          f"{summary['last_better']}, equal in {summary['equal']}, best better in {summary['best_better']} runs")
    write_result({"machine": describe(), "runs": records, "summary": summary}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
