"""Adapting trained models to new recordings without labels (`specser adapt`): what it buys, and how
many recordings it needs.

    python benchmarks/adapt.py RUN [RUN ...] --target CORPUS [--sizes 10,30,100] [--draws 2]
                               [--per-speaker [--speaker-clips 3,5,10,20] [--priors 0,10]] [--out benchmarks/results/adapt.json]

Each RUN is a `specser train` run, with test speakers held out (`--test-speakers`) or trained on all
of its corpus (`--set data.test_size=0`: the last part below is then left out). For each it
measures, on the other corpus CORPUS (every clip with one of the model's labels):
- the model as trained;
- adapted to all of CORPUS's clips and tested on them (transductive: the test clips' audio, not their
  labels, adapts the model);
- adapted to N clips drawn at random from CORPUS and tested on the others, for each N in --sizes,
  --draws times with different draws;
- adapted to 30 clips of one emotion only (neutral, then angry) and tested on the others: the risk of
  adapting to recordings that are not a mix.
And on the run's own test speakers, if it has any: as trained, and adapted to those clips (does
adapting to voices of the training corpus cost anything?), clean and under recording conditions (each
condition's clips adapt the model that is then tested on them, as a user whose recordings all share a
telephone line would do). Accuracy (WA) and UA in %, and the predicted-label counts.

With --per-speaker it measures instead one adapted model per speaker of CORPUS, as a user adapts a
model to recordings of their own voice: adapted to 20 of the speaker's clips (or each number in
--speaker-clips) and tested on the speaker's other clips (beside the model as trained on those same
clips), and adapted to all of them; and the same for each of the run's own test speakers, new voices
of the training corpus. For a `features.speaker_norm` model, beside the speaker statistics of the same
clips alone (`per_speaker_normalised`).
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

CONDITIONS = ("telephone band", "babble 10 dB SNR", "8-bit")
ONE_EMOTION, ONE_EMOTION_CLIPS = ("neutral", "angry"), 30
SPEAKER_CLIPS = 20  # --per-speaker: a user's recordings of their own voice, `specser adapt`'s minimum


def scores(predictor, logmels: list, targets: np.ndarray) -> dict:
    from sklearn.metrics import balanced_accuracy_score

    probs = np.concatenate([predictor.feature_probabilities(logmels[i:i + 256]) for i in range(0, len(logmels), 256)])
    predicted = probs.argmax(axis=1)
    return {"n": len(targets), "accuracy": round(100 * float(np.mean(predicted == targets)), 2),
            "uar": round(100 * float(balanced_accuracy_score(targets, predicted)), 2),
            "predicted": np.bincount(predicted, minlength=len(predictor.labels)).tolist()}


def corpus_logmels(run: Path, data: Path | None, mf, raw: bool = False) -> tuple[list, np.ndarray, list[str], list[str]]:
    """Cached log-Mels, targets, ids and speakers: all of `data`'s clips with the model's labels, or
    (data None) the run's test split. A `features.speaker_norm` model's come normalised by each speaker's
    statistics over all of their clips, unless `raw` (as `Predictor.logmels` gives them)."""
    from dataclasses import replace

    from specser.config import load_config
    from specser.features.prepare import prepare_corpus

    cfg = load_config(run / "config.yaml", [f"data.path={data}"] if data else [])
    cfg.features = replace(mf.features, speaker_norm=False) if raw else mf.features
    if data:
        cfg.data.labels = list(mf.labels)
    corpus = prepare_corpus(cfg, False)
    if data:
        ids = [r.utt_id for r in corpus.rows if r.label in mf.labels]
    else:
        ids = json.loads((run / "split.json").read_text())["test"]
    targets = np.array([mf.labels.index(corpus.rows_by_id[i].label) for i in ids])
    return [corpus.features[i] for i in ids], targets, ids, [corpus.rows_by_id[i].speaker for i in ids]


def degraded_logmels(run: Path, mf, predictor, condition: str) -> list:
    """The run's test clips under a recording condition (`specser.audio.degrade`), as log-Mels."""
    import csv

    from specser.audio.degrade import CONDITIONS as ALL, babble_for

    rows = {r["utt_id"]: r for r in csv.DictReader(open(run / "manifest.csv"))}
    test = [rows[i] for i in json.loads((run / "split.json").read_text())["test"]]
    waves = [predictor.load(r["path"]) for r in test]
    speakers = [r["speaker"] for r in test]
    out = [ALL[condition](w, predictor.sample_rate, np.random.default_rng(i), babble_for(i, waves, speakers)
                          ).astype(np.float32) for i, w in enumerate(waves)]
    return predictor.logmels(out)


def pooled(results: list[dict]) -> float:
    """Accuracy in % over the union of several scored sets."""
    return round(sum(r["accuracy"] * r["n"] for r in results) / sum(r["n"] for r in results), 2)


def per_speaker(mf, feats: list, targets: np.ndarray, speakers: list[str], scored, adapt_to_logmels,
                sizes: tuple[int, ...] = (SPEAKER_CLIPS,), priors: tuple[float, ...] = (0.0,)) -> dict:
    """One adapted model per speaker of the other corpus, as a user adapts to their own recordings:
    adapted to all of the speaker's clips and tested on them, and adapted to N of them for each N in
    `sizes` and tested on the speaker's other clips. The N clips are the first N of one random draw of
    max(sizes), and every N is tested on the clips outside that draw, so the sizes differ only in how
    many clips adapt the model. Each prior N > 0 (`adapt_to_logmels`'s `prior`) adds results under
    `adapted_to_{n}_prior_{N}`. Pooled over speakers."""
    speakers = np.array(speakers)
    out: dict = {"speakers": {}}
    runs = [(n, prior, f"adapted_to_{n}" + (f"_prior_{prior:g}" if prior else "")) for prior in priors for n in sizes]
    keys = [key for _, _, key in runs]
    for k, speaker in enumerate(sorted(set(speakers))):
        own = np.flatnonzero(speakers == speaker)  # in file-name order: one seed per speaker, so that the
        # draws do not pick the same emotions for everyone
        drawn = np.random.default_rng(11 + k).choice(own, min(max(sizes), len(own) // 2), replace=False)
        rest = np.setdiff1d(own, drawn)
        record = {"as_trained": scored(mf, [feats[i] for i in own], targets[own]),
                  "adapted_to_all": scored(adapt_to_logmels(mf, [feats[i] for i in own], min_inputs=1),
                                           [feats[i] for i in own], targets[own])}
        for n, prior, key in runs:
            record[key] = scored(adapt_to_logmels(mf, [feats[i] for i in drawn[:n]], min_inputs=1, prior=prior),
                                 [feats[i] for i in rest], targets[rest])
        record["as_trained_on_the_rest"] = scored(mf, [feats[i] for i in rest], targets[rest])  # the same clips
        out["speakers"][speaker] = record
    for key in ("as_trained", "adapted_to_all", *keys, "as_trained_on_the_rest"):
        out[key] = pooled([v[key] for v in out["speakers"].values()])
    return out


def per_speaker_normalised(mf, feats: list, targets: np.ndarray, speakers: list[str], scored, adapt_to_logmels,
                           sizes: tuple[int, ...], priors: tuple[float, ...]) -> dict:
    """`per_speaker` for a `features.speaker_norm` model, whose inputs are normalised by speaker statistics.
    Per speaker, the clips outside a draw of max(sizes) are labelled with each clip normalised by its own
    statistics (no enrolment: `own_statistics`); normalised by the statistics of the first n drawn clips
    (`predict --speaker-stats`: `statistics_of_{n}`); and so normalised on the model adapted to those n
    normalised clips, for each prior (a voice profile holds both: `profile_of_{n}_prior_{N}`). Pooled."""
    from specser.inference.base import logmel_speaker_stats
    from specser.inference.predictor import Predictor

    normaliser = Predictor(mf, device="cpu", tta_crops=1)
    speakers = np.array(speakers)
    out: dict = {"speakers": {}}
    for k, speaker in enumerate(sorted(set(speakers))):
        own = np.flatnonzero(speakers == speaker)  # the same draws as `per_speaker`
        drawn = np.random.default_rng(11 + k).choice(own, min(max(sizes), len(own) // 2), replace=False)
        rest = np.setdiff1d(own, drawn)
        test, truth = [feats[i] for i in rest], targets[rest]
        record = {"own_statistics": scored(mf, normaliser.speaker_normalized(test), truth)}
        for n in sizes:
            enrolment = [feats[i] for i in drawn[:n]]
            stats = logmel_speaker_stats(enrolment)
            normalised = normaliser.speaker_normalized(test, stats)
            record[f"statistics_of_{n}"] = scored(mf, normalised, truth)
            for prior in priors:
                adapted = adapt_to_logmels(mf, normaliser.speaker_normalized(enrolment, stats), min_inputs=1, prior=prior)
                record[f"profile_of_{n}_prior_{prior:g}"] = scored(adapted, normalised, truth)
        out["speakers"][speaker] = record
    for key in next(iter(out["speakers"].values())):
        out[key] = pooled([v[key] for v in out["speakers"].values()])
    return out


def measure(run: Path, target: Path, sizes: list[int], draws: int, speakers_only: bool = False,
            speaker_sizes: tuple[int, ...] = (SPEAKER_CLIPS,), priors: tuple[float, ...] = (0.0,),
            speaker_conditions: tuple[str, ...] = ()) -> dict:
    from specser.inference.adapt import adapt_to_logmels
    from specser.inference.model_file import ModelFile
    from specser.inference.predictor import Predictor

    mf = ModelFile.load(run / "model.specser")

    def scored(model_file, logmels, targets):
        return scores(Predictor(model_file, device="cpu", tta_crops=1), logmels, targets)

    record: dict = {"run": str(run), "target": str(target)}
    if speaker_conditions:  # a user who records every clip, the profile's and the later ones, through one chain
        own, own_targets, _, own_speakers = corpus_logmels(run, None, mf)
        predictor = Predictor(mf, device="cpu", tta_crops=1)
        record["per_speaker_own_test_speakers_by_condition"] = {}
        for condition in speaker_conditions:
            logmels = own if condition == "clean" else degraded_logmels(run, mf, predictor, condition)
            result = per_speaker(mf, logmels, own_targets, own_speakers, scored, adapt_to_logmels, speaker_sizes, priors)
            record["per_speaker_own_test_speakers_by_condition"][condition] = result
            print(run.name, condition, {k: v for k, v in result.items() if k != "speakers"}, flush=True)
        return record
    raw = speakers_only and mf.features.speaker_norm  # raw log-Mels: each row normalises them its own way
    feats, targets, _, speakers = corpus_logmels(run, target, mf, raw=raw)
    if raw:
        own, own_targets, _, own_speakers = corpus_logmels(run, None, mf, raw=True)
        for key, args in (("per_speaker", (feats, targets, speakers)),
                          ("per_speaker_own_test_speakers", (own, own_targets, own_speakers))):
            record[key] = per_speaker_normalised(mf, *args, scored, adapt_to_logmels, speaker_sizes, priors)
            print(run.name, key, {k: v for k, v in record[key].items() if k != "speakers"}, flush=True)
        return record
    if speakers_only:
        record["per_speaker"] = per_speaker(mf, feats, targets, speakers, scored, adapt_to_logmels, speaker_sizes, priors)
        own, own_targets, _, own_speakers = corpus_logmels(run, None, mf)
        record["per_speaker_own_test_speakers"] = (  # new voices of the training corpus: does it help there?
            per_speaker(mf, own, own_targets, own_speakers, scored, adapt_to_logmels, speaker_sizes, priors)
            if len(own_targets) else None)
        for key in ("per_speaker", "per_speaker_own_test_speakers"):
            if record[key]:
                print(run.name, key, {k: v for k, v in record[key].items() if k != "speakers"}, flush=True)
        return record
    record["other_corpus"] = {"as_trained": scored(mf, feats, targets),
                              "adapted_to_all": scored(adapt_to_logmels(mf, feats), feats, targets), "by_size": {}}
    print(run.name, "other corpus", record["other_corpus"]["as_trained"]["accuracy"], "->",
          record["other_corpus"]["adapted_to_all"]["accuracy"], flush=True)
    for size in sizes:
        results = []
        for draw in range(draws):
            chosen = np.random.default_rng(1000 * size + draw).choice(len(feats), size, replace=False)
            rest = np.setdiff1d(np.arange(len(feats)), chosen)
            adapted = adapt_to_logmels(mf, [feats[i] for i in chosen], seed=draw, min_inputs=1)
            results.append(scored(adapted, [feats[i] for i in rest], targets[rest]))
        record["other_corpus"]["by_size"][str(size)] = results
        print(run.name, f"adapted to {size} clips:", [r["accuracy"] for r in results], flush=True)
    record["other_corpus"]["one_emotion"] = {}
    for label in ONE_EMOTION:  # a user whose recordings all carry one emotion: what does adapting to them cost?
        pool = np.flatnonzero(targets == mf.labels.index(label))
        chosen = np.random.default_rng(7).choice(pool, min(ONE_EMOTION_CLIPS, len(pool)), replace=False)
        rest = np.setdiff1d(np.arange(len(feats)), chosen)
        adapted = adapt_to_logmels(mf, [feats[i] for i in chosen], min_inputs=1)
        record["other_corpus"]["one_emotion"][label] = scored(adapted, [feats[i] for i in rest], targets[rest])
    print(run.name, "adapted to one emotion:", {k: v["accuracy"] for k, v in record["other_corpus"]["one_emotion"].items()},
          flush=True)
    own, own_targets, _, _ = corpus_logmels(run, None, mf)
    if not len(own_targets):  # trained on all of its corpus (`data.test_size=0`): no voices of its own to test
        record["own_test_speakers"] = None
        return record
    record["own_test_speakers"] = {"clean": {"as_trained": scored(mf, own, own_targets),
                                             "adapted": scored(adapt_to_logmels(mf, own), own, own_targets)}}
    predictor = Predictor(mf, device="cpu", tta_crops=1)
    for condition in CONDITIONS:
        logmels = degraded_logmels(run, mf, predictor, condition)
        record["own_test_speakers"][condition] = {"as_trained": scored(mf, logmels, own_targets),
                                                  "adapted": scored(adapt_to_logmels(mf, logmels), logmels, own_targets)}
    print(run.name, "own test speakers:", {c: (v["as_trained"]["accuracy"], v["adapted"]["accuracy"])
                                           for c, v in record["own_test_speakers"].items()}, flush=True)
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--target", type=Path, required=True, help="the other corpus (a folder specser reads)")
    parser.add_argument("--sizes", default="10,30,100", help="numbers of clips to adapt to, comma-separated")
    parser.add_argument("--draws", type=int, default=2, help="random draws of the clips per size")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "adapt.json")
    parser.add_argument("--per-speaker", action="store_true", help="instead: one adapted model per speaker of the "
                        "other corpus (all of their clips; N of them, tested on the rest)")
    parser.add_argument("--speaker-clips", default=str(SPEAKER_CLIPS), help="--per-speaker: the numbers N of a "
                        "speaker's clips to adapt to, comma-separated (e.g. 3,5,10,20)")
    parser.add_argument("--priors", default="0", help="--per-speaker: the trained statistics counted as N inputs "
                        "(specser.inference.adapt), for each N, comma-separated (0: measured statistics alone)")
    parser.add_argument("--speaker-conditions", default="", help="--per-speaker: instead, the run's own test "
                        "speakers only, with every clip (adapting and tested) under each recording condition "
                        "named here (comma-separated; 'clean' for none), as a user on one phone line or microphone")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    speaker_sizes = tuple(int(s) for s in args.speaker_clips.split(",") if s)
    priors = tuple(float(s) for s in args.priors.split(",") if s)
    conditions = tuple(c.strip() for c in args.speaker_conditions.split(",") if c.strip())
    records = [measure(run, args.target, sizes, args.draws, args.per_speaker, speaker_sizes, priors, conditions)
               for run in args.runs]
    write_result({"machine": describe(), "runs": records}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
