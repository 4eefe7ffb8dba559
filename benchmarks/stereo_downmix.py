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
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from before_after import before_after, mean_over, print_rows, replaced  # noqa: E402
from machine import describe, write_result  # noqa: E402

import specser.audio.degrade as degrade  # noqa: E402
from specser.bundled import default_model  # noqa: E402

CONDITIONS = ["stereo, one channel inverted", "stereo, one channel inverted, off-axis"]
MIXES = ("plain mean", "polarity-aware")


def plain_mean():
    return replaced(degrade, "downmix", lambda data: data.mean(axis=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="development runs: the rule is checked on them")
    parser.add_argument("--bundled-on", type=Path, default=None,
                        help="a run whose test split the bundled model is also measured on")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "stereo_downmix.json")
    args = parser.parse_args()
    dev = before_after(args.runs, CONDITIONS, plain_mean, names=MIXES)
    record = {"machine": describe(), "rule": "benchmarks/results/real_voices/rule_stereo_downmix.txt",
              "conditions": CONDITIONS, "development": dev}
    for mix, by_run in dev.items():
        print_rows(mix, by_run, CONDITIONS)
    before, after = (dev[m] for m in MIXES)
    gain = 100 * (mean_over(after, CONDITIONS, "agreement") - mean_over(before, CONDITIONS, "agreement"))
    newly_refused = sum(max(0, after[r][c]["refused"] - before[r][c]["refused"]) for r in before for c in CONDITIONS)
    verdict = {"agreement_gain": gain, "a_gain_at_least_5": gain >= 5.0,
               "newly_refused": newly_refused, "b_none_newly_refused": newly_refused == 0}
    verdict["adopted"] = verdict["a_gain_at_least_5"] and verdict["b_none_newly_refused"]
    record["verdict"] = verdict
    print(f"agreement {gain:+.1f} points (rule: >= +5.0), newly refused {newly_refused} (rule: 0): "
          f"{'adopted' if verdict['adopted'] else 'not adopted'} (with (c), the tests)")
    if args.bundled_on:
        record["bundled"] = before_after([args.bundled_on], CONDITIONS, plain_mean, default_model(), names=MIXES)
        for mix, by_run in record["bundled"].items():
            print(f"bundled model, {mix}: agreement {100 * mean_over(by_run, CONDITIONS, 'agreement'):.1f} %")
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
