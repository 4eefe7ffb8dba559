"""The paper's experiment, reproduced honestly: Spec-ResNet and MFCC baselines on the same folds.

Runs each job below as a `specser cv` / `specser baseline` command (resumable: a finished
job is read back, an interrupted one resumes), then writes
    benchmarks/results/reproduce.json   figures, commands, wall times and the machine
    benchmarks/results/reproduce.md     the comparison table (with the paper's claims) and targets
    benchmarks/results/reproduce.png    the bar chart

    python benchmarks/reproduce.py                       # everything (hours on a 2-core CPU)
    python benchmarks/reproduce.py --only native,mfcc    # jobs whose name contains any of these
    python benchmarks/reproduce.py --quick               # smoke run: 2 epochs, no search; NOT results
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe  # noqa: E402
from specser.evaluation.summaries import CVSummary  # noqa: E402
from specser.references import EMOBOX_BEST, PAPER_HOLDOUT_ACCURACY  # noqa: E402

# (name, command kind, protocol, label set, extra arguments)
JOBS = [
    ("spec_resnet-native-random-5fold-ravdess6", "cv", "random-5fold", "ravdess6", []),
    ("spec_resnet-native-actor-5fold-ravdess6", "cv", "actor-5fold", "ravdess6", []),
    ("spec_resnet-native-emobox-ravdess8", "cv", "emobox", "ravdess8", []),
    *[(f"{feat}-{model}-{protocol}-{labels}", "baseline", protocol, labels, ["--model", model, "--features", feat])
      for feat in ("mfcc", "egemaps") for model in (("svm", "mlp") if feat == "mfcc" else ("svm",))
      for protocol, labels in (("random-5fold", "ravdess6"), ("actor-5fold", "ravdess6"), ("emobox", "ravdess8"))],
    ("spec_resnet-image-random-5fold-ravdess6", "cv", "random-5fold", "ravdess6", ["--set", "features.mode=image"]),
    ("spec_resnet-image-actor-5fold-ravdess6", "cv", "actor-5fold", "ravdess6", ["--set", "features.mode=image"]),
]
QUICK_ARGS = ["--set", "train.max_epochs=2", "--set", "baseline.search=false"]
TARGETS = [  # (job, metric, threshold, what)
    ("spec_resnet-native-random-5fold-ravdess6", "accuracy", PAPER_HOLDOUT_ACCURACY,
     "random-5fold, 6 classes: >= 92 % (paper claims 91.5 ± 0.8)"),
    ("spec_resnet-native-actor-5fold-ravdess6", "accuracy", 0.75, "actor-5fold, 6 classes: >= 75 %"),
    ("spec_resnet-native-emobox-ravdess8", "accuracy", EMOBOX_BEST.value, "emobox, 8 classes: WA above the leaderboard's 75.87 %"),
]


def command(job, data: str, runs: Path, quick: bool) -> list[str]:
    name, kind, protocol, label_set, extra = job
    cmd = ["specser", kind, "--data", data, "--protocol", protocol, "--out", str(runs / name), "--no-progress"]
    if label_set != "ravdess6":
        cmd += ["--set", f"data.label_set={label_set}"]
    return cmd + extra + (QUICK_ARGS if quick else [])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess"))
    parser.add_argument("--runs", type=Path, default=None, help="where the run folders go (default runs/reproduce)")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--only", default="", help="comma-separated substrings of job names to run")
    parser.add_argument("--quick", action="store_true", help="2 epochs, no hyper-parameter search: a smoke test, not results")
    parser.add_argument("--report-only", action="store_true", help="run nothing; tabulate the finished jobs")
    args = parser.parse_args()
    runs = args.runs or Path("runs") / ("reproduce-quick" if args.quick else "reproduce")
    stem = "reproduce-quick" if args.quick else "reproduce"
    wanted = [s for s in args.only.split(",") if s]
    specser = str(Path(sys.executable).with_name("specser"))

    records = []
    for job in JOBS:
        name = job[0]
        cmd = command(job, args.data, runs, args.quick)
        record = {"name": name, "command": shlex.join(cmd), "status": "not run"}
        selected = not wanted or any(w in name for w in wanted)
        summary_path = runs / name / "cv_summary.json"
        if selected and not summary_path.exists() and not args.report_only:
            print(f"\n=== {name}\n$ {record['command']}", flush=True)
            started = time.time()
            rc = subprocess.call([specser, *cmd[1:]])
            record["session_wall_time_s"] = round(time.time() - started, 1)
            if rc != 0:
                record["status"] = f"failed (exit {rc})"
        if summary_path.exists():
            summary = CVSummary.load(summary_path)
            record["status"] = "done"
            record["model"], record["protocol"], record["label_set"] = (summary.run.model, summary.run.protocol,
                                                                        summary.run.label_set)
            record["wall_time_s"] = round(summary.run.fold_wall_time_s, 1)
            record |= {k: dataclasses.asdict(getattr(summary, k)) for k in ("accuracy", "uar", "macro_f1")}
        records.append(record)

    done = [r for r in records if r["status"] == "done"]
    targets = []
    for job, metric, threshold, what in TARGETS:
        rec = next((r for r in done if r["name"] == job), None)
        value = rec[metric]["mean"] if rec else None
        targets.append({"target": what, "measured": value,
                        "met": None if value is None else bool(value >= threshold)})
    full_run = ["python", *[a for a in sys.argv if a != "--report-only"]]
    result = {"quick": args.quick, "machine": describe(), "command": shlex.join(full_run),
              "jobs": records, "targets": targets}
    if args.report_only:  # runs came from earlier invocations: their session times are not known here
        result["tabulated_by"] = shlex.join(["python", *sys.argv])
    args.results.mkdir(parents=True, exist_ok=True)
    from specser.evaluation.compare import compare_runs

    md_path = args.results / f"{stem}.md"
    if done:
        title = "QUICK SMOKE RUN (2 epochs, no search): NOT results" if args.quick else "Reproduction: Spec-ResNet and baselines"
        compare_runs([runs / r["name"] for r in done], md_path, title)
        lines = ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
        for t in targets:
            measured = "not run" if t["measured"] is None else f"{100 * t['measured']:.1f} %"
            lines.append(f"| {t['target']} | {measured} | {'-' if t['met'] is None else ('yes' if t['met'] else 'no')} |")
        not_done = [r for r in records if r["status"] != "done"]
        if not_done:
            lines += ["", "Not in this table: " + "; ".join(f"`{r['name']}` ({r['status']})" for r in not_done) + "."]
        m = result["machine"]
        lines += ["", f"Measured {m['date'][:10]} on {m['cpu']} ({m['cpu_count']} cores), GPU: {m.get('gpu') or 'none'}, "
                  f"torch {m.get('torch')}. Regenerate: `{result['command']}`.", ""]
        md_path.write_text(md_path.read_text() + "\n".join(lines))
    from specser.atomic import atomic_write_json

    atomic_write_json(args.results / f"{stem}.json", result)
    print(f"\nwrote {args.results / (stem + '.json')}" + (f" and {md_path}" if done else ""))
    return 0 if all(r["status"] in ("done", "not run") for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
