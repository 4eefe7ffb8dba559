"""Would dequantising a coarsely quantised recording before labelling keep the labels of an 8-bit one?
The candidate (not adopted, 2026-12-07; benchmarks/results/real_voices/rule_dequantise.txt) lives here, out
of the product: a recording whose samples all lie, up to
a constant offset, on the grid of 10 or fewer bits (`specser.audio.quality.grid_bits`) is replaced by the sparsest
short-time spectrum whose signal keeps every sample within half a step of its recorded value
(`specser.audio.declip.consistent_iht`, the declipper's method with a box constraint). Compares the
predictors as they stand with and without it, on the development models and the bundled model, and times it.

    python benchmarks/dequantise.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 \
        --bundled-on runs/devab/robust-90-s42 --out benchmarks/results/real_voices/dequantise.json
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import (add_arguments, before_after, development, finish, largest_clean_change,  # noqa: E402
                          mean_over, repair_seconds, replaced)

import specser.inference.base as inference_base  # noqa: E402
from specser.audio.declip import consistent_iht  # noqa: E402
from specser.audio.degrade import quantize  # noqa: E402
from specser.audio.load import remove_dc  # noqa: E402
from specser.audio.quality import grid_bits  # noqa: E402
from specser.bundled import default_model  # noqa: E402

CONDITIONS = ["8-bit"]
VARIANTS = ("as it stands", "dequantised")


def dequantise(wave: np.ndarray) -> np.ndarray:
    """`wave` re-estimated within half a step of every sample when it lies on a coarse grid, else itself."""
    bits = grid_bits(wave)
    if bits is None:
        return wave
    half = 2.0 ** -(bits - 1) / 2
    y = wave.astype(np.float64)
    return consistent_iht(y, y - half, y + half).astype(wave.dtype)


def with_dequantising():
    """The predictors' `remove_dc` step (after the clipping repair) dequantises first."""
    return replaced(inference_base, "remove_dc", lambda wave: remove_dc(dequantise(wave)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, HERE / "results" / "real_voices" / "dequantise.json")
    args = parser.parse_args()
    record, gain = development(args, CONDITIONS, nullcontext, VARIANTS,
                               "benchmarks/results/real_voices/rule_dequantise.txt", after=with_dequantising)
    dev = record["development"]
    accuracy = 100 * (mean_over(dev[VARIANTS[1]], CONDITIONS, "accuracy") - mean_over(dev[VARIANTS[0]], CONDITIONS, "accuracy"))
    clean = largest_clean_change(record, VARIANTS)
    bundled_gain = None
    if args.bundled_on:
        record["bundled"] = before_after([args.bundled_on], CONDITIONS, nullcontext, default_model(), names=VARIANTS,
                                         after=with_dequantising)
        bundled_gain = 100 * (mean_over(record["bundled"][VARIANTS[1]], CONDITIONS, "agreement")
                              - mean_over(record["bundled"][VARIANTS[0]], CONDITIONS, "agreement"))
    seconds = repair_seconds(dequantise, lambda clip: quantize(0.05 * clip + 0.001 * np.random.default_rng(0)
                                                               .standard_normal(clip.size), 8))
    print(f"8-bit agreement {gain:+.1f} points (rule: >= +1.5), 8-bit accuracy {accuracy:+.1f} (rule: >= 0), "
          f"clean accuracy moved <= {clean:.1f} (rule: 0), bundled agreement {bundled_gain} (rule: >= 0), "
          f"{seconds:.2f} s for a 4 s clip (rule: <= 1.0)")
    verdict = {"agreement_gain": gain, "a_gain_at_least_1_5": gain >= 1.5, "accuracy_change": accuracy,
               "b_accuracy_not_lower": accuracy >= 0, "largest_clean_accuracy_change": clean,
               "c_clean_unchanged": clean == 0.0, "bundled_agreement_change": bundled_gain,
               "d_bundled_not_lower": bundled_gain is not None and bundled_gain >= 0,
               "seconds_for_4_s": seconds, "e_fast_enough": seconds <= 1.0}
    args.bundled_on = None  # measured above, before the verdict
    return finish(record, verdict, args, CONDITIONS, nullcontext, VARIANTS, after=with_dequantising)


if __name__ == "__main__":
    raise SystemExit(main())
