"""Does a recording condition in training earn a place in `robust`? The decision shared by
`benchmarks/results/real_voices/rule_compressor.txt` (compression, `train.augment.compress_prob`),
`rule_rooms.txt` (rooms, `train.augment.reverb_prob` and `reverb_room`) and `rule_bass_rolloff.txt` (a small
microphone's bass roll-off: `--min-gain 5 --min-nemo -1`).

    python benchmarks/condition_training.py --target CONDITION --base LS.json --candidate C.json --runs RUNS_DIR \
        --out benchmarks/results/real_voices/NAME.json

LS.json and C.json are `benchmarks/robustness.py` results on every condition for the preset as it
stands (label-smoothing-s42, -s7) and for the candidate (e.g. compressor-s42, -s7), two seeds each;
RUNS_DIR holds those run folders, whose `nemo/metrics.json` give the RAVDESS -> nEMO accuracy. The
candidate joins when, means over the seeds, clean accuracy falls by at most 1.0 point, agreement under
the target condition rises by at least 3.0 (`--min-gain`), mean agreement over every other degraded
condition falls by at most 1.0, and RAVDESS -> nEMO falls by at most 2.0 (`--min-nemo`). Prints each check and writes the verdict.
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

COMPRESSOR = "compressor 4:1, 20 dB below peak"  # the first rule's target, the default


def per_seed(path: Path) -> dict[str, dict]:
    """{run name: {condition: {"accuracy", "agreement"}}} from a robustness result."""
    return {Path(r["run"]).name: r["conditions"] for r in json.loads(path.read_text())["runs"]}


def mean_over(runs: dict[str, dict], condition: str, metric: str) -> float:
    return float(np.mean([100 * r[condition].get(metric, 1.0) for r in runs.values()]))


def decide(base: dict, candidate: dict, nemo_base: list[float], nemo_candidate: list[float],
           target: str = COMPRESSOR, min_gain: float = 3.0, min_nemo: float = -2.0) -> dict:
    conditions = next(iter(base.values())).keys()
    others = [c for c in conditions if c not in ("clean", target)]
    clean = mean_over(candidate, "clean", "accuracy") - mean_over(base, "clean", "accuracy")
    gain = mean_over(candidate, target, "agreement") - mean_over(base, target, "agreement")
    other = (np.mean([mean_over(candidate, c, "agreement") for c in others])
             - np.mean([mean_over(base, c, "agreement") for c in others]))
    nemo = float(np.mean(nemo_candidate) - np.mean(nemo_base))
    checks = {"target": target, "clean_accuracy_change": clean, "target_agreement_gain": gain,
              "other_conditions_agreement_change": float(other), "nemo_accuracy_change": nemo}
    passes = clean >= -1.0 and gain >= min_gain and other >= -1.0 and nemo >= min_nemo
    return {**checks, "adopted": bool(passes), "thresholds": {"target_agreement_gain": min_gain, "nemo": min_nemo},
            "means": {name: {"clean": mean_over(runs, "clean", "accuracy"),
                             "target_accuracy": mean_over(runs, target, "accuracy"),
                             "target_agreement": mean_over(runs, target, "agreement"),
                             "other_agreement": float(np.mean([mean_over(runs, c, "agreement") for c in others])),
                             "other_accuracy": float(np.mean([mean_over(runs, c, "accuracy") for c in others])),
                             "nemo": float(np.mean(n))}
                      for name, runs, n in (("base", base, nemo_base), ("candidate", candidate, nemo_candidate))}}


def rule_parser(doc: str | None, default_out: str) -> argparse.ArgumentParser:
    """The arguments every training-rule decision takes: the base's and the candidate's robustness results, the
    folder of their runs (for the nEMO figures) and where the verdict goes (`results/real_voices/DEFAULT_OUT`)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--candidate", type=Path, required=True)
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / default_out)
    return parser


def main() -> int:
    parser = rule_parser(__doc__, "compressor.json")
    parser.add_argument("--target", default=COMPRESSOR, help="the condition the candidate is meant to withstand")
    parser.add_argument("--min-gain", type=float, default=3.0, help="least gain of agreement under the target")
    parser.add_argument("--min-nemo", type=float, default=-2.0, help="least change of RAVDESS -> nEMO accuracy")
    args = parser.parse_args()
    return apply_rule(args, lambda *figures: decide(*figures, args.target, args.min_gain, args.min_nemo),
                      ("clean_accuracy_change", "target_agreement_gain", "other_conditions_agreement_change",
                       "nemo_accuracy_change"))


def apply_rule(args: argparse.Namespace, decide_with, checks: tuple[str, ...]) -> int:
    """Read `args.base`, `args.candidate` and the runs' nEMO figures, decide, print `checks`, write `args.out`."""
    base, candidate = per_seed(args.base), per_seed(args.candidate)

    def nemo(names):
        return [100 * json.loads((args.runs / n / "nemo" / "metrics.json").read_text())["accuracy"] for n in names]

    verdict = decide_with(base, candidate, nemo(base), nemo(candidate))
    for key in checks:
        print(f"{key}: {verdict[key]:+.2f}")
    print(f"-> {'adopted' if verdict['adopted'] else 'not adopted'}")
    write_result({"machine": describe(), "base": sorted(base), "candidate": sorted(candidate), "decision": verdict},
                 args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
