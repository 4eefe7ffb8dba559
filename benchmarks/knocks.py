"""Does turning knocks down before labelling keep the labels of a recording with a tap or a thud in it?
Compares the predictors without the step (as before) and as they stand, on the three knock conditions and
on every other condition of the robustness benchmark, counts how often the detector fires on the clean
corpora, where it should not, and times it.

    python benchmarks/knocks.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 \
        --bundled-on runs/devab/robust-90-s42 --out benchmarks/results/real_voices/knocks.json

The rule was written first (`benchmarks/results/real_voices/rule_knocks.txt`) and is checked on the
development models, with their accuracy on every nEMO clip through the predictor; the bundled model, run
on the held-out speakers of a development run (it trained on them), adds its agreement. Check (f) of the
rule is the `--knocks-only` run below on the five fold models of an actor-5fold CV. `--knocks-only` measures the knock conditions alone, with and without the step,
on any runs (the five fold models of a CV, say), and checks nothing:

    python benchmarks/knocks.py RUN/fold_0* --knocks-only --out benchmarks/results/real_voices/knocks_actor5fold.json
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import write_result  # noqa: E402
from before_after import (add_arguments, before_after, corpus_accuracy, detector_checks, development, finish,  # noqa: E402
                          mean_over, repair_seconds, replaced)

import specser.inference.base as inference_base  # noqa: E402
from specser.audio.degrade import CONDITIONS as ALL_CONDITIONS  # noqa: E402
from specser.audio.degrade import knock  # noqa: E402
from specser.audio.knocks import find_knocks, remove_knocks  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402

CONDITIONS = ["a knock at the speech's peak", "a knock 12 dB above the speech's peak",
              "a thud 12 dB above the speech's peak"]
OTHERS = [c for c in ALL_CONDITIONS if c != "clean" and c not in CONDITIONS]
VARIANTS = ("without the step", "knocks turned down")
RULE = "benchmarks/results/real_voices/rule_knocks.txt"


def without_step():
    return replaced(inference_base, "remove_knocks", lambda wave, sample_rate: wave)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, HERE / "results" / "real_voices" / "knocks.json", corpora=True)
    parser.add_argument("--knocks-only", action="store_true",
                        help="the clean clips and the knock conditions only, with and without the step; no rule")
    args = parser.parse_args()
    record, gain = development(args, CONDITIONS, without_step, VARIANTS, RULE)
    if args.knocks_only:
        print(f"agreement {gain:+.1f} points over the {len(CONDITIONS)} knock conditions")
        record["agreement_gain"] = gain
        write_result(record, args.out)
        return 0
    clean_change, fired = detector_checks(args, record, VARIANTS,
                                          lambda path: bool(find_knocks(load_audio(path, 16000), 16000)))
    others = before_after(args.runs, OTHERS, without_step, names=VARIANTS)
    record["others"] = others
    others_change = 100 * (mean_over(others[VARIANTS[1]], OTHERS, "agreement")
                           - mean_over(others[VARIANTS[0]], OTHERS, "agreement"))
    nemo = corpus_accuracy(args.runs, args.nemo, dict(zip(VARIANTS, (without_step, nullcontext))))
    record["nemo"] = nemo
    nemo_change = 100 * float(np.mean([nemo[VARIANTS[1]][r]["accuracy"] - nemo[VARIANTS[0]][r]["accuracy"]
                                       for r in nemo[VARIANTS[0]]]))
    seconds = repair_seconds(lambda clip: remove_knocks(clip, 16000),
                             lambda clip: knock(0.3 * clip, 16000, 12.0, np.random.default_rng(0)))
    print(f"agreement {gain:+.1f} points (rule: >= +3.0), clean accuracy moved <= {clean_change:.1f} (rule: <= 0.5), "
          f"the detector fired on {fired['fired']} of {fired['clips']} clean corpus clips (rule: < 1 %), "
          f"the other {len(OTHERS)} conditions' agreement {others_change:+.2f} (rule: >= -0.5), "
          f"{1000 * seconds:.1f} ms for a 4 s clip (rule: <= 20), RAVDESS -> nEMO {nemo_change:+.2f} (rule: >= -0.3)")
    verdict = {"agreement_gain": gain, "a_gain_at_least_3": gain >= 3.0,
               "largest_clean_accuracy_change": clean_change, "b_clean_within_0_5": clean_change <= 0.5,
               "fired_on_clean": fired, "c_fires_under_1_percent": fired["fired"] < 0.01 * fired["clips"],
               "other_conditions_agreement_change": others_change, "d_others_down_at_most_0_5": others_change >= -0.5,
               "seconds_for_4_s": seconds, "e_fast_enough": seconds <= 0.020,
               "nemo_accuracy_change": nemo_change, "g_nemo_down_at_most_0_3": nemo_change >= -0.3}
    return finish(record, verdict, args, CONDITIONS, without_step, VARIANTS)


if __name__ == "__main__":
    raise SystemExit(main())
