"""Inference speed: single-clip latency (features included) and batch throughput, torch vs onnxruntime.

    python benchmarks/bench_infer.py --model runs/paper/model.specser [--clips 200] [--threads N]

Clips are real RAVDESS files (decoded once, outside the timing) cut or padded to 4 s.
"Features included" means waveform -> log-Mel -> standardise -> network -> probabilities.
Writes benchmarks/results/bench_infer.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe  # noqa: E402


def _files(data: Path, n: int) -> list[Path]:
    return sorted(data.glob("Actor_*/*.*"))[:: max(1, 1440 // n)][:n]


def _file_latency(predictor, files: list[Path]) -> dict:
    """predict(path): read + decode 48 kHz FLAC + resample + features + network, per file."""
    predictor.predict(files[0])
    times = []
    for f in files:
        t = time.perf_counter()
        predictor.predict(f)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    return {"file_p50_ms": float(np.percentile(ms, 50)), "file_p99_ms": float(np.percentile(ms, 99))}


def _clips(data: Path, n: int, sample_rate: int, seconds: float) -> list[np.ndarray]:
    from specser.audio.load import load_audio

    files = _files(data, n)
    clips = []
    for f in files:
        w = load_audio(f, sample_rate)
        target = int(seconds * sample_rate)
        clips.append(np.pad(w, (0, max(0, target - w.size)))[:target])
    return clips


def _latency(predictor, clips, repeats: int) -> dict:
    for c in clips[:5]:
        predictor.probabilities([c])  # warm-up
    times = []
    for _ in range(repeats):
        for c in clips:
            t = time.perf_counter()
            predictor.probabilities([c])
            times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)), "n": len(ms)}


def _throughput(predictor, clips, batch: int) -> float:
    predictor.probabilities(clips[:batch])
    t = time.perf_counter()
    for i in range(0, len(clips), batch):
        predictor.probabilities(clips[i : i + batch])
    return len(clips) / (time.perf_counter() - t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="a native-mode model.specser")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch / onnxruntime intra-op threads (default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bench_infer.json")
    args = parser.parse_args()

    import torch

    from specser.export.onnx_export import export_onnx
    from specser.export.onnx_predictor import OnnxPredictor
    from specser.inference.predictor import Predictor

    if args.threads:
        torch.set_num_threads(args.threads)
    backends = {"torch-cpu": Predictor.from_file(args.model, device="cpu")}
    onnx_path = Path(tempfile.mkdtemp()) / "model.onnx"
    export_onnx(args.model, onnx_path)
    backends["onnxruntime-cpu"] = OnnxPredictor(onnx_path, threads=args.threads)
    if torch.cuda.is_available():
        backends["torch-cuda"] = Predictor.from_file(args.model, device="cuda")
    seconds = backends["torch-cpu"].features.clip_seconds
    clips = _clips(args.data, args.clips, backends["torch-cpu"].sample_rate, seconds)
    results = {}
    for name, predictor in backends.items():
        lat = _latency(predictor, clips, args.repeats)
        thr = _throughput(predictor, clips, args.batch)
        from_file = _file_latency(predictor, _files(args.data, min(args.clips, 100)))
        results[name] = {**lat, **from_file, "batch": args.batch, "clips_per_s": thr,
                         "real_time_factor": lat["p50_ms"] / 1000 / seconds}
        print(f"{name:16s} 4 s clip (waveform in) p50 {lat['p50_ms']:.2f} ms  p99 {lat['p99_ms']:.2f} ms | "
              f"from a FLAC file p50 {from_file['file_p50_ms']:.2f} ms | batch {args.batch}: {thr:.0f} clips/s | "
              f"RTF {results[name]['real_time_factor']:.4f}")
    from specser.atomic import atomic_write_json

    record = {"machine": describe(), "model": str(args.model), "clip_seconds": seconds, "clips": len(clips),
              "threads": args.threads or torch.get_num_threads(), "results": results,
              "command": " ".join(["python", *sys.argv])}
    atomic_write_json(args.out, record)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
