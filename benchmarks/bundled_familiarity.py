"""Give the bundled model its familiarity statistics (`specser.inference.familiarity`), without retraining it.

    python benchmarks/bundled_familiarity.py [--ravdess DIR] [--nemo DIR]

The bundled model (`src/specser/bundled/default.specser`) was trained before models carried the statistics
behind the `unfamiliar` warning. Its training run drew a random, stratified 20 % of the 5,537 clips for
validation with seed 42; this rebuilds that split from the same manifest and settings, checks it by the
model's validation accuracy (the model card's 81.9 %), then fits the statistics to the training part's
embeddings and sets the threshold on the validation part's, as every training run now does. The weights do
not change. Writes the model file and benchmarks/results/real_voices/bundled_familiarity.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

TARGET = HERE.parent / "src" / "specser" / "bundled" / "default.specser"
CARD_VALIDATION_ACCURACY = 0.819


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ravdess", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_voices" / "bundled_familiarity.json")
    args = parser.parse_args()

    from specser.config import load_config
    from specser.data.splits import holdout_split, with_extra_train
    from specser.features.prepare import prepare_corpus
    from specser.inference.model_file import ModelFile
    from specser.inference.predictor import Predictor
    from specser.runs.train import familiar_to

    mf = ModelFile.load(TARGET)
    cfg = load_config(preset="robust", overrides=[f"data.path=[{args.ravdess}, {args.nemo}]", "data.test_size=0"])
    cfg = dataclasses.replace(cfg, features=mf.features)  # the front-end the model was trained with
    corpus = prepare_corpus(cfg, progress=True)
    split = with_extra_train(holdout_split(corpus.main_rows, cfg.data.test_size, cfg.data.val_size, cfg.seed,
                                           cfg.data.test_speakers, cfg.data.val_split), corpus.extra_train)
    rows = {part: [corpus.rows_by_id[i] for i in getattr(split, part)] for part in ("train", "val")}
    logmels = {part: [corpus.features[r.utt_id] for r in rs] for part, rs in rows.items()}
    probs = Predictor(mf, device="cpu").feature_probabilities(logmels["val"])
    accuracy = float(np.mean(probs.argmax(1) == np.array([mf.labels.index(r.label) for r in rows["val"]])))
    print(f"validation part: {len(rows['val'])} clips, accuracy {100 * accuracy:.1f} % "
          f"(model card: {100 * CARD_VALIDATION_ACCURACY:.1f} %)")
    if abs(accuracy - CARD_VALIDATION_ACCURACY) > 0.01:
        raise SystemExit("the rebuilt validation part does not match the model's own: statistics not written")
    done = familiar_to(mf, logmels["train"], [r.label for r in rows["train"]], logmels["val"])
    done.save(TARGET)
    stats = done.familiarity
    predictor = Predictor(done, device="cpu")
    scores = {part: predictor.feature_outputs(logmels[part])[1] for part in ("train", "val")}
    record = {"machine": describe(), "file": str(TARGET.relative_to(HERE.parent)), "size_mb": TARGET.stat().st_size / 1e6,
              "clips": {part: len(rs) for part, rs in rows.items()}, "validation_accuracy": accuracy,
              "threshold": stats.threshold, "quantile": stats.quantile,
              "fires": {part: float(np.mean(s > stats.threshold)) for part, s in scores.items()}}
    print(record)
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
