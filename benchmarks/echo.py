"""Does cancelling a discrete echo before labelling keep the labels of a recording with an echo in it?
Compares the predictors without the step (as before) and as they stand, on the two echo conditions and on
every other condition of the robustness benchmark, counts how often the detector fires on the clean corpora,
where it should not, and times it.

    python benchmarks/echo.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 \
        --bundled-on runs/devab/robust-90-s42 --out benchmarks/results/real_voices/echo.json

The rule was written first (`benchmarks/results/real_voices/rule_echo.txt`) and is checked on the
development models, with their accuracy on every nEMO clip through the predictor; the bundled model, run on
the held-out speakers of a development run (it trained on them), adds its agreement. `--targets-only`
measures the echo conditions alone, with and without the step, on any runs, and checks nothing; check (f)
of the rule is that run on the five fold models of an actor-5fold CV:

    python benchmarks/echo.py RUN/fold_0* --targets-only --out benchmarks/results/real_voices/echo_actor5fold.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import (add_repair_arguments, calm_disgust_and_condition_checks, detect_and_repair,  # noqa: E402
                          other_conditions, repair_seconds, step_left_out)

from specser.audio.degrade import echo  # noqa: E402
from specser.audio.echo import find_echo, remove_echo  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402

CONDITIONS = ["an echo 150 ms later, 6 dB down", "a call's echo, 250 ms later, 10 dB down, 300-3400 Hz"]
OTHERS = other_conditions(*CONDITIONS)
VARIANTS = ("without the step", "echo cancelled")
RULE = "benchmarks/results/real_voices/rule_echo.txt"


def without_step():
    return step_left_out("remove_echo")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_repair_arguments(parser, HERE / "results" / "real_voices" / "echo.json")
    args = parser.parse_args()
    seconds = repair_seconds(lambda clip: remove_echo(clip, 16000), lambda clip: echo(0.3 * clip, 16000, 0.15, 6.0))

    def fires(path: str) -> bool:
        return find_echo(load_audio(path, 16000), 16000) is not None

    return detect_and_repair(args, CONDITIONS, OTHERS, without_step, VARIANTS, RULE, fires, seconds, 3.0,
                             extra_checks=calm_disgust_and_condition_checks(args, fires))


if __name__ == "__main__":
    raise SystemExit(main())
