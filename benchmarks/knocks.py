"""Does turning knocks down before labelling keep the labels of a recording with a tap or a thud in it?
Compares the predictors without the step (as before) and as they stand, on the three knock conditions and
on every other condition of the robustness benchmark, counts how often the detector fires on the clean
corpora, where it should not, and times it.

    python benchmarks/knocks.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 \
        --bundled-on runs/devab/robust-90-s42 --out benchmarks/results/real_voices/knocks.json

The rule was written first (`benchmarks/results/real_voices/rule_knocks.txt`) and is checked on the
development models, with their accuracy on every nEMO clip through the predictor; the bundled model, run
on the held-out speakers of a development run (it trained on them), adds its agreement. `--targets-only`
measures the knock conditions alone, with and without the step, on any runs, and checks nothing; check (f)
of the rule is that run on the five fold models of an actor-5fold CV:

    python benchmarks/knocks.py RUN/fold_0* --targets-only --out benchmarks/results/real_voices/knocks_actor5fold.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import (add_repair_arguments, detect_and_repair, other_conditions,  # noqa: E402
                          repair_seconds, step_left_out)

from specser.audio.degrade import knock  # noqa: E402
from specser.audio.knocks import find_knocks, remove_knocks  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402

CONDITIONS = ["a knock at the speech's peak", "a knock 12 dB above the speech's peak",
              "a thud 12 dB above the speech's peak"]
OTHERS = other_conditions(*CONDITIONS)
VARIANTS = ("without the step", "knocks turned down")
RULE = "benchmarks/results/real_voices/rule_knocks.txt"


def without_step():
    return step_left_out("remove_knocks")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_repair_arguments(parser, HERE / "results" / "real_voices" / "knocks.json")
    args = parser.parse_args()
    seconds = repair_seconds(lambda clip: remove_knocks(clip, 16000),
                             lambda clip: knock(0.3 * clip, 16000, 12.0, np.random.default_rng(0)))
    return detect_and_repair(args, CONDITIONS, OTHERS, without_step, VARIANTS, RULE,
                             lambda path: bool(find_knocks(load_audio(path, 16000), 16000)), seconds, 3.0)


if __name__ == "__main__":
    raise SystemExit(main())
