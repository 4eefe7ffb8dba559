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
from before_after import add_arguments, development, finish, replaced  # noqa: E402

import specser.audio.degrade as degrade  # noqa: E402

CONDITIONS = ["stereo, one channel inverted", "stereo, one channel inverted, off-axis"]
MIXES = ("plain mean", "polarity-aware")


def plain_mean():
    return replaced(degrade, "downmix", lambda data: data.mean(axis=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, HERE / "results" / "real_voices" / "stereo_downmix.json")
    args = parser.parse_args()
    record, gain = development(args, CONDITIONS, plain_mean, MIXES,
                               "benchmarks/results/real_voices/rule_stereo_downmix.txt")
    before, after = (record["development"][m] for m in MIXES)
    newly_refused = sum(max(0, after[r][c]["refused"] - before[r][c]["refused"]) for r in before for c in CONDITIONS)
    print(f"agreement {gain:+.1f} points (rule: >= +5.0), newly refused {newly_refused} (rule: 0; (c) is the tests)")
    verdict = {"agreement_gain": gain, "a_gain_at_least_5": gain >= 5.0,
               "newly_refused": newly_refused, "b_none_newly_refused": newly_refused == 0}
    return finish(record, verdict, args, CONDITIONS, plain_mean, MIXES)


if __name__ == "__main__":
    raise SystemExit(main())
