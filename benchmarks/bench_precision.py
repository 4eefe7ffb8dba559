"""Seconds per training epoch of a preset, in float32 and in bf16 mixed precision, on this machine.

    python benchmarks/bench_precision.py                       # robust preset, RAVDESS, 1 and 2 threads
    python benchmarks/bench_precision.py --threads 2 --epochs 8

Each setting runs the `specser train` a user would run twice, with 1 epoch and with 1 + `--epochs`
epochs, on the development split (RAVDESS actors 02, 07, 13, 18 held out, a random fifth of the rest
for validation); the difference over `--epochs` is the time of one epoch (training, validation and
checkpoints), without the start-up, feature loading and evaluation that both runs share. bf16 pays
only where the CPU computes it natively (AMX or AVX512-BF16; `train.precision=auto` checks). The
features are cached by the first run, so the order of the settings does not matter.
Writes benchmarks/results/bench_precision.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402


def timed_train(data: str, preset: str, precision: str, threads: int, epochs: int, out: Path) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "specser.cli.main", "train", "--preset", preset, "--data", data,
           "--test-speakers", "02,07,13,18", "--set", "data.val_split=random", "--set", f"train.max_epochs={epochs}",
           "--set", f"train.early_stopping_patience={epochs}", "--set", f"train.threads={threads}",
           "--set", f"train.precision={precision}", "--out", str(out), "--overwrite", "--no-progress"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return wall, json.loads((out / "metrics.json").read_text())["run"]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "ravdess"),
                        help="RAVDESS folder (default: ../shared/data/ravdess)")
    parser.add_argument("--preset", default="robust")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs (the difference between the two runs)")
    parser.add_argument("--threads", default="1,2", help="comma-separated CPU thread counts")
    parser.add_argument("--precision", default="32-true,bf16-mixed",
                        help="comma-separated train.precision settings (default: both)")
    parser.add_argument("--out", default=str(HERE / "results" / "bench_precision.json"))
    args = parser.parse_args(argv)

    from specser.training.fit import native_bf16

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-precision-") as scratch:
        for threads in [int(t) for t in args.threads.split(",")]:
            for precision in args.precision.split(","):
                short, _ = timed_train(args.data, args.preset, precision, threads, 1, Path(scratch) / "short")
                long, run = timed_train(args.data, args.preset, precision, threads, 1 + args.epochs,
                                        Path(scratch) / "long")
                row = {"threads": threads, "precision": run["precision"], "epoch_s": (long - short) / args.epochs,
                       "wall_1_epoch_s": short, f"wall_{1 + args.epochs}_epochs_s": long, "n_train": run["n_train"]}
                rows.append(row)
                print(f"{threads} thread(s), {row['precision']:>10}: {row['epoch_s']:.2f} s per epoch "
                      f"({run['n_train']} training clips)")
    for threads in {r["threads"] for r in rows}:
        pair = {r["precision"]: r["epoch_s"] for r in rows if r["threads"] == threads}
        if len(pair) == 2:
            print(f"{threads} thread(s): bf16 speed-up {pair['32-true'] / pair['bf16-mixed']:.2f}x")
    record = {"machine": describe(), "native_bf16": native_bf16("cpu"), "preset": args.preset, "rows": rows,
              "command": "python benchmarks/bench_precision.py " + shlex.join(argv if argv is not None else sys.argv[1:])}
    write_result(record, args.out)
    return record


if __name__ == "__main__":
    main()
