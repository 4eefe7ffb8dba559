"""The voice-profile decision: which prior and how many clips, from `adapt.py --per-speaker --priors` results,
by the rule written before the runs (benchmarks/results/real_voices/rule_profile_prior.txt).

    python benchmarks/profile_prior.py --dev DEV.json [DEV.json ...] --nemo NEMO.json [NEMO.json ...]
                                       [--out benchmarks/results/real_voices/profile_prior.json]

DEV files hold RAVDESS development models adapted per speaker to nEMO (`per_speaker`) and to their own
test speakers (`per_speaker_own_test_speakers`); NEMO files hold nEMO models adapted per speaker to
RAVDESS. Every figure is a change in accuracy points against the model as trained on the same test clips.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import write_result  # noqa: E402

KEY = re.compile(r"^adapted_to_(\d+)(?:_prior_([\d.]+))?$")
RULE = HERE / "results" / "real_voices" / "rule_profile_prior.txt"
FLOOR = -1.0  # the most an own-speaker change may lose, in points
CHOICE_SIZES = (5, 10, 20)


def changes(block: dict) -> dict[tuple[float, int], float]:
    """(prior, clips) -> pooled change against the model as trained, for one model's per-speaker block."""
    out = {}
    for key, value in block.items():
        match = KEY.match(key)
        if match:
            out[(float(match.group(2) or 0), int(match.group(1)))] = value - block["as_trained_on_the_rest"]
    return out


def runs(paths: list[Path]) -> list[dict]:
    return [run for path in paths for run in json.loads(path.read_text())["runs"]]


def mean_over(blocks: list[dict]) -> dict[tuple[float, int], float]:
    per_model = [changes(b) for b in blocks]
    return {k: float(np.mean([m[k] for m in per_model])) for k in per_model[0]}


def decide(own: dict, cross: dict) -> dict:
    """Rule steps 1-3."""
    priors = sorted({p for p, _ in own})
    admissible = [p for p in priors if own[(p, 10)] >= FLOOR and own[(p, 20)] >= FLOOR]
    score = {p: float(np.mean([cross[(p, n)] for n in CHOICE_SIZES])) for p in priors}
    if not admissible:
        return {"admissible": [], "cross_score": score, "prior": 0.0, "min_inputs": 20}
    prior = max(admissible, key=lambda p: score[p])
    sizes = sorted(CHOICE_SIZES)
    fewest = next(n for n in sizes if all(own[(prior, m)] >= FLOOR for m in sizes if m >= n))
    return {"admissible": admissible, "cross_score": score, "prior": prior, "min_inputs": fewest}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=Path, nargs="+", required=True)
    parser.add_argument("--nemo", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "profile_prior.json")
    args = parser.parse_args()
    dev, nemo = runs(args.dev), runs(args.nemo)
    own = mean_over([r["per_speaker_own_test_speakers"] for r in dev])
    to_nemo, to_ravdess = mean_over([r["per_speaker"] for r in dev]), mean_over([r["per_speaker"] for r in nemo])
    cross = {k: (to_nemo[k] + to_ravdess[k]) / 2 for k in to_nemo}
    decision = decide(own, cross)
    print(f"{'prior':>5} {'clips':>5} {'own':>6} {'->nEMO':>7} {'->RAVDESS':>9} {'cross':>6}")
    table = []
    for prior, n in sorted(own):
        row = {"prior": prior, "clips": n, "own": round(own[(prior, n)], 2), "ravdess_to_nemo": round(to_nemo[(prior, n)], 2),
               "nemo_to_ravdess": round(to_ravdess[(prior, n)], 2), "cross": round(cross[(prior, n)], 2)}
        table.append(row)
        print(f"{prior:>5g} {n:>5} {row['own']:>+6.1f} {row['ravdess_to_nemo']:>+7.1f} {row['nemo_to_ravdess']:>+9.1f} "
              f"{row['cross']:>+6.1f}")
    print("decision:", decision)
    write_result({"rule": RULE.name, "models": {"dev": [r["run"] for r in dev], "nemo": [r["run"] for r in nemo]},
                  "table": table, "decision": decision}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
