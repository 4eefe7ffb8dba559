"""How long decoding takes per format: `specser.audio.load.load_audio` on a 4 s speech clip, to 16 kHz mono.

    python benchmarks/bench_decode.py [--clip FILE] [--repeats 30] [--out benchmarks/results/bench_decode.json]

The clip (default: a RAVDESS file from SPECSER_RAVDESS, else a synthetic tone) is written in each format a
user might bring: 48 kHz WAV and FLAC (libsndfile), and through FFmpeg an iPhone-style M4A (AAC, 48 kHz,
64 kbit/s), a browser WebM (Opus, 48 kHz, 32 kbit/s) and an Android 3GP (AMR-NB, 8 kHz). Prints the
median and 90th percentile per format, the first call (PyAV's import included for FFmpeg formats) apart.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

from specser.audio.degrade import ffmpeg_encode  # noqa: E402
from specser.audio.load import load_audio  # noqa: E402

FFMPEG_FORMATS = {"m4a (AAC 64 kbit/s)": ("ipod", "aac", 48000, 64000), "webm (Opus 32 kbit/s)": ("webm", "libopus", 48000, 32000),
                  "3gp (AMR-NB 12.2 kbit/s)": ("3gp", "libopencore_amrnb", 8000, 12200)}


def clip(path: str | None) -> tuple[np.ndarray, str]:
    """Mono float32 at 48 kHz, 4 s, and where it came from."""
    if path is None:
        root = Path(os.environ.get("SPECSER_RAVDESS", HERE.parent.parent / "shared" / "data" / "ravdess"))
        path = next(iter(sorted(root.glob("Actor_01/*.flac")) + sorted(root.glob("Actor_01/*.wav"))), None)
    if path is not None:
        wave, sr = sf.read(path, dtype="float32", always_2d=True)
        wave = soxr.resample(wave.mean(axis=1), sr, 48000) if sr != 48000 else wave.mean(axis=1)
        return np.resize(wave, 4 * 48000).astype(np.float32), str(path)
    t = np.arange(4 * 48000) / 48000
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32), "synthetic tone"


def encoded(wave: np.ndarray) -> dict[str, bytes]:
    files = {}
    for name, fmt in (("wav (48 kHz, 16-bit)", "WAV"), ("flac (48 kHz)", "FLAC")):
        buf = io.BytesIO()
        sf.write(buf, wave, 48000, format=fmt, subtype="PCM_16")
        files[name] = buf.getvalue()
    for name, (muxer, codec, rate, bit_rate) in FFMPEG_FORMATS.items():
        files[name] = ffmpeg_encode(wave, 48000, muxer, codec, rate, bit_rate)
    return files


def first_call_s(data: bytes) -> float:
    """One decode in a fresh interpreter: what `specser predict` on one such file pays, imports included."""
    code = ("import sys, time; data = sys.stdin.buffer.read(); t = time.perf_counter(); "
            "from specser.audio.load import load_audio; load_audio(data, 16000); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, check=True)
    return float(out.stdout.decode().strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default=None)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bench_decode.json")
    args = parser.parse_args()
    wave, source = clip(args.clip)
    rows = {}
    for name, data in encoded(wave).items():
        first = first_call_s(data)
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            load_audio(data, 16000)
            times.append(time.perf_counter() - started)
        ms = 1000 * np.array(times)
        rows[name] = {"bytes": len(data), "median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
                      "first_call_in_new_process_ms": 1000 * first}
        print(f"{name:26s} {len(data) / 1024:7.1f} kB  median {rows[name]['median_ms']:6.2f} ms  "
              f"p90 {rows[name]['p90_ms']:6.2f} ms  first call in a new process {1000 * first:6.1f} ms", flush=True)
    write_result({"machine": describe(), "clip": source, "seconds": 4.0, "repeats": args.repeats, "formats": rows},
                  args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
