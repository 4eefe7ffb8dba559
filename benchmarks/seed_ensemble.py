"""A seed ensemble measured on a CV's own test folds: CVs of one recipe with other training seeds and the same
folds (`--set cv.fold_seed=42`), each fold's test clips labelled by the mean of the fold models' probabilities.
The probabilities are the CVs' own per-file predictions (`fold_NN/metrics.json`), so the ensemble is evaluated
exactly as each member was.

    python benchmarks/seed_ensemble.py runs/cv-robust-actor5-xeon runs/cv-robust-actor5-xeon-s7 \\
        --out benchmarks/results/seed_ensemble_actor5fold.json
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

from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score  # noqa: E402


def fold_predictions(cv: Path) -> dict[str, dict]:
    """{fold folder name: {path: (label, probabilities)}} of a finished CV."""
    out = {}
    for fold in sorted(cv.glob("fold_*")):
        rows = json.loads((fold / "metrics.json").read_text())["predictions"]
        out[fold.name] = {r["path"]: (r["label"], r["probabilities"]) for r in rows}
    return out


def scores(labels: list[str], truth: list[str], probabilities: np.ndarray) -> dict:
    """WA, UA and macro-F1, as the CV summaries compute them."""
    predicted = [labels[i] for i in probabilities.argmax(axis=1)]
    return {"accuracy": float(accuracy_score(truth, predicted)), "uar": float(balanced_accuracy_score(truth, predicted)),
            "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cvs", nargs="+", type=Path, help="finished CV folders with the same folds")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "seed_ensemble_actor5fold.json")
    args = parser.parse_args()
    folds = [json.loads((cv / "folds.json").read_text())["folds"] for cv in args.cvs]
    if any(f != folds[0] for f in folds):
        raise SystemExit("the CVs do not share their folds (run them with the same --set cv.fold_seed)")
    members = [fold_predictions(cv) for cv in args.cvs]
    per_fold = {}
    for name in members[0]:
        paths = sorted(members[0][name])
        labels = list(members[0][name][paths[0]][1])
        truth = [members[0][name][p][0] for p in paths]
        probs = [np.array([[m[name][p][1][label] for label in labels] for p in paths]) for m in members]
        per_fold[name] = {"members": [scores(labels, truth, p) for p in probs],
                          "ensemble": scores(labels, truth, np.mean(probs, axis=0)), "clips": len(paths)}
        print(name, "members", [f"{100 * m['accuracy']:.1f}" for m in per_fold[name]["members"]],
              f"ensemble {100 * per_fold[name]['ensemble']['accuracy']:.1f} %", flush=True)
    summary = {}
    for key in ("accuracy", "uar", "macro_f1"):
        ensemble = [f["ensemble"][key] for f in per_fold.values()]
        member_means = [np.mean([f["members"][i][key] for f in per_fold.values()]) for i in range(len(members))]
        summary[key] = {"ensemble_mean": float(np.mean(ensemble)), "ensemble_std": float(np.std(ensemble, ddof=1)),
                        "member_means": [float(x) for x in member_means]}
    print({k: {n: (round(100 * v, 1) if isinstance(v, float) else [round(100 * x, 1) for x in v])
               for n, v in s.items()} for k, s in summary.items()})
    write_result({"machine": describe(), "cvs": [str(c) for c in args.cvs], "per_fold": per_fold,
                  "summary": summary}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
