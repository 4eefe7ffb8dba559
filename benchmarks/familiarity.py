"""Can a model tell a recording unlike its training data? Distance in the network's own feature space.

    python benchmarks/familiarity.py RUN [RUN ...] --other ../shared/data/nemo \
        [--conditions "8-bit,telephone band,..."] [--out benchmarks/results/real_voices/familiarity.json]

A RAVDESS model labels another corpus at 26-29 % with 58-65 % confidence, and its top probability barely
tells those wrong labels from right ones (AUROC 0.56-0.59; docs/results.md, "How far to trust the
probabilities"). A warning that the recording is unfamiliar would need something else to go on. This measures
one candidate, not in the product: the Mahalanobis distance of a clip's pooled network features (the input of
the last layer) to the training clips' class means, under one covariance shared by the classes (Lee et al.
2018), with Ledoit-Wolf shrinkage. Everything is fitted on the run's training clips only.

For each RUN (a `specser train --test-speakers ...` run) it reports how well the distance tells the run's
held-out speakers from the other corpus (AUROC), and at a threshold set on the run's validation clips (their
95th percentile) how often it fires on held-out speakers, on the other corpus, and on held-out speakers under
recording conditions, and how accurate the flagged and the unflagged clips are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.audio.degrade import condition_names, degrade_all  # noqa: E402
from specser.audio.load import AudioError, load_audio  # noqa: E402
from specser.inference.familiarity import QUANTILE, fit_familiarity  # noqa: E402
from specser.config import load_config  # noqa: E402
from specser.corpus.manifest import load_manifest  # noqa: E402
from specser.features.prepare import build_manifest  # noqa: E402
from specser.runs.folder import RunFolder  # noqa: E402
from specser.runs.robustness import held_out_clips  # noqa: E402

DEFAULT_CONDITIONS = ("noise floor -60 dBFS,gain +20 dB,8-bit,pink 20 dB SNR,babble 20 dB SNR,telephone band,"
                      "opus, low bit rate,reverb RT60 0.6 s,a duller microphone, -3 dB an octave over 500 Hz,"
                      "a laptop at arm's length in a room (RT60 0.4 s, direct-to-reverberant ratio 0 dB, pink noise "
                      "20 dB SNR, a duller microphone, opus)")


def embed(predictor, waves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) embeddings and (N, C) probabilities of clips, read as `specser predict` reads them (silence
    trimmed, repairs, the model's windows): `Predictor.feature_embeddings` of the same log-Mels."""
    logmels = predictor.logmels([predictor.trimmed(w) for w in waves])
    return predictor.feature_embeddings(logmels), predictor.feature_probabilities(logmels)


def score(model, feats: np.ndarray) -> np.ndarray:
    return model.score(torch.from_numpy(np.asarray(feats, dtype=np.float32))).numpy()


def auroc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counting half."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.r_[np.zeros(len(negatives)), np.ones(len(positives))], np.r_[negatives, positives]))


def flagged_figures(scores: np.ndarray, threshold: float, correct: np.ndarray | None) -> dict:
    flagged = scores > threshold
    out = {"n": int(len(scores)), "fires": float(flagged.mean())}
    if correct is not None:
        out["accuracy"] = float(correct.mean())
        out["accuracy_flagged"] = float(correct[flagged].mean()) if flagged.any() else None
        out["accuracy_unflagged"] = float(correct[~flagged].mean()) if (~flagged).any() else None
    return out


def rows_waves(rows, predictor) -> tuple[list, list[np.ndarray]]:
    kept, waves = [], []
    for r in rows:
        try:
            waves.append(load_audio(r.path, predictor.sample_rate, name=r.path))
            kept.append(r)
        except AudioError:
            pass
    return kept, waves


def measure(run: Path, other: Path, conditions: list[str], other_limit: int | None = None) -> dict:
    predictor, test_rows, test_waves = held_out_clips(run)
    labels = predictor.labels
    split = RunFolder(run).read_json("split.json")
    cfg = load_config(run / "config.yaml")
    by_id = {r.utt_id: r for r in build_manifest(cfg)[0].rows}
    train_rows, train_waves = rows_waves([by_id[i] for i in split["train"]], predictor)
    val_rows, val_waves = rows_waves([by_id[i] for i in split["val"]], predictor)
    train_feats, _ = embed(predictor, train_waves)
    val_feats, _ = embed(predictor, val_waves)
    model = fit_familiarity(train_feats, np.array([labels.index(r.label) for r in train_rows]), val_feats, QUANTILE)
    threshold = model.threshold
    val_scores = score(model, val_feats)

    def scored(rows, waves) -> tuple[np.ndarray, np.ndarray]:
        feats, probs = embed(predictor, waves)
        targets = np.array([labels.index(r.label) if r.label in labels else -1 for r in rows])
        return score(model, feats), probs.argmax(axis=1) == targets

    test_scores, test_correct = scored(test_rows, test_waves)
    other_rows = [r for r in load_manifest(other).rows if r.label in labels]
    if other_limit and other_limit < len(other_rows):  # a seeded sample, the same for every run
        picked = np.random.default_rng(0).choice(len(other_rows), other_limit, replace=False)
        other_rows = [other_rows[i] for i in sorted(picked)]
    other_rows, other_waves = rows_waves(other_rows, predictor)
    other_scores, other_correct = scored(other_rows, other_waves)
    speakers = [r.speaker for r in test_rows]
    degraded = {}
    for name in conditions:
        scores, correct = scored(test_rows, degrade_all(name, test_waves, speakers, predictor.sample_rate))
        degraded[name] = flagged_figures(scores, threshold, correct)
    record = {
        "run": str(run), "threshold": threshold, "quantile_of_validation": QUANTILE,
        "auroc_held_out_vs_other": auroc(test_scores, other_scores),
        "auroc_validation_vs_held_out": auroc(val_scores, test_scores),
        "validation": flagged_figures(val_scores, threshold, None),
        "held_out_speakers": flagged_figures(test_scores, threshold, test_correct),
        "other_corpus": {"path": str(other), **flagged_figures(other_scores, threshold, other_correct)},
        "auroc_other_right_vs_wrong": auroc(other_scores[other_correct], other_scores[~other_correct]),
        "held_out_under_conditions": degraded,
    }
    return record


def render(record: dict) -> str:
    def pct(x):
        return "" if x is None else f"{100 * x:.1f}"

    lines = [f"## {record['run']}",
             f"AUROC held-out speakers vs other corpus: {record['auroc_held_out_vs_other']:.3f}; "
             f"validation vs held-out speakers: {record['auroc_validation_vs_held_out']:.3f}; "
             f"other corpus, wrong vs right labels: {record['auroc_other_right_vs_wrong']:.3f}",
             "", "| clips | n | fires % | accuracy % | flagged % | unflagged % |", "|---|---|---|---|---|---|"]
    sets = {"held-out speakers": record["held_out_speakers"], "other corpus": record["other_corpus"],
            **record["held_out_under_conditions"]}
    for name, s in sets.items():
        lines.append(f"| {name} | {s['n']} | {pct(s['fires'])} | {pct(s.get('accuracy'))} | "
                     f"{pct(s.get('accuracy_flagged'))} | {pct(s.get('accuracy_unflagged'))} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--other", type=Path, required=True, help="another corpus's folder (nEMO, say)")
    parser.add_argument("--conditions", default=DEFAULT_CONDITIONS)
    parser.add_argument("--other-limit", type=int, default=None, help="a seeded sample of this many other-corpus clips")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "familiarity.json")
    args = parser.parse_args()
    records = []
    for run in args.runs:
        records.append(measure(run, args.other, condition_names(args.conditions), args.other_limit))
        print(render(records[-1]), flush=True)
    write_result({"machine": describe(), "runs": records}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
