"""Robustness figures of the same models with and without an inference-side change, for the benchmarks
that decide such a change under a rule (`stereo_downmix.py`, `mains_hum.py`, `coarse_dither.py`)."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Callable

import numpy as np

from machine import describe, write_result
from specser.bundled import default_model
from specser.corpus.manifest import load_manifest
from specser.runs.robustness import robustness


@contextmanager
def replaced(module, name: str, stand_in):
    """`module.name` is `stand_in` for the block (the product as it was before the change)."""
    product = getattr(module, name)
    setattr(module, name, stand_in)
    try:
        yield
    finally:
        setattr(module, name, product)


def step_left_out(name: str):
    """The predictors with repair step `name` of `specser.inference.base` passing its input through (the product
    before the step)."""
    import specser.inference.base as inference_base

    return replaced(inference_base, name, lambda data, *args, **kwargs: data)


def other_conditions(*targets: str) -> list[str]:
    """Every degraded condition of the benchmark but `targets`: where a repair must not cost labels."""
    from specser.audio.degrade import CONDITIONS

    return [c for c in CONDITIONS if c != "clean" and c not in targets]


def before_after(runs: list[Path], conditions: list[str], before: Callable[[], AbstractContextManager],
                 model: Path | None = None, names: tuple[str, str] = ("before", "after"),
                 after: Callable[[], AbstractContextManager] = nullcontext) -> dict:
    """{names[0] | names[1]: {run: {condition: figures}}}: the clean clips and `conditions`, first inside
    `before()`, then inside `after()` (by default the product as it stands: a change that was not adopted
    is measured as a stand-in there); the per-run tables go to a scratch folder."""
    return variants(runs, conditions, dict(zip(names, (before, after))), model)


def variants(runs: list[Path], conditions: list[str], contexts: dict[str, Callable[[], AbstractContextManager]],
             model: Path | None = None) -> dict:
    """{name: {run: {condition: figures}}}: the clean clips and `conditions` inside each named context."""
    figures = {}
    for name, context in contexts.items():
        with context(), tempfile.TemporaryDirectory() as scratch:
            figures[name] = {str(run): robustness(run, ["clean", *conditions], out=Path(scratch) / run.name,
                                                  progress=False, model=model)["conditions"] for run in runs}
    return figures


def speech_like_clip(sample_rate: int = 16000, seconds: float = 4.0) -> np.ndarray:
    """A vowel at 140 Hz with a syllable rhythm, peak 1: the clip the timing checks run on."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    voiced = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 30)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return (voiced / np.max(np.abs(voiced))).astype(np.float32)


def predicted_labels(predictor, waves: list[np.ndarray], batch: int = 64) -> list[str]:
    """The predictor's label for each waveform, `batch` clips a forward pass."""
    return [p.label for start in range(0, len(waves), batch) for p in predictor.predict_batch(waves[start:start + batch])]


def repair_seconds(repair: Callable, degrade: Callable[[np.ndarray], object]) -> float:
    """Wall time of `repair` on a 4 s, 16 kHz speech-like clip (`speech_like_clip`) passed through `degrade`
    (which may also turn it into what the repair reads, a log-Mel say), best of three: the cost an
    inference-side repair adds to a clip."""
    clip = degrade(speech_like_clip())
    clip = clip.astype(np.float32) if isinstance(clip, np.ndarray) else clip
    times = []
    for _ in range(3):
        start = time.perf_counter()
        repair(clip)
        times.append(time.perf_counter() - start)
    return min(times)


def corpus_accuracy(runs: list[Path], corpus: Path, contexts: dict[str, Callable[[], AbstractContextManager]]) -> dict:
    """{name: {run: accuracy and clips}}: each run's model on every clip of `corpus` with one of its labels,
    through the predictor inside each named context (so an inference-side change applies, as `specser
    evaluate` would not). The clips are decoded once per sample rate, not once per run and context."""
    from specser.audio.load import AudioError, load_audio
    from specser.inference.model_file import ModelFile
    from specser.inference.predictor import Predictor

    rows = load_manifest(corpus).rows
    decoded: dict[int, list] = {}  # sample rate -> (row, wave or None when unreadable)
    out = {name: {} for name in contexts}
    for run in runs:
        predictor = Predictor(ModelFile.load(run / "model.specser"), device="cpu")
        if predictor.sample_rate not in decoded:
            def read(path: str):
                try:
                    return load_audio(path, predictor.sample_rate, name=path)
                except AudioError:  # unreadable: counted as wrong
                    return None
            decoded[predictor.sample_rate] = [(r, read(r.path)) for r in rows]
        clips = [(r.label, w) for r, w in decoded[predictor.sample_rate] if r.label in predictor.labels]
        waves, labels = [w for _, w in clips if w is not None], [t for t, w in clips if w is not None]
        for name, context in contexts.items():
            with context():
                predicted = predicted_labels(predictor, waves)
            correct = sum(p == t for p, t in zip(predicted, labels))
            out[name][str(run)] = {"accuracy": correct / len(clips), "clips": len(clips)}
    return out


def mean_over(by_run: dict, conditions: list[str], key: str) -> float:
    """The mean of `key` over every run and condition."""
    return float(np.mean([by_run[r][c][key] for r in by_run for c in conditions]))


def print_rows(name: str, by_run: dict, conditions: list[str]) -> None:
    refused = sum(by_run[r][c]["refused"] for r in by_run for c in conditions)
    print(f"{name}: agreement {100 * mean_over(by_run, conditions, 'agreement'):.1f} %, accuracy "
          f"{100 * mean_over(by_run, conditions, 'accuracy'):.1f} %, refused {refused}")
    for run, figures in by_run.items():
        print("   ", run, {c: f"{100 * f['accuracy']:.1f} / {100 * f.get('agreement', 1.0):.1f}"
                           for c, f in figures.items()}, "(accuracy / agreement, %)")


def add_arguments(parser: argparse.ArgumentParser, default_out: Path, corpora: bool = False) -> None:
    """The development runs, `--bundled-on` and `--out`, as every such benchmark takes them; with `corpora`,
    `--ravdess` and `--nemo` too, the clean corpora a detector must leave alone (`detector_checks`)."""
    parser.add_argument("runs", nargs="+", type=Path, help="development runs: the rule is checked on them")
    parser.add_argument("--bundled-on", type=Path, default=None,
                        help="a run whose test split the bundled model is also measured on")
    parser.add_argument("--out", type=Path, default=default_out)
    if corpora:
        parser.add_argument("--ravdess", type=Path,
                            default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
        parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))


def fires_on(corpora: list[Path], fires: Callable[[str], bool]) -> dict:
    """How many clean corpus clips (six emotions) `fires(path)` holds for, with the first few names: an
    inference-side repair's detector should find nothing to repair there."""
    from tqdm.auto import tqdm

    paths = [row.path for corpus in corpora for row in load_manifest(corpus).rows]
    found = [p for p in tqdm(paths, desc="clean clips") if fires(p)]
    return {"clips": len(paths), "fired": len(found), "examples": [Path(p).name for p in found[:10]]}


def detector_checks(args: argparse.Namespace, record: dict, names: tuple[str, str],
                    fires: Callable[[str], bool]) -> tuple[float, dict]:
    """The two checks every detect-and-repair rule makes besides the gain: the largest change of any
    development model's clean accuracy between the variants (points), and how often the detector fires on
    the clean corpora (`fires_on`)."""
    return largest_clean_change(record, names), fires_on([args.ravdess, args.nemo], fires)


def largest_clean_change(record: dict, names: tuple[str, str]) -> float:
    """The largest change of any development model's clean accuracy between the two variants, in points."""
    before, after = (record["development"][n] for n in names)
    return max(abs(100 * (after[r]["clean"]["accuracy"] - before[r]["clean"]["accuracy"])) for r in before)


def development(args: argparse.Namespace, conditions: list[str], before: Callable[[], AbstractContextManager],
                names: tuple[str, str], rule: str,
                after: Callable[[], AbstractContextManager] = nullcontext) -> tuple[dict, float]:
    """The record (machine, rule, both variants on the development runs, printed) and the agreement gain
    of the change over `conditions`, in points."""
    dev = before_after(args.runs, conditions, before, names=names, after=after)
    for name, by_run in dev.items():
        print_rows(name, by_run, conditions)
    gain = 100 * (mean_over(dev[names[1]], conditions, "agreement") - mean_over(dev[names[0]], conditions, "agreement"))
    return {"machine": describe(), "rule": rule, "conditions": conditions, "development": dev}, gain


def finish(record: dict, verdict: dict, args: argparse.Namespace, conditions: list[str],
           before: Callable[[], AbstractContextManager], names: tuple[str, str],
           after: Callable[[], AbstractContextManager] = nullcontext) -> int:
    """Adds the verdict (adopted when every `a_`, `b_`, ... check holds) and the bundled model's figures,
    prints them and writes the record."""
    verdict["adopted"] = all(v for k, v in verdict.items() if len(k) > 2 and k[1] == "_")
    record["verdict"] = verdict
    print("adopted" if verdict["adopted"] else "not adopted", {k: v for k, v in verdict.items() if k[1:2] == "_"})
    if args.bundled_on:
        record["bundled"] = before_after([args.bundled_on], conditions, before, default_model(), names=names,
                                         after=after)
        for name, by_run in record["bundled"].items():
            print(f"bundled model, {name}: agreement {100 * mean_over(by_run, conditions, 'agreement'):.1f} %")
    write_result(record, args.out)
    return 0


def add_repair_arguments(parser: argparse.ArgumentParser, default_out: Path) -> None:
    """`add_arguments` with the corpora, and `--targets-only` (`detect_and_repair`)."""
    add_arguments(parser, default_out, corpora=True)
    parser.add_argument("--targets-only", action="store_true",
                        help="the clean clips and the target conditions only, with and without the step, on any "
                             "runs (the five fold models of a CV, say); no rule")


def calm_and_disgust(ravdess: Path) -> list[str]:
    """RAVDESS's calm and disgust clips (emotions 02 and 07), which the six-emotion corpus leaves out: clean
    speech that no firing count over the 5,537 six-emotion clips has read."""
    return sorted(str(p) for code in ("02", "07") for p in ravdess.glob(f"Actor_*/03-01-{code}-*"))


def calm_and_disgust_check(args: argparse.Namespace, fires: Callable[[str], bool]) -> Callable[..., dict]:
    """Check (h) of a detect-and-repair rule, for `detect_and_repair(extra_checks=...)`: the detector fires
    on fewer than 1 % of the calm and disgust clips (`calm_and_disgust`)."""
    def check(record: dict, names: tuple[str, str]) -> dict:
        paths = calm_and_disgust(args.ravdess)
        fired = [Path(p).name for p in paths if fires(p)]
        print(f"(h) the detector fired on {len(fired)} of {len(paths)} calm and disgust clips (rule: < 1 %)")
        return {"fired_on_calm_and_disgust": {"clips": len(paths), "fired": len(fired), "examples": fired[:10]},
                "h_fires_under_1_percent_of_calm_and_disgust": bool(paths) and len(fired) < 0.01 * len(paths)}

    return check


def largest_condition_loss(record: dict, names: tuple[str, str]) -> tuple[str, float]:
    """The other condition whose agreement (mean over the development models) falls most between the two
    variants, and by how many points: what a mean over many conditions can hide."""
    before, after = (record["others"][n] for n in names)
    conditions = [c for c in next(iter(before.values())) if c != "clean"]  # clean agrees with itself
    change = {c: 100 * float(np.mean([after[r][c]["agreement"] - before[r][c]["agreement"] for r in before]))
              for c in conditions}
    worst = min(change, key=change.get)
    return worst, change[worst]


def calm_disgust_and_condition_checks(args: argparse.Namespace, fires: Callable[[str], bool]) -> Callable[..., dict]:
    """Checks (h) and (i) of a detect-and-repair rule, for `detect_and_repair(extra_checks=...)`: (h) as
    `calm_and_disgust_check`, and (i) no other condition's agreement down by more than 1 point
    (`largest_condition_loss`)."""
    calm_and_disgust = calm_and_disgust_check(args, fires)

    def checks(record: dict, names: tuple[str, str]) -> dict:
        worst, change = largest_condition_loss(record, names)
        print(f"(i) the other condition that lost most: {worst}, {change:+.1f} points (rule: >= -1.0)")
        return {**calm_and_disgust(record, names), "largest_other_condition_loss": {worst: change},
                "i_no_other_condition_down_more_than_1": change >= -1.0}

    return checks


def detect_and_repair(args: argparse.Namespace, conditions: list[str], others: list[str],
                      without: Callable[[], AbstractContextManager], names: tuple[str, str], rule: str,
                      fires: Callable[[str], bool], seconds: float, min_gain: float,
                      extra_checks: Callable[[dict, tuple[str, str]], dict] | None = None) -> int:
    """The checks of a detect-and-repair rule (knocks, rumble), in the order written there: (a) agreement over
    `conditions` up by `min_gain` points, (b) each development model's clean accuracy within 0.5, (c) the
    detector firing on under 1 % of the clean corpus clips, (d) agreement over `others` down by at most 0.5,
    (e) at most 20 ms (`seconds`) for a 4 s clip, (g) RAVDESS -> nEMO accuracy down by at most 0.3; then the
    bundled model's figures, and the record written. `extra_checks(record, names)` adds a rule's own checks to the
    verdict (keys `h_...`, `i_...` decide). With `args.targets_only`, `conditions` alone."""
    record, gain = development(args, conditions, without, names, rule)
    if args.targets_only:
        print(f"agreement {gain:+.1f} points over the {len(conditions)} target conditions")
        record["agreement_gain"] = gain
        write_result(record, args.out)
        return 0
    clean_change, fired = detector_checks(args, record, names, fires)
    record["others"] = before_after(args.runs, others, without, names=names)
    others_change = 100 * (mean_over(record["others"][names[1]], others, "agreement")
                           - mean_over(record["others"][names[0]], others, "agreement"))
    nemo = record["nemo"] = corpus_accuracy(args.runs, args.nemo, dict(zip(names, (without, nullcontext))))
    nemo_change = 100 * float(np.mean([nemo[names[1]][r]["accuracy"] - nemo[names[0]][r]["accuracy"]
                                       for r in nemo[names[0]]]))
    print(f"agreement {gain:+.1f} points (rule: >= +{min_gain:.1f}), clean accuracy moved <= {clean_change:.1f} "
          f"(rule: <= 0.5), the detector fired on {fired['fired']} of {fired['clips']} clean corpus clips "
          f"(rule: < 1 %), "
          f"the other {len(others)} conditions' agreement {others_change:+.2f} (rule: >= -0.5), "
          f"{1000 * seconds:.1f} ms for a 4 s clip (rule: <= 20), RAVDESS -> nEMO {nemo_change:+.2f} (rule: >= -0.3)")
    verdict = {"agreement_gain": gain, f"a_gain_at_least_{min_gain:g}": gain >= min_gain,
               "largest_clean_accuracy_change": clean_change, "b_clean_within_0_5": clean_change <= 0.5,
               "fired_on_clean": fired, "c_fires_under_1_percent": fired["fired"] < 0.01 * fired["clips"],
               "other_conditions_agreement_change": others_change,
               "d_others_down_at_most_0_5": others_change >= -0.5,
               "seconds_for_4_s": seconds, "e_fast_enough": seconds <= 0.020,
               "nemo_accuracy_change": nemo_change, "g_nemo_down_at_most_0_3": nemo_change >= -0.3}
    verdict.update(extra_checks(record, names) if extra_checks else {})
    return finish(record, verdict, args, conditions, without, names)
