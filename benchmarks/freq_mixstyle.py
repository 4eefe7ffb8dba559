"""Does Freq-MixStyle in training (`train.augment.freq_mixstyle_prob`) earn a place in `robust`? The decision of
`benchmarks/results/real_voices/rule_freq_mixstyle.txt`.

    python benchmarks/freq_mixstyle.py --base LS.json --candidate M.json --runs RUNS_DIR

LS.json and M.json are `benchmarks/robustness.py` results on every condition, computed with the same code,
for the preset as it stands (label-smoothing-s42, -s7) and for the candidate (freq-mixstyle-s42, -s7); RUNS_DIR
holds those run folders, whose `nemo/metrics.json` give the RAVDESS -> nEMO accuracy. Prints each check of
the rule and writes the verdict to benchmarks/results/real_voices/freq_mixstyle.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from condition_training import apply_rule, mean_over  # noqa: E402


def decide(base: dict, candidate: dict, nemo_base: list[float], nemo_candidate: list[float]) -> dict:
    degraded = [c for c in next(iter(base.values())) if c != "clean"]

    def summary(runs: dict, nemo: list[float]) -> dict:
        return {"clean": mean_over(runs, "clean", "accuracy"), "nemo": float(np.mean(nemo)),
                "degraded_agreement": float(np.mean([mean_over(runs, c, "agreement") for c in degraded])),
                "degraded_accuracy": float(np.mean([mean_over(runs, c, "accuracy") for c in degraded])),
                "per_condition": {c: {m: mean_over(runs, c, m) for m in ("accuracy", "agreement")} for c in degraded}}

    b, c = summary(base, nemo_base), summary(candidate, nemo_candidate)
    checks = {"clean_accuracy_change": c["clean"] - b["clean"], "nemo_accuracy_change": c["nemo"] - b["nemo"],
              "degraded_agreement_change": c["degraded_agreement"] - b["degraded_agreement"]}
    passes = (checks["clean_accuracy_change"] >= -1.0 and checks["nemo_accuracy_change"] >= 2.0
              and checks["degraded_agreement_change"] >= -1.0)
    return {**checks, "adopted": bool(passes), "means": {"base": b, "candidate": c},
            "nemo_per_seed": {"base": nemo_base, "candidate": nemo_candidate}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--candidate", type=Path, required=True)
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "freq_mixstyle.json")
    args = parser.parse_args()
    return apply_rule(args, decide, ("clean_accuracy_change", "nemo_accuracy_change", "degraded_agreement_change"))


if __name__ == "__main__":
    raise SystemExit(main())
