"""Would subtracting the known quantisation noise of coarse audio keep 8-bit labels? An experiment, not a feature.

    python benchmarks/quantisation_noise.py runs/devab/label-smoothing-s42 runs/devab/label-smoothing-s7 \
        --out benchmarks/results/real_voices/quantisation_noise.json

Rounding to a grid of step q adds noise of variance q^2 / 12, white when the signal spans many steps. For
audio on a grid of 12 bits or coarser (found from the sample-to-sample differences, which the DC removal
before the front-end leaves on the grid), the front-end here subtracts alpha times that noise's expected Mel
power before taking dB; every other input is untouched, so clean labels cannot move. Each alpha is run on
the clean and 8-bit conditions of `benchmarks/robustness.py`, and the rule
(`benchmarks/results/real_voices/rule_quantisation_noise.txt`) is checked on the development speakers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.features.logmel import LogMel  # noqa: E402
from specser.runs.robustness import robustness  # noqa: E402


def grid_step(wave: torch.Tensor, coarsest_bits: int = 12) -> float | None:
    """The step of the coarsest grid (2 to `coarsest_bits` bits) that `wave`'s differences lie on, or None.
    A batch pads clips with zeros, whose one jump off the grid the 99.9 % share tolerates."""
    steps = torch.diff(wave.double())
    for bits in range(2, coarsest_bits + 1):
        scaled = steps * 2 ** (bits - 1)
        if torch.mean((torch.abs(scaled - torch.round(scaled)) < 1e-4).double()) > 0.999:
            return 1.0 / 2 ** (bits - 1)
    return None


@contextmanager
def noise_subtracted(alpha: float):
    """LogMel subtracts alpha x the expected Mel power of a coarse clip's quantisation noise, for the block."""
    plain = LogMel._db_chunk

    def db_chunk(self, wave):
        mel = self.mel(self.power(wave))  # (B, frames, n_mels)
        if alpha > 0:
            # White noise of variance 1 gives an expected periodogram of sum(window^2) in every bin.
            unit_noise = float((self.fft_window ** 2).sum()) * self.filterbank.sum(dim=1)
            for b in range(wave.shape[0]):
                step = grid_step(wave[b])
                if step is not None:
                    mel[b] = torch.clamp(mel[b] - alpha * step ** 2 / 12 * unit_noise, min=0.0)
        return self.to_db(mel)

    LogMel._db_chunk = db_chunk
    try:
        yield
    finally:
        LogMel._db_chunk = plain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--alphas", default="0,1,2,4", help="0 is the front-end as it stands")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "quantisation_noise.json")
    args = parser.parse_args()
    alphas = [float(a) for a in args.alphas.split(",")]
    figures = {}
    for alpha in alphas:
        with noise_subtracted(alpha), tempfile.TemporaryDirectory() as scratch:  # the per-run tables are not kept
            figures[alpha] = {str(run): robustness(run, ["clean", "8-bit"], out=Path(scratch) / run.name,
                                                   progress=False)["conditions"] for run in args.runs}
        mean = {k: float(np.mean([r["8-bit"][k] for r in figures[alpha].values()])) for k in ("accuracy", "agreement")}
        figures[alpha]["mean_8bit"] = mean
        print(f"alpha {alpha:g}: 8-bit accuracy {100 * mean['accuracy']:.1f} %, agreement {100 * mean['agreement']:.1f} %")
    base = figures[0.0]["mean_8bit"]
    chosen = max((a for a in alphas if a > 0), key=lambda a: (figures[a]["mean_8bit"]["agreement"], -a))
    gain = 100 * (figures[chosen]["mean_8bit"]["agreement"] - base["agreement"])
    accuracy_change = 100 * (figures[chosen]["mean_8bit"]["accuracy"] - base["accuracy"])
    clean_same = all(figures[chosen][r]["clean"]["accuracy"] == figures[0.0][r]["clean"]["accuracy"]
                     and figures[chosen][r]["clean"]["agreement"] == 1.0 for r in map(str, args.runs))
    verdict = {"chosen_alpha": chosen, "agreement_gain": gain, "accuracy_change": accuracy_change,
               "a_agreement_gain_at_least_2": gain >= 2.0, "b_clean_unchanged": clean_same,
               "c_accuracy_not_lower": accuracy_change >= 0.0}
    verdict["adopted"] = all(v for k, v in verdict.items() if k[:2] in ("a_", "b_", "c_"))
    print(f"chosen alpha {chosen:g}: agreement {gain:+.1f} points (rule: >= +2.0), accuracy {accuracy_change:+.1f} "
          f"(rule: >= 0): {'adopted' if verdict['adopted'] else 'not adopted'}")
    write_result({"machine": describe(), "rule": "benchmarks/results/real_voices/rule_quantisation_noise.txt",
                  "by_alpha": {str(a): f for a, f in figures.items()}, "verdict": verdict}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
