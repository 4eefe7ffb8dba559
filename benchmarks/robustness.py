"""Robustness benchmark: a run's model on held-out speakers under recording conditions.

    python benchmarks/robustness.py RUN_DIR [RUN_DIR ...] [--out benchmarks/results/robustness.json]

For each run (a `specser train --test-speakers ...` run, or a CV fold folder), every test file is
degraded by each condition of `specser.audio.degrade.CONDITIONS`: white, pink and babble noise at
30 / 20 / 10 dB SNR, a -60 dBFS noise floor, gain -20 / +20 dB, 8-bit, telephone band, a low-rate
Opus round trip and a synthetic room (RT60 0.6 s). It reports accuracy and agreement with the
clean clip's label, the clips the speech check refused, and the label most predicted. Prints a
table per run and writes the JSON and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.atomic import atomic_write_text  # noqa: E402
from specser.runs.robustness import render, robustness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "robustness.json")
    args = parser.parse_args()
    records = []
    for run in args.runs:
        record = robustness(run, out=args.out.parent / "robustness" / run.name, progress=True)
        print(render(record))
        records.append(record)
    write_result({"machine": describe(), "runs": records}, args.out)
    atomic_write_text(args.out.with_suffix(".md"), "\n".join(render(r) for r in records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
