"""Does a wider input band help? The tuned MFCC + SVM baseline at 16, 22.05, 24 and 48 kHz.

Everything here reads 16 kHz audio and a 0-8 kHz log-Mel; RAVDESS is recorded at 48 kHz, and the
bands above 8 kHz may carry cues of arousal (the accuracy issue, item 5). Each rate keeps the
paper's 64 ms window and 16 ms hop and 128 Mel bands, spread up to the rate's Nyquist frequency.
Each (rate, protocol) is one `specser baseline` cross-validation; a finished one is read back, not
run again:

    python benchmarks/bandwidth.py --data ../shared/data/ravdess [--runs runs/bandwidth] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from machine import describe, write_result

HERE = Path(__file__).resolve().parent
RATES = (16000, 22050, 24000, 48000)
PROTOCOLS = ("random-5fold", "actor-5fold")


def band_overrides(rate: int) -> list[str]:
    """The paper's 64 ms window and 16 ms hop at `rate`, Mel bands up to its Nyquist frequency."""
    if rate == 16000:
        return []  # the defaults: 1024 / 256 samples, f_max 8 kHz
    window = round(0.064 * rate)
    return [f"features.sample_rate={rate}", f"features.f_max={rate // 2}", f"features.n_fft={window}",
            f"features.win_length={window}", f"features.hop_length={round(0.016 * rate)}"]


def run_baseline(data: Path, protocol: str, rate: int, folder: Path) -> dict:
    if not (folder / "cv_summary.json").exists():
        sets = [arg for s in band_overrides(rate) for arg in ("--set", s)]
        cmd = [sys.executable, "-m", "specser.cli.main", "baseline", "--model", "svm", "--protocol", protocol,
               "--data", str(data), "--out", str(folder), "--no-progress", *sets]
        subprocess.run(cmd, check=True)
    summary = json.loads((folder / "cv_summary.json").read_text())
    return {"rate": rate, "protocol": protocol} | {metric: {"mean": summary[metric]["mean"], "std": summary[metric]["std"],
                     "per_fold": summary[metric]["per_fold"]} for metric in ("accuracy", "uar", "macro_f1")} | {
        "wall_time_s": sum(f["wall_time_s"] for f in summary["run"]["folds"]), "run": str(folder)}


def table(results: dict) -> str:
    lines = ["| rate | band | protocol | WA | UA | macro-F1 |", "|---|---|---|---|---|---|"]
    for r in results.values():
        cells = [f"{100 * r[m]['mean']:.1f} ± {100 * r[m]['std']:.1f}" for m in ("accuracy", "uar", "macro_f1")]
        lines.append(f"| {r['rate'] / 1000:g} kHz | 0–{r['rate'] / 2000:g} kHz | {r['protocol']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the RAVDESS folder")
    parser.add_argument("--runs", type=Path, default=Path("runs/bandwidth"), help="where the CV folders go")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bandwidth" / "bandwidth.json")
    args = parser.parse_args()
    results = {}
    for protocol in PROTOCOLS:
        for rate in RATES:
            results[f"{rate} {protocol}"] = r = run_baseline(args.data, protocol, rate, args.runs / f"svm{rate // 1000}-{protocol}")
            print(f"{rate:>5} Hz  {protocol:13s} WA {100 * r['accuracy']['mean']:.1f} ± {100 * r['accuracy']['std']:.1f} %")
    write_result({"machine": describe(), "model": "MFCC + SVM, tuned", "results": results}, args.out)
    args.out.with_suffix(".md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
