"""Rebuild the model that ships with specser (`src/specser/bundled/default.specser`).

    python benchmarks/release_model.py [--ravdess DIR] [--nemo DIR] [--run runs/release] [--epochs 12]
                                       [--set KEY=VALUE ...] [--compare OLD.specser ...]

Trains the `robust` preset on every six-emotion clip of RAVDESS and nEMO (`data.test_size=0`: a
random 20 % of the clips is the validation part that picks the checkpoint), unless `--run` already
holds the finished run. Then stores the weights in half precision, records where the model came
from, and checks that the half-precision file gives the float32 model's labels on the validation
clips. With `--compare` (repeatable), the new and each older model are run on every validation clip, clean and
under the recording conditions that decide a release (a -60 dBFS floor, +-20 dB gain, 8-bit, 20 dB
pink and babble noise, the telephone band): accuracy, and agreement with each model's own clean label.
Prints the figures and writes benchmarks/results/release_model.json. The model card is
docs/model-card.md; `tests/test_bundled.py` checks the shipped file against it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

TARGET = ROOT / "src" / "specser" / "bundled" / "default.specser"
LICENCE = "CC BY-NC-SA 4.0 (from RAVDESS and nEMO): non-commercial use only"


def train(args) -> float:
    from specser.config import load_config
    from specser.runs.train import train_run

    cfg = load_config(preset="robust", overrides=[
        f"data.path=[{args.ravdess}, {args.nemo}]", "data.test_size=0", f"train.max_epochs={args.epochs}",
        f"train.early_stopping_patience={args.epochs}", *args.set])
    started = time.time()
    train_run(cfg, args.run, progress=True)
    return time.time() - started


def recipe(args) -> str:
    """The preset, its epochs and every override that changes the model (not thread counts)."""
    changes = [s for s in args.set if not s.startswith("train.threads=")]
    return " ".join(["robust", f"train.max_epochs={args.epochs}", *changes])


def best_validation(run: Path) -> dict:
    """The checkpoint's epoch and validation accuracy, from the run's Lightning log (lowest val loss)."""
    rows = [r for r in csv.DictReader(open(run / "logs" / "metrics.csv")) if r.get("val_loss")]
    best = min(rows, key=lambda r: float(r["val_loss"]))
    return {"epoch": int(best["epoch"]), "val_accuracy": float(best["val_acc"]), "val_loss": float(best["val_loss"]),
            "epochs_run": max(int(r["epoch"]) for r in rows) + 1}


def parity(full, half, run: Path, limit: int) -> dict:
    """Labels and probabilities of the float32 and half-precision files on the validation clips."""
    import numpy as np

    from specser.inference.predictor import Predictor

    split = json.loads((run / "split.json").read_text())
    where = {r["utt_id"]: r["path"] for r in csv.DictReader(open(run / "manifest.csv"))}
    paths = [where[i] for i in split["val"][:limit]]
    a, b = Predictor(full, device="cpu"), Predictor(half, device="cpu")
    pa = np.stack([a.probabilities([a.load(p)])[0] for p in paths])
    pb = np.stack([b.probabilities([b.load(p)])[0] for p in paths])
    return {"clips": len(paths), "label_agreement": float(np.mean(pa.argmax(1) == pb.argmax(1))),
            "max_abs_probability_difference": float(np.abs(pa - pb).max())}


RELEASE_CONDITIONS = ("clean", "noise floor -60 dBFS", "gain -20 dB", "gain +20 dB", "8-bit", "pink 20 dB SNR",
                      "babble 20 dB SNR", "telephone band")


def compare(models: dict[str, Path], run: Path, conditions: tuple[str, ...] = RELEASE_CONDITIONS) -> dict:
    """{model: {condition: {accuracy, agreement}}} on the run's validation clips (they share speakers
    with training, so accuracy is optimistic; the comparison between models is what counts)."""
    import numpy as np
    from tqdm.auto import tqdm

    from specser.audio.degrade import degrade_all
    from specser.inference.predictor import Predictor

    split = json.loads((run / "split.json").read_text())
    rows = {r["utt_id"]: r for r in csv.DictReader(open(run / "manifest.csv"))}
    val = [rows[i] for i in split["val"]]
    predictors = {name: Predictor.from_file(path, device="cpu") for name, path in models.items()}
    first = next(iter(predictors.values()))
    waves = [first.load(r["path"]) for r in tqdm(val, desc="validation clips")]
    speakers = [r["speaker"] for r in val]
    results = {name: {} for name in models}
    targets = {name: np.array([p.labels.index(r["label"]) for r in val]) for name, p in predictors.items()}
    clean = {}
    for condition in tqdm(conditions, desc="conditions"):
        degraded = degrade_all(condition, waves, speakers, first.sample_rate)
        for name, predictor in predictors.items():
            labels = np.concatenate([predictor.probabilities(degraded[i:i + 64]).argmax(1)
                                     for i in range(0, len(degraded), 64)])
            clean.setdefault(name, labels)
            results[name][condition] = {"accuracy": float(np.mean(labels == targets[name])),
                                        "agreement": float(np.mean(labels == clean[name]))}
    return {"clips": len(val), "models": {name: str(path) for name, path in models.items()}, "conditions": results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ravdess", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "release")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a further config override for the training run (repeatable), e.g. train.balance_corpora=true")
    parser.add_argument("--parity-clips", type=int, default=300)
    parser.add_argument("--compare", type=Path, action="append", default=[],
                        help="an earlier release's model file, to compare on validation (repeatable; named by its file name)")
    parser.add_argument("--conditions", default=None, help="--compare: comma-separated condition names (default: "
                        "the release conditions, " + ", ".join(RELEASE_CONDITIONS) + "); clean always comes first")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "release_model.json")
    args = parser.parse_args()

    from specser.inference.model_file import ModelFile

    if (args.run / "model.specser").is_file():  # finished earlier: its own record says how long it trained
        seconds = json.loads((args.run / "metrics.json").read_text())["run"].get("wall_time_s")
    else:
        seconds = train(args)
    full = ModelFile.load(args.run / "model.specser")
    corpora = {}
    for row in csv.DictReader(open(args.run / "manifest.csv")):
        name = row["utt_id"].split("/", 1)[0] if "+" in row["corpus"] else row["corpus"]  # older combined manifests
        corpora[name] = corpora.get(name, 0) + 1
    full.extra.update({"trained_on": " + ".join(f"{name} ({n} clips)" for name, n in sorted(corpora.items())),
                       "recipe": recipe(args), "licence": LICENCE, "card": "docs/model-card.md"})
    full.protocol = "all clips of both corpora (20 % random validation part)"
    half = full.half()
    half.save(TARGET)
    record = {
        "machine": describe(), "file": str(TARGET.relative_to(ROOT)), "size_mb": TARGET.stat().st_size / 1e6,
        "labels": full.labels, "parameters": full.n_parameters, "trained_on": full.extra["trained_on"],
        "features": {k: getattr(full.features, k) for k in ("sample_rate", "n_mels", "f_min", "f_max", "clip_seconds",
                                                              "level_norm", "top_db")},
        "training": {**best_validation(args.run), "wall_s": seconds, "epochs": args.epochs, "overrides": args.set},
        "half_precision_parity": parity(full, ModelFile.load(TARGET), args.run, args.parity_clips),
    }
    if args.compare:
        from specser.audio.degrade import condition_names

        names = ("clean", *[c for c in condition_names(args.conditions) if c != "clean"]) if args.conditions \
            else RELEASE_CONDITIONS
        record["validation_under_conditions"] = compare({"new": TARGET, **{p.stem: p for p in args.compare}},
                                                        args.run, names)
    print(json.dumps(record, indent=2))
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
