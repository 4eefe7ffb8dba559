"""Does shortening the silence around the speech keep labels? The decision of `rule_trim_silence.txt`.

    python benchmarks/trim_silence.py RUN [RUN ...] [--out benchmarks/results/real_voices/trim_silence.json]
    python benchmarks/trim_silence.py --combine A.json B.json [--out ...]

Each run's held-out clips go through the robustness benchmark's conditions (clean, the two with a
quiet room around the clip, the release conditions) with the silence kept as it is and shortened
to 0.5 s and to 1.0 s (`BasePredictor(keep_silence_s=...)`). A run over two corpora counts once per
corpus. The rule (`benchmarks/results/real_voices/rule_trim_silence.txt`) is applied and its verdict
printed. `--combine` joins results written by several processes and decides on all of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from dc_offset import RELEASE, figures  # noqa: E402
from machine import describe, write_result  # noqa: E402

SURROUNDED = ("3 s of room noise before", "2 s of room noise either side")
MODES = {"kept": None, "0.5": 0.5, "1.0": 1.0}


def evaluate(runs: list[Path], scratch: Path, modes: list[str], over_s: float | None = None) -> dict:
    from specser.runs.robustness import robustness

    out = {}
    for mode in modes:
        keep = MODES[mode]
        rows = {}
        for run in runs:
            record = robustness(run, ["clean", *SURROUNDED, *RELEASE], out=scratch / mode / run.name, progress=False,
                                keep_silence_s=keep, trim_over_s=over_s)
            rows.update(figures(record))
            print(mode, run.name, {k: {c: round(100 * v["agreement"], 1) for c, v in f.items() if c in SURROUNDED}
                                   for k, f in figures(record).items()}, flush=True)
        out[mode] = rows
    return out


def decide(results: dict) -> dict:
    old = results["kept"]
    keys = sorted(old)
    verdicts = {}
    for mode in [m for m in ("0.5", "1.0") if results.get(m)]:
        new = results[mode]

        def mean_change(conditions, metric="agreement"):
            return float(np.mean([100 * (new[k][c][metric] - old[k][c][metric]) for k in keys for c in conditions]))

        clean = [100 * (new[k]["clean"]["accuracy"] - old[k]["clean"]["accuracy"]) for k in keys]
        checks = {"surrounded_agreement_gain": mean_change(SURROUNDED),
                  "surrounded_accuracy_gain": mean_change(SURROUNDED, "accuracy"),
                  "largest_clean_change": float(max(abs(c) for c in clean)), "mean_clean_change": float(np.mean(clean)),
                  "release_agreement_change": mean_change(RELEASE)}
        checks["passes"] = bool(checks["surrounded_agreement_gain"] >= 5.0 and checks["largest_clean_change"] <= 1.0
                                and checks["mean_clean_change"] >= -0.3 and checks["release_agreement_change"] >= -0.5)
        verdicts[mode] = checks
    passing = [m for m in verdicts if verdicts[m]["passes"]]
    adopted = None
    if passing:
        best = max(passing, key=lambda m: verdicts[m]["surrounded_agreement_gain"])
        if "1.0" in passing and verdicts[best]["surrounded_agreement_gain"] - verdicts["1.0"]["surrounded_agreement_gain"] <= 0.5:
            best = "1.0"
        adopted = best
    return {"candidates": verdicts, "adopted_keep_silence_s": float(adopted) if adopted else None, "figures": len(keys)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--combine", nargs="+", type=Path, default=[])
    parser.add_argument("--modes", default=",".join(MODES), help="which of kept, 0.5, 1.0 to run (default: all)")
    parser.add_argument("--over", type=float, default=None,
                        help="shorten only silence longer than this many seconds (default: any longer than the mode)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "trim_silence.json")
    args = parser.parse_args()
    if not args.runs and not args.combine:
        parser.error("give run folders, or --combine earlier results")
    results = {mode: {} for mode in MODES}
    runs: list[str] = []
    for path in args.combine:  # a mode measured again later replaces the earlier figures
        earlier = json.loads(path.read_text())
        runs += [r for r in earlier["runs"] if r not in runs]
        for mode in results:
            results[mode].update(earlier["figures"].get(mode, {}))
    if args.runs:
        fresh = evaluate(args.runs, args.out.parent / "trim_silence", args.modes.split(","), args.over)
        for mode in fresh:
            results[mode].update(fresh[mode])
        runs += [str(r) for r in args.runs if str(r) not in runs]
    if not results["kept"]:  # nothing to compare with yet: keep the figures for a later --combine
        write_result({"machine": describe(), "runs": runs, "figures": results}, args.out)
        return 0
    verdict = decide(results)
    for mode, v in verdict["candidates"].items():
        print(f"keep {mode} s: surrounded agreement {v['surrounded_agreement_gain']:+.1f} (accuracy "
              f"{v['surrounded_accuracy_gain']:+.1f}); clean largest {v['largest_clean_change']:.1f}, mean "
              f"{v['mean_clean_change']:+.1f}; release agreement {v['release_agreement_change']:+.1f} -> "
              f"{'passes' if v['passes'] else 'fails'}")
    print(f"adopted: {verdict['adopted_keep_silence_s']}")
    write_result({"machine": describe(), "runs": runs, "figures": results, "decision": verdict}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
