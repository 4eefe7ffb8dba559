"""Does a change of the training recipe earn a place in `robust`? Clean accuracy on the development speakers,
RAVDESS -> nEMO, and the mean label agreement over every degraded condition, each against a threshold set by
the rule written before the runs:

    # benchmarks/results/real_voices/rule_freq_mixstyle.txt (the defaults)
    python benchmarks/recipe_change.py --base LS.json --candidate M.json --runs RUNS_DIR
    # benchmarks/results/ablation_dev/rule_ema.txt
    python benchmarks/recipe_change.py --base LS.json --candidate E.json --runs RUNS_DIR --min-clean 1.0 \
        --min-nemo -1.0 --out benchmarks/results/ablation_dev/ema.json

LS.json and the candidate's are `benchmarks/robustness.py` results on the same conditions, computed with
the same code, for the preset as it stands (label-smoothing-s42, -s7) and for the candidate (two seeds);
RUNS_DIR holds those run folders, whose `nemo/metrics.json` give the RAVDESS -> nEMO accuracy. Prints each
check and writes the verdict.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from condition_training import apply_rule, mean_over  # noqa: E402


def decide(base: dict, candidate: dict, nemo_base: list[float], nemo_candidate: list[float],
           min_clean: float = -1.0, min_nemo: float = 2.0, min_degraded: float = -1.0,
           min_condition: dict[str, float] | None = None) -> dict:
    """The candidate passes when each change (candidate - base, in points) is at least its minimum;
    `min_condition` adds minima for the agreement change of named conditions."""
    degraded = [c for c in next(iter(base.values())) if c != "clean"]

    def summary(runs: dict, nemo: list[float]) -> dict:
        return {"clean": mean_over(runs, "clean", "accuracy"), "nemo": float(np.mean(nemo)),
                "degraded_agreement": float(np.mean([mean_over(runs, c, "agreement") for c in degraded])),
                "degraded_accuracy": float(np.mean([mean_over(runs, c, "accuracy") for c in degraded])),
                "per_condition": {c: {m: mean_over(runs, c, m) for m in ("accuracy", "agreement")} for c in degraded}}

    b, c = summary(base, nemo_base), summary(candidate, nemo_candidate)
    checks = {"clean_accuracy_change": c["clean"] - b["clean"], "nemo_accuracy_change": c["nemo"] - b["nemo"],
              "degraded_agreement_change": c["degraded_agreement"] - b["degraded_agreement"]}
    passes = (checks["clean_accuracy_change"] >= min_clean and checks["nemo_accuracy_change"] >= min_nemo
              and checks["degraded_agreement_change"] >= min_degraded)
    for condition, least in (min_condition or {}).items():
        change = c["per_condition"][condition]["agreement"] - b["per_condition"][condition]["agreement"]
        checks[f"{condition} agreement_change"] = change
        passes = passes and change >= least
    return {**checks, "adopted": bool(passes), "means": {"base": b, "candidate": c},
            "thresholds": {"clean": min_clean, "nemo": min_nemo, "degraded_agreement": min_degraded,
                           "conditions": min_condition or {}},
            "nemo_per_seed": {"base": nemo_base, "candidate": nemo_candidate}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--candidate", type=Path, required=True)
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--min-clean", type=float, default=-1.0, help="least change of clean dev accuracy")
    parser.add_argument("--min-nemo", type=float, default=2.0, help="least change of RAVDESS -> nEMO accuracy")
    parser.add_argument("--min-degraded", type=float, default=-1.0, help="least change of mean degraded agreement")
    parser.add_argument("--min-condition", action="append", default=[], metavar="CONDITION=POINTS",
                        help="least change of one condition's agreement, e.g. '8-bit=0' (repeatable)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "freq_mixstyle.json")
    args = parser.parse_args()
    per_condition = {name: float(least) for name, least in (c.rsplit("=", 1) for c in args.min_condition)}
    checks = ("clean_accuracy_change", "nemo_accuracy_change", "degraded_agreement_change",
              *(f"{name} agreement_change" for name in per_condition))
    return apply_rule(args, lambda *figures: decide(*figures, args.min_clean, args.min_nemo, args.min_degraded,
                                                    per_condition), checks)


if __name__ == "__main__":
    raise SystemExit(main())
