"""How often the speech check refuses real speech: every RAVDESS file clean, 20 dB quieter, and over
a -60 dBFS white-noise floor; every nEMO file clean. Refusals of real speech are errors of the check.

    python benchmarks/speech_check.py [--ravdess DIR] [--nemo DIR]

Prints the counts and writes benchmarks/results/speech_check.json.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.audio.checks import speech_problem  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402

CONDITIONS = {
    "clean": lambda w, rng: w,
    "gain -20 dB": lambda w, rng: w * 0.1,
    "white noise floor -60 dBFS": lambda w, rng: w + rng.standard_normal(w.size).astype(np.float32) * 1e-3,
}


def refusals(files: list[Path], conditions: dict) -> dict:
    rng = np.random.default_rng(0)
    counts = {name: {"files": 0, "refused": 0, "examples": []} for name in conditions}
    for path in files:
        wave = load_audio(path, 16000)
        for name, make in conditions.items():
            problem = speech_problem(make(wave, rng).astype(np.float32), 16000)
            counts[name]["files"] += 1
            if problem:
                counts[name]["refused"] += 1
                counts[name]["examples"] = (counts[name]["examples"] + [f"{path.name}: {problem[0]}"])[:5]
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ravdess", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "speech_check.json")
    args = parser.parse_args()
    record = {"machine": describe()}
    if args.ravdess.is_dir():
        record["ravdess"] = refusals(sorted(args.ravdess.glob("Actor_*/*.*")), CONDITIONS)
    if (args.nemo / "samples").is_dir():
        record["nemo"] = refusals(sorted((args.nemo / "samples").glob("*.opus")), {"clean": CONDITIONS["clean"]})
    for corpus in ("ravdess", "nemo"):
        for name, c in record.get(corpus, {}).items():
            print(f"{corpus:8} {name:28} refused {c['refused']:4} of {c['files']}  {c['examples'][:2]}")
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
