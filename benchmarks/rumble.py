"""Does putting rumble's bands back on the log-Mel's floor keep the labels of a recording with wind, traffic or
a fan under the voice? Compares the predictors without the step (as before) and as they stand, on the two
rumble conditions and on every other condition of the robustness benchmark, counts how often it fires on
the clean corpora, where it should not, and times it.

    python benchmarks/rumble.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 \
        --bundled-on runs/devab/robust-90-s42 --out benchmarks/results/real_voices/rumble.json
    python benchmarks/rumble.py RUN/fold_0* --targets-only --out benchmarks/results/real_voices/rumble_actor5fold.json

The rule was written first (`benchmarks/results/real_voices/rule_rumble.txt`); the second command, on the
five fold models of an actor-5fold CV, is its check over all 24 actors. The detector's firing on the clean
corpora is counted with the first development model's front-end.
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

from specser.audio.degrade import rumble  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402
from specser.features.bass_noise import floor_noisy_bass, noisy_bass_bands  # noqa: E402
from specser.inference.model_file import ModelFile  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402

CONDITIONS = ["rumble under 150 Hz, 10 dB SNR", "rumble under 150 Hz, 0 dB SNR"]
OTHERS = other_conditions(*CONDITIONS)
VARIANTS = ("without the step", "rumble's bands on the floor")
RULE = "benchmarks/results/real_voices/rule_rumble.txt"


def without_step():
    return step_left_out("floor_noisy_bass")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_repair_arguments(parser, HERE / "results" / "real_voices" / "rumble.json")
    args = parser.parse_args()
    predictor = Predictor(ModelFile.load(args.runs[0] / "model.specser"), device="cpu")
    fires = lambda path: noisy_bass_bands(predictor.wave_features([load_audio(path, 16000)])[0]) > 0  # noqa: E731
    # The step's own time, on the log-Mel of a 4 s clip with rumble 10 dB under it.
    rumbling = lambda clip: rumble(clip, 16000, 10.0, np.random.default_rng(0))  # noqa: E731
    seconds = repair_seconds(floor_noisy_bass, lambda clip: predictor.wave_features([rumbling(clip)])[0])
    return detect_and_repair(args, CONDITIONS, OTHERS, without_step, VARIANTS, RULE, fires, seconds, 5.0)


if __name__ == "__main__":
    raise SystemExit(main())
