"""Would dithering a coarsely quantised recording before labelling keep the labels of an 8-bit one?
The candidate (not adopted, 2026-12-07) lives here, not in the product: a recording whose samples all lie,
up to a constant offset, on the grid of 10 or fewer bits gets triangular dither of one step, from a
fixed seed, before its DC offset is removed. Compares the predictors as they stand with and without it,
and counts how often the grid test fires on the clean corpora as decoded, where it should not.

    python benchmarks/coarse_dither.py runs/devab/robust-90-s42 runs/devab/robust-90-s7 \
        --bundled-on runs/devab/robust-90-s42 --out benchmarks/results/real_voices/coarse_dither.json

The rule was written first (`benchmarks/results/real_voices/rule_coarse_dither.txt`) and is checked on
the development models; the bundled model, run on the same held-out speakers (it trained on them), adds
its agreement.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import add_arguments, detector_checks, development, finish, replaced  # noqa: E402

import specser.inference.base as inference_base  # noqa: E402
from specser.audio.load import downmix, remove_dc  # noqa: E402
from specser.audio.quality import grid_bits  # noqa: E402

CONDITIONS = ["8-bit"]
VARIANTS = ("without dither", "with dither")
def dither_coarse(wave: np.ndarray) -> np.ndarray:
    """`wave` plus triangular dither of +-1 step when it lies on a coarse grid, else `wave` itself."""
    bits = grid_bits(wave)
    if bits is None:
        return wave
    rng = np.random.default_rng(0)
    noise = (rng.random(wave.size) - rng.random(wave.size)) * 2.0 ** -(bits - 1)
    return (wave + noise.reshape(wave.shape)).astype(wave.dtype)


def with_dither():
    """The predictors' `remove_dc` step (after the clipping repair) dithers first, as the candidate did."""
    return replaced(inference_base, "remove_dc", lambda wave: remove_dc(dither_coarse(wave)))


def on_coarse_grid(path: str) -> bool:
    """A corpus file, as decoded (before any resampling), lies on a coarse grid."""
    return grid_bits(downmix(sf.read(path, dtype="float32", always_2d=True)[0])) is not None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, HERE / "results" / "real_voices" / "coarse_dither.json", corpora=True)
    args = parser.parse_args()
    record, gain = development(args, CONDITIONS, nullcontext, VARIANTS,
                               "benchmarks/results/real_voices/rule_coarse_dither.txt", after=with_dither)
    clean_change, fired = detector_checks(args, record, VARIANTS, on_coarse_grid)
    print(f"8-bit agreement {gain:+.1f} points (rule: >= +1.5), clean accuracy moved <= {clean_change:.1f} "
          f"(rule: 0), the grid test fired on {fired['fired']} of {fired['clips']} clean corpus clips (rule: none)")
    verdict = {"agreement_gain": gain, "a_gain_at_least_1_5": gain >= 1.5,
               "largest_clean_accuracy_change": clean_change, "b_clean_unchanged": clean_change == 0.0,
               "fired_on_clean": fired, "c_fires_on_none": fired["fired"] == 0}
    return finish(record, verdict, args, CONDITIONS, nullcontext, VARIANTS, after=with_dither)


if __name__ == "__main__":
    raise SystemExit(main())
