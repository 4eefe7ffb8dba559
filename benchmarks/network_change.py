"""Does a change of the network earn a place in `robust`? The decision of
`benchmarks/results/real_voices/rule_antialias_time.txt`, from figures measured already:

    python benchmarks/network_change.py --views benchmarks/results/real_voices/antialias_time.json \\
        --base robust-90-again --candidate +antialias-time \\
        --out benchmarks/results/real_voices/antialias_time_decision.json

`--views` is a `benchmarks/time_views.py --plain` result holding both rows' runs (clean, one frame later and the
nine conditions on the development speakers); the ablation table (`ablation_dev.json`) gives each row's
RAVDESS -> nEMO accuracy and training wall time. Means over the rows' seeds; each change must reach its
threshold (`THRESHOLDS`, the rule's (a)-(f)). Prints each check and writes the verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ablation import slug  # noqa: E402  (the dev ablation's run folders: "+antialias-time", 42 -> antialias-time-s42)
from machine import describe, write_result  # noqa: E402
from time_views import CONDITIONS, ONE_FRAME_LATER  # noqa: E402

TELEPHONE = "telephone band"
THRESHOLDS = {"clean_accuracy_change": -1.0, "one_frame_later_kept_gain": 2.0, "nine_conditions_kept_gain": 1.0,
              "nemo_accuracy_change": -1.0, "wall_time_change_percent": -25.0, "telephone_kept_change": -1.0}


def row_figures(views: dict, row: dict) -> dict:
    """Means over a row's seeds: accuracy and labels kept from the views result, nEMO and time from the table."""
    seeds = sorted(row["seeds"])
    runs = [r for name, r in views.items() if any(Path(name).name == f"{slug(row['name'])}-s{s}" for s in seeds)]
    if len(runs) != len(seeds):
        raise SystemExit(f"{row['name']}: {len(runs)} of its {len(seeds)} runs are in the views result")

    def mean(condition, metric):
        return 100 * float(np.mean([r["as it stands"][condition][metric] for r in runs]))

    return {"clean": mean("clean", "accuracy"), "one_frame_later_kept": mean(ONE_FRAME_LATER, "agreement"),
            "nine_conditions_kept": float(np.mean([mean(c, "agreement") for c in CONDITIONS])),
            "telephone_kept": mean(TELEPHONE, "agreement"),
            "kept": {c: mean(c, "agreement") for c in CONDITIONS},
            "nemo": 100 * float(np.mean([row["seeds"][s]["nemo"]["accuracy"] for s in seeds])),
            "wall_time_min": float(np.mean([row["seeds"][s]["wall_time_s"] for s in seeds])) / 60,
            "s_per_epoch": float(np.mean([row["seeds"][s]["wall_time_s"] / row["seeds"][s]["epochs"] for s in seeds]))}


def decide(base: dict, candidate: dict) -> dict:
    figures = {"clean_accuracy_change": candidate["clean"] - base["clean"],
               "one_frame_later_kept_gain": candidate["one_frame_later_kept"] - base["one_frame_later_kept"],
               "nine_conditions_kept_gain": candidate["nine_conditions_kept"] - base["nine_conditions_kept"],
               "nemo_accuracy_change": candidate["nemo"] - base["nemo"],
               # negative when slower, so that every check reads "at least its threshold"
               "wall_time_change_percent": -100 * (candidate["wall_time_min"] / base["wall_time_min"] - 1),
               "telephone_kept_change": candidate["telephone_kept"] - base["telephone_kept"]}
    adopted = all(figures[k] >= t for k, t in THRESHOLDS.items())
    return {**figures, "thresholds": THRESHOLDS, "adopted": bool(adopted), "means": {"base": base, "candidate": candidate}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--views", type=Path, required=True, help="a time_views.py --plain result")
    parser.add_argument("--table", type=Path, default=HERE / "results" / "ablation_dev" / "ablation_dev.json")
    parser.add_argument("--base", default="robust-90-again", help="the ablation row of the preset as it stands")
    parser.add_argument("--candidate", required=True, help="the ablation row of the change")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "network_change.json")
    args = parser.parse_args()
    views = json.loads(args.views.read_text())["runs"]
    rows = {r["name"]: r for r in json.loads(args.table.read_text())["rows"]}
    base, candidate = (row_figures(views, rows[name]) for name in (args.base, args.candidate))
    verdict = decide(base, candidate)
    for key, least in THRESHOLDS.items():
        print(f"{key}: {verdict[key]:+.2f} (at least {least:+.1f})")
    print(f"-> {'adopted' if verdict['adopted'] else 'not adopted'}")
    write_result({"machine": describe(), "base": args.base, "candidate": args.candidate, "decision": verdict}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
