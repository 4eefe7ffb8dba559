"""Does notching out mains hum before labelling keep the labels of a recording with hum? Compares the
predictors without the notch (as before) and as they stand, and counts how often the detector fires on
the clean corpora, where it should not.

    python benchmarks/mains_hum.py runs/devab/epochs-90-s42 runs/devab/epochs-90-s7 \
        --bundled-on runs/rel-B90LS --out benchmarks/results/real_voices/mains_hum.json

The rule was written first (`benchmarks/results/real_voices/rule_mains_hum.txt`) and is checked on the
development models; the bundled model, run on the held-out speakers of its recipe's run (it trained on
them), adds its agreement.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import add_arguments, detector_checks, development, finish, replaced  # noqa: E402

import specser.inference.base as inference_base  # noqa: E402
from specser.audio.hum import hum_frequency  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402

CONDITIONS = ["mains hum 50 Hz, 20 dB below speech", "mains hum 60 Hz, 20 dB below speech"]
VARIANTS = ("without the notch", "with the notch")


def without_notch():
    # the hum is still found, as the whine notch is told of it, but nothing is notched
    return replaced(inference_base, "notch_hum", lambda wave, sample_rate: (wave, hum_frequency(wave, sample_rate)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, HERE / "results" / "real_voices" / "mains_hum.json", corpora=True)
    args = parser.parse_args()
    record, gain = development(args, CONDITIONS, without_notch, VARIANTS,
                               "benchmarks/results/real_voices/rule_mains_hum.txt")
    clean_change, fired = detector_checks(args, record, VARIANTS,
                                          lambda path: hum_frequency(load_audio(path, 16000), 16000) is not None)
    print(f"agreement {gain:+.1f} points (rule: >= +5.0), clean accuracy moved <= {clean_change:.1f} (rule: <= 0.5), "
          f"the detector fired on {fired['fired']} of {fired['clips']} clean corpus clips (rule: < 1 %)")
    verdict = {"agreement_gain": gain, "a_gain_at_least_5": gain >= 5.0,
               "largest_clean_accuracy_change": clean_change, "b_clean_within_0_5": clean_change <= 0.5,
               "fired_on_clean": fired, "c_fires_under_1_percent": fired["fired"] < 0.01 * fired["clips"]}
    return finish(record, verdict, args, CONDITIONS, without_notch, VARIANTS)


if __name__ == "__main__":
    raise SystemExit(main())
