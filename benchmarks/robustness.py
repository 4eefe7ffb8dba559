"""Robustness benchmark: a run's model on held-out speakers under recording conditions.

    python benchmarks/robustness.py RUN_DIR [RUN_DIR ...] [--out benchmarks/results/robustness.json]

For each run (a `specser train --test-speakers ...` run, or a CV fold folder), every test file is
degraded by each condition of `specser.audio.degrade.CONDITIONS`: white, pink and babble noise at
30 / 20 / 10 dB SNR, a -60 dBFS noise floor, gain -20 / +20 dB, 8-bit, telephone band, a low-rate
Opus round trip, a synthetic room (RT60 0.6 s), a DC offset (two levels), knocks and rumble, among
others. It reports accuracy and agreement with the
clean clip's label, the clips the speech check refused, and the label most predicted. Prints a
table per run and writes the JSON and a Markdown table beside it. With several runs, such as the
folds of one CV (`python benchmarks/robustness.py CV_DIR/fold_*`), it also gives each figure's mean ±
std over them, the form the real-voices targets take. `--combine A.json B.json ...` does the same for
results written earlier (one fold per process, say) without computing anything again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.atomic import atomic_write_text  # noqa: E402
from specser.audio.degrade import condition_names  # noqa: E402
from specser.runs.robustness import render, render_summary, robustness, summarize  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--combine", nargs="+", type=Path, default=[],
                        help="earlier outputs of this script whose runs join the summary")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "robustness.json")
    parser.add_argument("--conditions", default=None,
                        help="comma-separated condition names (default: all); e.g. the release conditions only")
    parser.add_argument("--model", type=Path, default=None,
                        help="this model file instead of each run's own, on the run's test split (e.g. the bundled "
                             "model, to compare how its labels hold; it may have trained on those clips)")
    parser.add_argument("--keep-clipping", action="store_true",
                        help="label clipped audio as it is, without repairing its cut peaks first (as before 2026-12-06)")
    args = parser.parse_args()
    if not args.runs and not args.combine:
        parser.error("give run folders, or --combine earlier results")
    earlier = [json.loads(path.read_text()) for path in args.combine]
    records = [r for result in earlier for r in result["runs"]]
    names = condition_names(args.conditions) if args.conditions else None
    for run in args.runs:
        record = robustness(run, names, out=args.out.parent / "robustness" / run.name, progress=True,
                            repair_clipping=not args.keep_clipping, model=args.model)
        print(render(record))
        records.append(record)
    # Combined results keep the machine they were measured on.
    result = {"machine": describe() if args.runs else earlier[0]["machine"], "runs": records}
    if earlier:
        result["combined_from"] = [{"file": str(p), "machine": e["machine"]} for p, e in zip(args.combine, earlier)]
    tables = [render(r) for r in records]
    if len(records) > 1:  # e.g. the folds of one CV: the targets are stated as mean ± std over folds
        result["summary"] = summarize(records)
        tables.insert(0, render_summary(result["summary"]))
        print(tables[0])
    write_result(result, args.out)
    atomic_write_text(args.out.with_suffix(".md"), "\n".join(tables))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
