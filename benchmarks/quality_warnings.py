"""How often the quality warnings fire (`specser.audio.quality`): on every clean file of RAVDESS and nEMO
(each firing there is a false alarm), and on a sample of each corpus under every recording condition of
the robustness benchmark (`specser.audio.degrade.CONDITIONS`), where `clipped` should fire for the +20 dB
gain on loud clips and `narrow_band` for the telephone band, and neither should fire elsewhere.

    python benchmarks/quality_warnings.py [--ravdess DIR] [--nemo DIR] [--sample 300]

Prints the share of files each warning fires on and writes benchmarks/results/quality_warnings.json.
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

from specser.audio.degrade import CONDITIONS, degrade_all  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402
from specser.audio.quality import quality_warnings  # noqa: E402

SAMPLE_RATE = 16000
KINDS = ("clipped", "narrow_band")


def firing(waves: list[np.ndarray], names: list[str]) -> dict:
    """{kind: share of waves it fires on, "examples": a few names per kind}."""
    fired = {kind: [] for kind in KINDS}
    for wave, name in zip(waves, names):
        for warning in quality_warnings(wave, SAMPLE_RATE):
            fired[warning.kind].append(name)
    return {"files": len(waves), **{kind: round(len(fired[kind]) / max(1, len(waves)), 4) for kind in KINDS},
            "examples": {kind: fired[kind][:3] for kind in KINDS}}


def corpus(files: list[Path], speaker_of, sample: int) -> dict:
    waves = [load_audio(p, SAMPLE_RATE) for p in files]
    names = [p.name for p in files]
    result = {"every clean file": firing(waves, names)}
    pick = np.random.default_rng(0).choice(len(files), min(sample, len(files)), replace=False)
    waves, names = [waves[i] for i in pick], [names[i] for i in pick]
    speakers = [speaker_of(n) for n in names]
    for condition in CONDITIONS:
        result[condition] = firing(degrade_all(condition, waves, speakers, SAMPLE_RATE), names)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ravdess", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--nemo", type=Path, default=Path(os.environ.get("SPECSER_NEMO", "../shared/data/nemo")))
    parser.add_argument("--sample", type=int, default=300, help="files per corpus put through every condition")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "quality_warnings.json")
    args = parser.parse_args()
    record = {"machine": describe(), "sample": args.sample}
    if args.ravdess.is_dir():
        record["ravdess"] = corpus(sorted(args.ravdess.glob("Actor_*/*.*")), lambda n: n.rsplit("-", 1)[-1][:2],
                                   args.sample)
    if (args.nemo / "samples").is_dir():
        record["nemo"] = corpus(sorted((args.nemo / "samples").glob("*.*")), lambda n: n.split("_", 1)[0], args.sample)
    if len(record) == 2:
        parser.error(f"no corpus found at {args.ravdess} or {args.nemo}")
    print(f"{'corpus':8} {'condition':24} {'files':>5} " + " ".join(f"{k:>11}" for k in KINDS))
    for name in ("ravdess", "nemo"):
        for condition, r in record.get(name, {}).items():
            print(f"{name:8} {condition:24} {r['files']:>5} " + " ".join(f"{100 * r[k]:>10.1f}%" for k in KINDS))
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
