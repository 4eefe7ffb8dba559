"""Does removing a recording's DC offset keep its labels? The decision of `rule_dc_offset.txt`.

    python benchmarks/dc_offset.py RUN [RUN ...] [--out benchmarks/results/real_voices/dc_offset.json]
    python benchmarks/dc_offset.py --combine A.json B.json [--out ...]

Each run's held-out clips go through the robustness benchmark's conditions (clean, the two DC
offsets, the release conditions) twice: as predictors label them now (the offset removed), and with
the removal turned off, as before. A run over two corpora counts once per corpus. The rule
(`benchmarks/results/real_voices/rule_dc_offset.txt`) is applied and its verdict printed. `--combine`
joins results written by several processes (one run each, say) and decides on all of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

OFFSETS = ("dc offset -40 dBFS", "dc offset 20 dB below speech")
RELEASE = ("noise floor -60 dBFS", "gain -20 dB", "gain +20 dB", "8-bit", "pink 20 dB SNR", "babble 20 dB SNR",
           "telephone band")


def figures(record: dict) -> dict[str, dict]:
    """{run[/corpus]: {condition: {"accuracy", "agreement"}}}, one entry per corpus of the run."""
    name = Path(record["run"]).name
    out: dict[str, dict] = {}
    for condition, result in record["conditions"].items():
        parts = result.get("by_corpus") or {None: result}
        for corpus, f in parts.items():
            key = f"{name}/{corpus}" if corpus else name
            out.setdefault(key, {})[condition] = {"accuracy": f["accuracy"], "agreement": f.get("agreement", 1.0)}
    return out


def evaluate(runs: list[Path], scratch: Path) -> dict:
    import specser.audio.checks as checks
    import specser.inference.base as base
    from specser.runs.robustness import robustness

    product = base.remove_dc
    out = {}
    for mode in ("removed", "kept"):  # kept: the predictor and the speech check as before (the loader reads clean files)
        base.remove_dc = checks.remove_dc = product if mode == "removed" else (lambda wave: wave)
        rows = {}
        for run in runs:
            record = robustness(run, ["clean", *OFFSETS, *RELEASE], out=scratch / mode / run.name, progress=False)
            rows.update(figures(record))
            print(mode, run.name, {k: {c: round(100 * v["agreement"], 1) for c, v in f.items() if c != "clean"}
                                   for k, f in figures(record).items()}, flush=True)
        out[mode] = rows
    base.remove_dc = checks.remove_dc = product
    return out


def decide(results: dict) -> dict:
    new, old = results["removed"], results["kept"]
    keys = sorted(old)

    def mean_change(conditions, metric="agreement"):
        return float(np.mean([100 * (new[k][c][metric] - old[k][c][metric]) for k in keys for c in conditions]))

    clean = {k: 100 * (new[k]["clean"]["accuracy"] - old[k]["clean"]["accuracy"]) for k in keys}
    checks = {"offset_agreement_gain": mean_change(OFFSETS), "offset_accuracy_gain": mean_change(OFFSETS, "accuracy"),
              "largest_clean_change": float(max(abs(v) for v in clean.values())),
              "release_agreement_change": mean_change(RELEASE)}
    passes = (checks["offset_agreement_gain"] >= 5.0 and checks["largest_clean_change"] <= 0.5
              and checks["release_agreement_change"] >= -0.5)
    return {**checks, "figures": len(keys), "adopted": bool(passes)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--combine", nargs="+", type=Path, default=[])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "dc_offset.json")
    args = parser.parse_args()
    if not args.runs and not args.combine:
        parser.error("give run folders, or --combine earlier results")
    results = {"removed": {}, "kept": {}}
    runs = []
    for path in args.combine:
        earlier = json.loads(path.read_text())
        runs += earlier["runs"]
        for mode in results:
            results[mode].update(earlier["figures"][mode])
    if args.runs:
        fresh = evaluate(args.runs, args.out.parent / "dc_offset")
        for mode in results:
            results[mode].update(fresh[mode])
        runs += [str(r) for r in args.runs]
    verdict = decide(results)
    print(f"offsets: agreement {verdict['offset_agreement_gain']:+.1f}, accuracy {verdict['offset_accuracy_gain']:+.1f}; "
          f"largest clean change {verdict['largest_clean_change']:.1f}; release conditions' agreement "
          f"{verdict['release_agreement_change']:+.1f} -> {'adopted' if verdict['adopted'] else 'not adopted'}")
    write_result({"machine": describe(), "runs": runs, "figures": results, "decision": verdict}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
