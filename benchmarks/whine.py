"""Does notching a steady whine out before labelling keep the labels of a recording with a tone under the
voice? Compares the predictors without the notch (as before) and as they stand, on the two whine
conditions and on every other condition of the robustness benchmark, counts how often the detector fires on
the clean corpora, where it should not, and times it.

    python benchmarks/whine.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 \
        --bundled-on runs/devab/robust-90-s42 --out benchmarks/results/real_voices/whine.json

The rule was written first (`benchmarks/results/real_voices/rule_whine.txt`) and is checked on the
development models, with their accuracy on every nEMO clip through the predictor; the bundled model, run on
the held-out speakers of a development run (it trained on them), adds its agreement. `--targets-only`
measures the whine conditions alone, with and without the notch, on any runs, and checks nothing; check (f)
of the rule is that run on the five fold models of an actor-5fold CV:

    python benchmarks/whine.py RUN/fold_0* --targets-only --out benchmarks/results/real_voices/whine_actor5fold.json

`--fan --targets-only` measures a fan instead (a blade tone and its harmonics over hiss), which joined the
benchmark after the rule was decided: what the notch does for a condition it was not chosen on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import (add_repair_arguments, calm_disgust_and_condition_checks, detect_and_repair,  # noqa: E402
                          other_conditions, repair_seconds, step_left_out)

from specser.audio.degrade import whine  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402
from specser.audio.whine import find_whines, remove_whines  # noqa: E402

CONDITIONS = ["a steady whine 20 dB below speech", "a steady whine 10 dB below speech"]
FAN = ["a fan (blade tone and hiss) 20 dB below speech", "a fan (blade tone and hiss) 10 dB below speech"]
OTHERS = other_conditions(*CONDITIONS, *FAN)
VARIANTS = ("without the notch", "whines notched")
RULE = "benchmarks/results/real_voices/rule_whine.txt"


def without_notch():
    return step_left_out("remove_whines")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_repair_arguments(parser, HERE / "results" / "real_voices" / "whine.json")
    parser.add_argument("--fan", action="store_true",
                        help="with --targets-only: the two fan conditions (a blade tone and its harmonics over "
                             "hiss) instead of the whines; they joined the benchmark after the rule was decided")
    args = parser.parse_args()
    if args.fan and not args.targets_only:
        parser.error("--fan measures the fan conditions alone: add --targets-only")
    targets = FAN if args.fan else CONDITIONS
    seconds = repair_seconds(lambda clip: remove_whines(clip, 16000),
                             lambda clip: whine(0.3 * clip, 16000, 20.0, np.random.default_rng(0)))

    def fires(path: str) -> bool:
        return bool(find_whines(load_audio(path, 16000), 16000))

    return detect_and_repair(args, targets, OTHERS, without_notch, VARIANTS, RULE, fires, seconds, 3.0,
                             extra_checks=calm_disgust_and_condition_checks(args, fires))


if __name__ == "__main__":
    raise SystemExit(main())
