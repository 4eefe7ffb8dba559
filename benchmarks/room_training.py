"""Do rooms at every distance in training earn a place in `robust`? The decision of
`benchmarks/results/real_voices/rule_room_distances.txt`.

    python benchmarks/room_training.py --base BASE.json --candidate C.json --runs runs/devab \
        --out benchmarks/results/real_voices/room_distances.json

BASE.json and C.json are `benchmarks/robustness.py` results for the preset as it stands (robust-90-again-s42,
-s7) and for the candidate (room-distances-s42, -s7) under clean, the rooms and the release conditions; RUNS_DIR
holds the run folders, whose `nemo/metrics.json` give the RAVDESS -> nEMO accuracy. Means over the seeds; the
candidate passes when clean accuracy falls by at most 1.0 point, agreement under a room at arm's length rises by
at least 3.0, agreement under the far room (reverb RT60 0.6 s) falls by at most 1.0, the mean agreement over the
release conditions falls by at most 1.0, and RAVDESS -> nEMO falls by at most 1.0. A check whose conditions the
results lack prints nan and fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from condition_training import apply_rule, mean_over, rule_parser  # noqa: E402
from release_model import RELEASE_CONDITIONS  # noqa: E402

ARMS_LENGTH = "a room at arm's length (RT60 0.6 s, direct-to-reverberant ratio 0 dB)"
FAR_ROOM = "reverb RT60 0.6 s"
CHECKS = ("clean_accuracy_change", "arms_length_agreement_gain", "far_room_agreement_change",
          "release_conditions_agreement_change", "nemo_accuracy_change")
THRESHOLDS = {"clean_accuracy_change": -1.0, "arms_length_agreement_gain": 3.0, "far_room_agreement_change": -1.0,
              "release_conditions_agreement_change": -1.0, "nemo_accuracy_change": -1.0}


def decide(base: dict, candidate: dict, nemo_base: list[float], nemo_candidate: list[float]) -> dict:
    release = [c for c in RELEASE_CONDITIONS if c != "clean"]
    measured = next(iter(base.values())).keys()

    def change(names, metric="agreement"):  # nan where the results lack any of `names` (not measured)
        if not all(n in measured for n in names):
            return float("nan")
        return float(np.mean([mean_over(candidate, c, metric) for c in names])
                     - np.mean([mean_over(base, c, metric) for c in names]))

    figures = {"clean_accuracy_change": change(["clean"], "accuracy"),
               "arms_length_agreement_gain": change([ARMS_LENGTH]), "far_room_agreement_change": change([FAR_ROOM]),
               "release_conditions_agreement_change": change(release),
               "nemo_accuracy_change": float(np.mean(nemo_candidate) - np.mean(nemo_base))}
    passes = all(figures[k] >= THRESHOLDS[k] for k in CHECKS)  # nan fails
    means = {name: {**{c: {"accuracy": mean_over(runs, c, "accuracy"), "agreement": mean_over(runs, c, "agreement")}
                       for c in measured}, "nemo": float(np.mean(n))}
             for name, runs, n in (("base", base, nemo_base), ("candidate", candidate, nemo_candidate))}
    return {**figures, "thresholds": THRESHOLDS, "adopted": bool(passes), "means": means}


def main() -> int:
    return apply_rule(rule_parser(__doc__, "room_distances.json").parse_args(), decide, CHECKS)


if __name__ == "__main__":
    raise SystemExit(main())
