"""Is an ensemble of finished runs better than its members? Issue 13 asks whether a student distilled from one
would pay; this measures the teachers first, from the runs' own per-file predictions (nothing is recomputed).

    python benchmarks/ensemble_runs.py runs/devab/label-smoothing-s42 runs/devab/label-smoothing-s7 ... \
        [--on nemo] --out benchmarks/results/ablation_dev/ensemble.json

Every run must have predicted the same files: their test split (`metrics.json`), or with `--on nemo` their
`specser evaluate --out RUN/nemo` of another corpus. The ensemble is the mean of the members' probabilities.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402


def probabilities(metrics: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(file ids, probabilities (files, labels), true label indices) of one run's predictions, by file id."""
    predictions = sorted(json.loads(metrics.read_text())["predictions"], key=lambda p: p["utt_id"])
    labels = list(predictions[0]["probabilities"])
    probs = np.array([[p["probabilities"][name] for name in labels] for p in predictions])
    return [p["utt_id"] for p in predictions], probs, np.array([labels.index(p["label"]) for p in predictions])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--on", default="", help="a sub-folder of each run with its own metrics.json (e.g. nemo)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    members, ids, targets, stacked = {}, None, None, []
    for run in args.runs:
        run_ids, probs, y = probabilities(run / args.on / "metrics.json")
        if ids is not None and run_ids != ids:
            parser.error(f"{run} predicted other files than {args.runs[0]}")
        ids, targets = run_ids, y
        members[str(run)] = float(np.mean(probs.argmax(1) == y))
        stacked.append(probs)
        print(f"{run}: {100 * members[str(run)]:.1f} %")
    ensemble = float(np.mean(np.mean(stacked, axis=0).argmax(1) == targets))
    mean_member, best_member = float(np.mean(list(members.values()))), max(members.values())
    print(f"{len(members)} members: mean {100 * mean_member:.1f} %, best {100 * best_member:.1f} %; "
          f"ensemble {100 * ensemble:.1f} % ({len(targets)} files)")
    write_result({"machine": describe(), "on": args.on or "test split", "n": len(targets), "members": members,
                  "mean_member": mean_member, "best_member": best_member, "ensemble": ensemble}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
