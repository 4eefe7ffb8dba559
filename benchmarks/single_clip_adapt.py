"""Single-clip adaptation: each clip adapts the model's BatchNorm statistics to itself before it is labelled
(prediction-time BatchNorm with a prior, Schneider et al. 2020), with no other recording of the speaker.

    python benchmarks/single_clip_adapt.py RUN [RUN ...] --target CORPUS [--priors 8,32,128] [--out OUT.json]
    python benchmarks/single_clip_adapt.py --decide DEV.json,... NEMO.json,... [--out OUT.json]

For a clip, each BatchNorm layer's statistics become 1 / (1 + N) of the clip's own (over its
time-frequency positions) and N / (1 + N) of the trained ones, for each prior N. Measured, beside the
model as trained: every clip of CORPUS with the model's labels (the other corpus), and, for a run with
test speakers, those speakers' clips clean and under six recording conditions (accuracy, and agreement
with the clean clip's label, both labelled the same way). Rule:
benchmarks/results/real_voices/rule_single_clip.txt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from adapt import corpus_logmels, degraded_logmels  # noqa: E402
from machine import describe, write_result  # noqa: E402

CONDITIONS = ("noise floor -60 dBFS", "gain +20 dB", "8-bit", "telephone band", "babble 20 dB SNR",
              "reverb RT60 0.6 s")


class ClipAdapted:
    """Labels log-Mels one at a time, each on the network whose BatchNorm statistics it moved (prior N)."""

    def __init__(self, model_file, prior: float):
        import torch

        from specser.inference.predictor import Predictor

        self.predictor = Predictor(model_file, device="cpu", tta_crops=1)
        self.network = model_file.build()
        self.predictor.model = self.network.to(memory_format=torch.channels_last)
        self.layers = [m for m in self.network.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        self.trained = [(m.running_mean.clone(), m.running_var.clone()) for m in self.layers]
        self.weight = 1.0 / (1.0 + prior)

    def probabilities(self, logmels: list) -> np.ndarray:
        out = []
        for f in logmels:
            for layer in self.layers:  # measure this clip's statistics alone
                layer.reset_running_stats()
                layer.momentum = None
                layer.train()
            self.predictor.feature_probabilities([f])
            for layer, (mean, var) in zip(self.layers, self.trained):
                layer.running_mean.mul_(self.weight).add_((1 - self.weight) * mean)
                layer.running_var.mul_(self.weight).add_((1 - self.weight) * var)
                layer.eval()
            out.append(self.predictor.feature_probabilities([f])[0])
        return np.stack(out)


def as_trained(model_file):
    from specser.inference.predictor import Predictor

    predictor = Predictor(model_file, device="cpu", tta_crops=1)
    return lambda logmels: np.concatenate([predictor.feature_probabilities(logmels[i:i + 256])
                                           for i in range(0, len(logmels), 256)])


def accuracy(probs: np.ndarray, targets: np.ndarray) -> float:
    return round(100 * float(np.mean(probs.argmax(1) == targets)), 2)


def measure(run: Path, target: Path, priors: list[float]) -> dict:
    from specser.inference.model_file import ModelFile
    from specser.inference.predictor import Predictor

    mf = ModelFile.load(run / "model.specser")
    labellers = {"as_trained": as_trained(mf), **{f"prior_{p:g}": ClipAdapted(mf, p).probabilities for p in priors}}
    feats, targets, _, _ = corpus_logmels(run, target, mf)
    record = {"run": str(run), "target": str(target),
              "other_corpus": {name: accuracy(label(feats), targets) for name, label in labellers.items()}}
    print(run.name, "other corpus", record["other_corpus"], flush=True)
    own, own_targets, _, _ = corpus_logmels(run, None, mf)
    if not len(own_targets):
        return record
    predictor = Predictor(mf, device="cpu", tta_crops=1)
    inputs = {"clean": own, **{c: degraded_logmels(run, mf, predictor, c) for c in CONDITIONS}}
    record["own_test_speakers"] = {}
    for name, label in labellers.items():
        predicted = {c: label(logmels).argmax(1) for c, logmels in inputs.items()}
        record["own_test_speakers"][name] = {
            c: {"accuracy": round(100 * float(np.mean(p == own_targets)), 2),
                "agreement": round(100 * float(np.mean(p == predicted["clean"])), 2)} for c, p in predicted.items()}
        record["own_test_speakers"][name]["mean_agreement"] = round(float(np.mean(
            [v["agreement"] for c, v in record["own_test_speakers"][name].items() if c != "clean"])), 2)
        print(run.name, name, "own clean", record["own_test_speakers"][name]["clean"]["accuracy"], "mean agreement",
              record["own_test_speakers"][name]["mean_agreement"], flush=True)
    return record


def decide(dev_files: list[Path], nemo_files: list[Path]) -> dict:
    """The rule's table and verdict from the outputs of the RAVDESS development models and the nEMO models."""
    import json

    dev = [r for f in dev_files for r in json.loads(f.read_text())["runs"]]
    nemo = [r for f in nemo_files for r in json.loads(f.read_text())["runs"]]
    names = list(dev[0]["other_corpus"])
    table = {}
    for name in names:
        to_nemo = float(np.mean([r["other_corpus"][name] - r["other_corpus"]["as_trained"] for r in dev]))
        to_ravdess = float(np.mean([r["other_corpus"][name] - r["other_corpus"]["as_trained"] for r in nemo]))
        own = [r["own_test_speakers"] for r in dev]
        table[name] = {
            "ravdess_to_nemo": round(to_nemo, 2), "nemo_to_ravdess": round(to_ravdess, 2),
            "cross": round((to_nemo + to_ravdess) / 2, 2),
            "own_clean": round(float(np.mean([o[name]["clean"]["accuracy"] - o["as_trained"]["clean"]["accuracy"]
                                              for o in own])), 2),
            "mean_agreement": round(float(np.mean([o[name]["mean_agreement"] for o in own])), 2)}
    base = table["as_trained"]["mean_agreement"]
    candidates = [n for n in names if n != "as_trained" and table[n]["cross"] >= 2.0 and table[n]["own_clean"] >= -1.0
                  and table[n]["mean_agreement"] >= base - 1.0]
    chosen = max(candidates, key=lambda n: table[n]["cross"]) if candidates else None
    for name, row in table.items():
        print(f"{name:>12}: " + ", ".join(f"{k} {v:+.1f}" if k != "mean_agreement" else f"{k} {v:.1f}"
                                          for k, v in row.items()))
    print("candidates:", candidates, "chosen:", chosen)
    return {"table": table, "candidates": candidates, "chosen": chosen,
            "models": {"dev": [r["run"] for r in dev], "nemo": [r["run"] for r in nemo]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--target", type=Path)
    parser.add_argument("--priors", default="8,32,128")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "single_clip.json")
    parser.add_argument("--decide", nargs=2, metavar=("DEV_JSONS", "NEMO_JSONS"), help="instead: the rule's verdict "
                        "from earlier outputs (comma-separated files of the RAVDESS and of the nEMO models)")
    args = parser.parse_args()
    if args.decide:
        dev, nemo = ([Path(f) for f in group.split(",")] for group in args.decide)
        write_result({"rule": "rule_single_clip.txt", **decide(dev, nemo)}, args.out)
        return 0
    if not args.runs or args.target is None:
        parser.error("give runs and --target (or --decide)")
    import torch

    torch.set_num_threads(1)
    priors = [float(p) for p in args.priors.split(",") if p]
    write_result({"machine": describe(), "runs": [measure(run, args.target, priors) for run in args.runs]}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
