"""Calibration of trained runs: on their held-out speakers, on another corpus, and what temperature
scaling fitted on validation would change.

    python benchmarks/calibration.py RUN [RUN ...] [--other nemo] [--out benchmarks/results/calibration.json]

Each RUN is a `specser train --test-speakers ...` run; `RUN/metrics.json` holds its test speakers'
per-file probabilities. `--other NAME` also reads `RUN/NAME/metrics.json`, written by `specser evaluate
RUN --data OTHER_CORPUS --all --out RUN/NAME` (cross-corpus). For each it prints accuracy, mean top
probability, ECE, the mean top probability of wrong labels, how well that probability tells right labels
from wrong ones (AUROC) and NLL (`specser.evaluation.calibration`), and the accuracy of the more and of
the less confident half of the clips.

Then it fits one temperature T per run on the run's own validation clips (`split.json`; the model labels
them afresh), minimising their NLL, as post-hoc temperature scaling does (Guo et al. 2017), and gives
the same figures at that T. T > 1 softens the probabilities, T < 1 sharpens them; labels never change.
Validation only picks T: the test and the other corpus are only measured.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.evaluation.calibration import calibration  # noqa: E402

FIGURES = ("accuracy", "mean_confidence", "ece", "confidence_when_wrong", "confidence_auroc", "nll")
COLUMNS = (*FIGURES, "accuracy_surer_half", "accuracy_less_sure_half")
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4.0), 161))  # a fine grid: one parameter, no optimiser


def stored(metrics_json: Path) -> tuple[np.ndarray, np.ndarray]:
    """(targets, probabilities) from the per-file predictions of a metrics.json."""
    metrics = json.loads(metrics_json.read_text())
    labels = metrics["labels"]
    rows = metrics["predictions"]
    return (np.array([labels.index(r["label"]) for r in rows]),
            np.array([[r["probabilities"][label] for label in labels] for r in rows]))


def at_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax(logits / T) from probabilities: log p is the logits up to a per-row constant."""
    logits = np.log(np.clip(probs, 1e-12, None)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def nll(targets: np.ndarray, probs: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(targets)), targets], 1e-12, None))))


def validation(run: Path) -> tuple[np.ndarray, np.ndarray]:
    """(targets, probabilities) of the run's validation clips, labelled afresh by its model."""
    from specser.inference.predictor import Predictor

    predictor = Predictor.from_file(run / "model.specser", device="cpu")
    rows = {r["utt_id"]: r for r in csv.DictReader(open(run / "manifest.csv"))}
    val = [rows[i] for i in json.loads((run / "split.json").read_text())["val"]]
    waves = [predictor.load(r["path"]) for r in val]
    probs = np.concatenate([predictor.probabilities(waves[i:i + 32]) for i in range(0, len(waves), 32)])
    return np.array([predictor.labels.index(r["label"]) for r in val]), probs


def halves(targets: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy of the more and of the less confident half of the clips: what holding back unsure labels buys."""
    order = np.argsort(-probs.max(axis=1), kind="stable")
    correct = probs.argmax(axis=1)[order] == targets[order]
    half = len(order) // 2
    return {"accuracy_surer_half": round(100 * float(correct[:half].mean()), 2),
            "accuracy_less_sure_half": round(100 * float(correct[half:].mean()), 2)}


def figures(targets: np.ndarray, probs: np.ndarray) -> dict:
    c = calibration(targets, probs)
    return {**{k: None if c[k] is None else round(c[k], 4) if k in ("nll", "confidence_auroc") else round(100 * c[k], 2)
               for k in FIGURES}, **halves(targets, probs)}


def measure(run: Path, other: str | None) -> dict:
    sets = {"test": stored(run / "metrics.json")}
    if other:
        sets[other] = stored(run / other / "metrics.json")
    val_targets, val_probs = validation(run)
    temperature = float(min(TEMPERATURES, key=lambda t: nll(val_targets, at_temperature(val_probs, t))))
    return {
        "run": str(run), "temperature": round(temperature, 3),
        "validation": {"clips": len(val_targets), "as_trained": figures(val_targets, val_probs),
                       "at_temperature": figures(val_targets, at_temperature(val_probs, temperature))},
        **{name: {"clips": len(t), "as_trained": figures(t, p), "at_temperature": figures(t, at_temperature(p, temperature))}
           for name, (t, p) in sets.items()},
    }


def render(record: dict) -> str:
    lines = [f"{record['run']}: temperature fitted on validation T = {record['temperature']}",
             f"  {'clips':>22s} {'n':>5s} " + " ".join(f"{k:>22s}" for k in COLUMNS)]
    for name in [k for k in record if isinstance(record[k], dict)]:
        for how in ("as_trained", "at_temperature"):
            values = record[name][how]
            lines.append(f"  {name + ', ' + how:>22s} {record[name]['clips']:5d} "
                         + " ".join(f"{'n/a' if values[k] is None else values[k]:>22}" for k in COLUMNS))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--other", default=None, help="a subfolder of each run holding `specser evaluate` of another corpus")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "calibration.json")
    args = parser.parse_args()
    records = []
    for run in args.runs:
        records.append(measure(run, args.other))
        print(render(records[-1]), flush=True)
    write_result({"machine": describe(), "figures_in": "% but NLL and AUROC", "runs": records}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
