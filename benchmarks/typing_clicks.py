"""Does turning clicks in pauses down before labelling keep the labels of a recording made beside someone
typing? Compares the predictors with the knock step as it was (loud knocks only) and as it stands (clicks in
pauses too), on the two typing conditions and on every other condition of the robustness benchmark, counts
how often the detector fires on the clean corpora, where it should not, and times it.

    python benchmarks/typing_clicks.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 \
        --bundled-on runs/devab/robust-90-s42 --out benchmarks/results/real_voices/typing_clicks.json

The rule was written first (`benchmarks/results/real_voices/rule_typing.txt`) and is checked on the
development models, with their accuracy on every nEMO clip through the predictor; the bundled model, run on
the held-out speakers of a development run (it trained on them), adds its agreement. `--targets-only`
measures the typing conditions alone, with and without the clicks, on any runs, and checks nothing; check
(f) of the rule is that run on the five fold models of an actor-5fold CV:

    python benchmarks/typing_clicks.py RUN/fold_0* --targets-only \
        --out benchmarks/results/real_voices/typing_clicks_actor5fold.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import (add_repair_arguments, calm_and_disgust_check, detect_and_repair,  # noqa: E402
                          other_conditions, repair_seconds, replaced)

import specser.audio.knocks as knocks  # noqa: E402
from specser.audio.degrade import keystrokes  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402

CONDITIONS = ["typing at the speech's peak", "typing 6 dB below the speech's peak"]
OTHERS = other_conditions(*CONDITIONS)
VARIANTS = ("loud knocks only", "clicks in pauses too")
RULE = "benchmarks/results/real_voices/rule_typing.txt"


def loud_knocks_only():
    return replaced(knocks, "_clicks_in_pauses", lambda energy, frames, speech, before: np.zeros(frames.size, bool))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_repair_arguments(parser, HERE / "results" / "real_voices" / "typing_clicks.json")
    args = parser.parse_args()
    seconds = repair_seconds(lambda clip: knocks.remove_knocks(clip, 16000),
                             lambda clip: keystrokes(0.3 * clip, 16000, 0.0, np.random.default_rng(0)))

    def fires(path: str) -> bool:
        return bool(knocks.find_knocks(load_audio(path, 16000), 16000))

    return detect_and_repair(args, CONDITIONS, OTHERS, loud_knocks_only, VARIANTS, RULE, fires, seconds, 3.0,
                             extra_checks=calm_and_disgust_check(args, fires))


if __name__ == "__main__":
    raise SystemExit(main())
