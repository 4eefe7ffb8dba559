"""Does labelling each window by the mean over time-rolled copies of it keep more labels under recording
conditions? The decisive test of `benchmarks/results/real_voices/rule_time_views.txt`.

    python benchmarks/time_views.py runs/cv-robust-actor5-xeon/fold_0* \\
        --out benchmarks/results/real_voices/time_views.json
    # or a few folds per process (--no-decision --out PART.json), then: --combine PART1.json PART2.json --out ...

For each run (a CV fold folder), its own test clips under clean and nine recording conditions, labelled as the
predictor stands and with `time_views` (circular rolls of the input, in frames), plus the share of labels kept
when the recording starts one frame (16 ms) later. Then the rule's decision over the runs' means, and the time
of a 4 s clip through the bundled model at one thread with and without the views. Prints each run as it ends.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.audio.degrade import degrade_all  # noqa: E402
from specser.bundled import default_model  # noqa: E402
from specser.inference.model_file import ModelFile  # noqa: E402
from specser.inference.predictor import Predictor  # noqa: E402
from specser.runs.robustness import held_out_clips, predicted_labels  # noqa: E402

VIEWS = (-12, -4, 4, 12)
CONDITIONS = ("noise floor -60 dBFS", "gain +20 dB", "8-bit", "pink 20 dB SNR", "babble 20 dB SNR", "telephone band",
              "opus, low bit rate", "reverb RT60 0.6 s",
              "a room at arm's length (RT60 0.6 s, direct-to-reverberant ratio 0 dB)")
ONE_FRAME_LATER = "one frame (16 ms) later"


def run_figures(run: Path, views: tuple[int, ...]) -> dict:
    """{setting: {condition: {accuracy, agreement}}} for one run, each condition's audio made once."""
    predictor, rows, waves = held_out_clips(run)
    truth = np.array([predictor.labels.index(r.label) for r in rows])
    speakers = [r.speaker for r in rows]
    hop = predictor.features.hop_length
    inputs = {"clean": waves, ONE_FRAME_LATER: [np.concatenate([np.zeros(hop, np.float32), w]) for w in waves],
              **{c: degrade_all(c, waves, speakers, predictor.sample_rate) for c in CONDITIONS}}
    out = {}
    settings = [("as it stands", ())] + ([("time views", views)] if views else [])
    for setting, rolls in settings:
        predictor.time_views = rolls
        labels = {name: predicted_labels(predictor, audio, speakers) for name, audio in inputs.items()}
        out[setting] = {name: {"accuracy": float(np.mean(p == truth)), "agreement": float(np.mean(p == labels["clean"]))}
                        for name, p in labels.items()}
    return out


def clip_time_ms(views: tuple[int, ...], repeats: int = 20) -> float:
    """Median time of one 4 s clip through the bundled model at one thread, in ms."""
    torch.set_num_threads(1)
    predictor = Predictor(ModelFile.load(default_model()), device="cpu", time_views=views)
    t = np.arange(4 * predictor.sample_rate) / predictor.sample_rate
    wave = (0.1 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    predictor.predict_wave(wave)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predictor.predict_wave(wave)
        times.append(1000 * (time.perf_counter() - start))
    return float(np.median(times))


def decide(runs: dict[str, dict]) -> dict:
    def mean(setting, condition, metric):
        return 100 * float(np.mean([r[setting][condition][metric] for r in runs.values()]))

    kept = {c: mean("time views", c, "agreement") - mean("as it stands", c, "agreement") for c in CONDITIONS}
    figures = {"clean_accuracy_change": mean("time views", "clean", "accuracy") - mean("as it stands", "clean", "accuracy"),
               "mean_kept_gain": float(np.mean(list(kept.values()))), "worst_condition_kept_change": min(kept.values())}
    figures["adopted_on_labels"] = bool(figures["clean_accuracy_change"] >= -0.5 and figures["mean_kept_gain"] >= 1.0
                                        and figures["worst_condition_kept_change"] >= -2.0)
    figures["means"] = {s: {c: {"accuracy": mean(s, c, "accuracy"), "agreement": mean(s, c, "agreement")}
                            for c in ("clean", ONE_FRAME_LATER, *CONDITIONS)} for s in ("as it stands", "time views")}
    figures["kept_change_by_condition"] = kept
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--combine", nargs="+", type=Path, default=[],
                        help="decide over the runs of results written earlier (one process per few folds)")
    parser.add_argument("--no-decision", action="store_true", help="write the runs' figures only (to --combine later)")
    parser.add_argument("--plain", action="store_true", help="the predictor as it stands only (no views, no decision): "
                        "labels kept one frame later and under the conditions, for rule_antialias.txt")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "time_views.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs = {k: v for path in args.combine for k, v in json.loads(path.read_text())["runs"].items()}
    for run in args.runs:
        runs[str(run)] = run_figures(run, () if args.plain else VIEWS)
        row = runs[str(run)]
        print(run, {s: {c: f"{100 * v['accuracy']:.1f}/{100 * v['agreement']:.1f}" for c, v in row[s].items()}
                    for s in row}, flush=True)
    if args.no_decision or args.plain:
        write_result({"machine": describe(), "views": list(VIEWS), "runs": runs}, args.out)
        return 0
    decision = decide(runs)
    decision["clip_ms"] = {"as it stands": clip_time_ms(()), "time views": clip_time_ms(VIEWS)}
    decision["adopted"] = bool(decision["adopted_on_labels"] and decision["clip_ms"]["time views"] <= 40.0)
    for key in ("clean_accuracy_change", "mean_kept_gain", "worst_condition_kept_change"):
        print(f"{key}: {decision[key]:+.2f}")
    print(f"4 s clip: {decision['clip_ms']['as it stands']:.1f} ms -> {decision['clip_ms']['time views']:.1f} ms")
    print(f"-> {'adopted' if decision['adopted'] else 'not adopted'}")
    write_result({"machine": describe(), "views": list(VIEWS), "runs": runs, "decision": decision}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
