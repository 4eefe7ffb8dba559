"""Does mixing a recording's channels with their polarity in mind keep labels of a laptop array that
records one channel inverted? Compares the plain mean of the channels with `load_audio`'s downmix.

    python benchmarks/stereo_downmix.py runs/devab/epochs-90-s42 runs/devab/epochs-90-s7 \
        --bundled-on runs/rel-B90LS --out benchmarks/results/real_voices/stereo_downmix.json

Both conditions (`specser.audio.degrade.inverted_stereo`) go through the downmix; for the "plain mean" rows
it is replaced by `data.mean(axis=1)`, what `load_audio` did before. The rule was written first
(`benchmarks/results/real_voices/rule_stereo_downmix.txt`) and is checked on the development models; the
bundled model, run on the held-out speakers of its recipe's run (it trained on them), adds its agreement.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

import specser.audio.degrade as degrade  # noqa: E402
from specser.bundled import default_model  # noqa: E402
from specser.runs.robustness import robustness  # noqa: E402

CONDITIONS = ["stereo, one channel inverted", "stereo, one channel inverted, off-axis"]


@contextmanager
def plain_mean():
    """The conditions mix their channels as a plain mean for the block, as `load_audio` did before."""
    product = degrade.downmix
    degrade.downmix = lambda data: data.mean(axis=1)
    try:
        yield
    finally:
        degrade.downmix = product


def measure(runs: list[Path], model: Path | None) -> dict:
    """{run: {condition: figures}} under both mixes; the per-run tables go to a scratch folder."""
    figures = {}
    for mix, context in (("plain mean", plain_mean), ("polarity-aware", nullcontext)):
        with context(), tempfile.TemporaryDirectory() as scratch:
            figures[mix] = {str(run): robustness(run, ["clean", *CONDITIONS], out=Path(scratch) / run.name,
                                                 progress=False, model=model)["conditions"] for run in runs}
    return figures


def mean_over(by_run: dict, key: str) -> float:
    return float(np.mean([by_run[r][c][key] for r in by_run for c in CONDITIONS]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="development runs: the rule is checked on them")
    parser.add_argument("--bundled-on", type=Path, default=None,
                        help="a run whose test split the bundled model is also measured on")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "stereo_downmix.json")
    args = parser.parse_args()
    dev = measure(args.runs, None)
    record = {"machine": describe(), "rule": "benchmarks/results/real_voices/rule_stereo_downmix.txt",
              "conditions": CONDITIONS, "development": dev}
    for mix, by_run in dev.items():
        print(f"{mix}: agreement {100 * mean_over(by_run, 'agreement'):.1f} %, accuracy "
              f"{100 * mean_over(by_run, 'accuracy'):.1f} %, refused {sum(by_run[r][c]['refused'] for r in by_run for c in CONDITIONS)}")
        for run, conditions in by_run.items():
            print("   ", run, {c: f"{100 * f['accuracy']:.1f} / {100 * f.get('agreement', 1.0):.1f}"
                               for c, f in conditions.items()}, "(accuracy / agreement, %)")
    gain = 100 * (mean_over(dev["polarity-aware"], "agreement") - mean_over(dev["plain mean"], "agreement"))
    newly_refused = sum(max(0, dev["polarity-aware"][r][c]["refused"] - dev["plain mean"][r][c]["refused"])
                        for r in dev["plain mean"] for c in CONDITIONS)
    verdict = {"agreement_gain": gain, "a_gain_at_least_5": gain >= 5.0,
               "newly_refused": newly_refused, "b_none_newly_refused": newly_refused == 0}
    verdict["adopted"] = verdict["a_gain_at_least_5"] and verdict["b_none_newly_refused"]
    record["verdict"] = verdict
    print(f"agreement {gain:+.1f} points (rule: >= +5.0), newly refused {newly_refused} (rule: 0): "
          f"{'adopted' if verdict['adopted'] else 'not adopted'} (with (c), the tests)")
    if args.bundled_on:
        record["bundled"] = measure([args.bundled_on], default_model())
        for mix, by_run in record["bundled"].items():
            print(f"bundled model, {mix}: agreement {100 * mean_over(by_run, 'agreement'):.1f} %")
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
