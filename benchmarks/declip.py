"""Does repairing clipped audio before labelling keep labels? The decision of `rule_declip.txt`.

    python benchmarks/declip.py RUN [RUN ...] [--out benchmarks/results/real_voices/declip.json]

Each run's held-out clips go through the robustness benchmark's "gain +20 dB" condition (20 dB
too much gain, clipped at full scale) and are labelled three ways: as they are, repaired by the
product's consistent iterative hard thresholding (I, `specser.audio.declip`), and repaired by a
natural cubic spline through the unclipped samples (S, the cheap alternative). A run over two
corpora counts once per corpus. The rule (`benchmarks/results/real_voices/rule_declip.txt`) is
applied to the figures and its verdict printed; the cost of I is timed on the clipped clips of the
first run, one thread.

    python benchmarks/declip.py --signal [--out benchmarks/results/real_voices/declip_signal.json]

measures the repair on the waveform instead: 30 RAVDESS and 30 nEMO clips, each peak-normalised and
then 3, 6, 10 and 20 dB louder, clipped at full scale; how much closer to the unclipped truth the
repaired wave is than the clipped one (signal-to-error ratio, dB).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

CONDITION = "gain +20 dB"


def spline_declip(wave: np.ndarray) -> np.ndarray:
    """Candidate S: a natural cubic spline through the unclipped samples, at least at the clip level."""
    from scipy.interpolate import CubicSpline

    from specser.audio.declip import is_clipped
    from specser.audio.quality import FULL_SCALE

    if not is_clipped(wave):
        return wave
    bad = np.abs(wave) >= FULL_SCALE
    index = np.arange(wave.size)
    estimate = CubicSpline(index[~bad], wave[~bad].astype(np.float64), bc_type="natural")(index[bad])
    out = wave.astype(np.float64)
    out[bad] = np.sign(wave[bad]) * np.maximum(np.abs(estimate), FULL_SCALE)
    return out.astype(wave.dtype)


def figures(record: dict) -> dict[str, dict]:
    """{run[/corpus]: {"accuracy", "agreement"}} under CONDITION, one entry per corpus of the run."""
    result = record["conditions"][CONDITION]
    name = Path(record["run"]).name
    if "by_corpus" in result:
        return {f"{name}/{c}": {"accuracy": f["accuracy"], "agreement": f["agreement"]}
                for c, f in result["by_corpus"].items()}
    return {name: {"accuracy": result["accuracy"], "agreement": result["agreement"]}}


def evaluate(runs: list[Path], scratch: Path) -> dict:
    import specser.inference.base as base
    from specser.runs.robustness import robustness

    product = base.declip
    out = {}
    for mode in ("none", "I", "S"):
        base.declip = spline_declip if mode == "S" else product
        rows = {}
        for run in runs:
            record = robustness(run, [CONDITION], out=scratch / mode / run.name, progress=False,
                                repair_clipping=mode != "none")
            rows.update(figures(record))
            print(mode, run.name, {k: {m: round(100 * v, 1) for m, v in f.items()} for k, f in figures(record).items()},
                  flush=True)
        out[mode] = rows
    base.declip = product
    return out


def decide(results: dict, seconds: float) -> dict:
    """The rule's four conditions for each candidate against "none"."""
    none = results["none"]
    verdicts = {}
    for mode in ("I", "S"):
        rows = results[mode]
        d_acc = [100 * (rows[k]["accuracy"] - none[k]["accuracy"]) for k in none]
        d_agree = [100 * (rows[k]["agreement"] - none[k]["agreement"]) for k in none]
        checks = {"agreement_gain": float(np.mean(d_agree)), "accuracy_change": float(np.mean(d_acc)),
                  "worst_single_change": float(min(d_acc + d_agree))}
        passed = checks["agreement_gain"] >= 1.0 and checks["accuracy_change"] >= -0.5 and checks["worst_single_change"] >= -3.0
        if mode == "I":
            checks["seconds_per_clip"] = seconds
            passed = passed and seconds <= 0.5
        verdicts[mode] = {**checks, "passes": bool(passed)}
    passing = [m for m in verdicts if verdicts[m]["passes"]]
    adopted = max(passing, key=lambda m: verdicts[m]["agreement_gain"]) if passing else None
    return {"candidates": verdicts, "adopted": adopted}


def time_repair(run: Path) -> float:
    """Median seconds of one thread to repair each clipped clip of `run`'s test split at +20 dB."""
    import torch

    from specser.audio.declip import declip, is_clipped
    from specser.audio.degrade import gain
    from specser.audio.load import load_audio
    from specser.config import load_config
    from specser.features.prepare import build_manifest
    from specser.runs.folder import RunFolder

    torch.set_num_threads(1)
    folder = RunFolder(run)
    cfg = load_config(folder / "config.yaml")
    rows_by_id = {r.utt_id: r for r in build_manifest(cfg)[0].rows}
    times = []
    for utt in folder.read_json("split.json")["test"]:
        wave = gain(load_audio(rows_by_id[utt].path, cfg.features.sample_rate), 20.0).astype(np.float32)
        if is_clipped(wave):
            start = time.perf_counter()
            declip(wave)
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def signal_gains(ravdess: Path, nemo: Path) -> dict:
    """{dB past the peak: {"median", "min", "share_worse", "clipped_share"}} of the signal-to-error gain."""
    from specser.audio.declip import declip
    from specser.audio.load import load_audio

    files = sorted(ravdess.glob("Actor_*/*.flac"))[::48][:30] + sorted((nemo / "samples").glob("*"))[::90][:30]
    waves = [load_audio(f, 16000).astype(np.float64) for f in files]

    def ratio(truth, estimate):
        return 10 * np.log10(np.sum(truth ** 2) / np.sum((truth - estimate) ** 2))

    out = {}
    for louder in (3, 6, 10, 20):
        gains, shares = [], []
        for wave in waves:
            truth = wave / np.max(np.abs(wave)) * 10 ** (louder / 20)
            clipped = np.clip(truth, -1, 1).astype(np.float32)
            gains.append(ratio(truth, declip(clipped).astype(np.float64)) - ratio(truth, clipped.astype(np.float64)))
            shares.append(float(np.mean(np.abs(clipped) >= 1.0)))
        out[str(louder)] = {"median_gain_db": float(np.median(gains)), "min_gain_db": float(np.min(gains)),
                            "share_worse": float(np.mean(np.array(gains) < 0)), "median_clipped_share": float(np.median(shares))}
        print(f"{louder:>2} dB past the peak: {np.median(shares):.1%} of samples clipped (median); repair gains "
              f"{np.median(gains):.1f} dB at the median, {np.min(gains):.1f} at worst", flush=True)
    return {"clips": len(files), "gains": out}


def main() -> int:
    import os

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--signal", action="store_true", help="measure the repair on the waveform (no model)")
    parser.add_argument("--ravdess", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.signal:
        out = args.out or HERE / "results" / "real_voices" / "declip_signal.json"
        write_result({"machine": describe(), **signal_gains(args.ravdess, args.nemo)}, out)
        return 0
    if not args.runs:
        parser.error("give run folders, or --signal")
    args.out = args.out or HERE / "results" / "real_voices" / "declip.json"
    seconds = time_repair(args.runs[0])
    print(f"repair (I): median {seconds:.3f} s per clipped clip, one thread")
    results = evaluate(args.runs, args.out.parent / "declip")
    verdict = decide(results, seconds)
    for mode, v in verdict["candidates"].items():
        print(f"{mode}: agreement {v['agreement_gain']:+.1f}, accuracy {v['accuracy_change']:+.1f}, worst "
              f"{v['worst_single_change']:+.1f} -> {'passes' if v['passes'] else 'fails'}")
    print(f"adopted: {verdict['adopted'] or 'none'}")
    write_result({"machine": describe(), "condition": CONDITION, "runs": [str(r) for r in args.runs],
                  "figures": results, "decision": verdict}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
