"""Log-Mel extraction throughput: specser's extractor against librosa, same files, same settings.

    python benchmarks/bench_features.py [--data DIR] [--limit N] [--workers N]

Every variant does the whole job for each RAVDESS file: read, decode the 48 kHz FLAC,
mix to mono, resample to 16 kHz (soxr HQ in both), 128-band log-Mel in dB. No cache is
involved. Variants, run one after another in this process:

- ``librosa``: ``librosa.load(sr=16000)`` + ``melspectrogram`` + ``power_to_db``, one file
  after another, as librosa is usually run;
- ``librosa-processes``: the same function over a process pool with one process per core;
- ``specser-cpu``: `specser.features.extract.extract_logmels`, threads over the cores;
- ``specser-cuda``: the same with batched log-Mels on the GPU (only when CUDA is available);
- ``decode+resample only``: threads that decode and resample and compute nothing else, the
  ceiling for any extractor that reads the same files the same way.

It also checks that specser's output equals librosa's on every file (max and mean |dB|
difference) and records peak memory (resident set of this process and its children,
sampled every 5 ms, above the level before the variant). Writes
benchmarks/results/bench_features.json.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def _tree_rss(children: bool) -> int:
    """Resident memory of this process, plus its direct children (the librosa process pool)."""
    me = os.getpid()
    total = _rss_bytes(me)
    for entry in os.listdir("/proc") if children else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == me:
                        total += _rss_bytes(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return total


class PeakMemory:
    """Samples the resident set in a background thread; `.peak_mb` is the rise over the start."""

    def __init__(self, children: bool, interval: float = 0.02):
        self.children, self.interval, self.peak, self._stop = children, interval, 0, threading.Event()

    def __enter__(self):
        self.base = _tree_rss(self.children)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(self.children))
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()
        self.peak_mb = max(0, self.peak - self.base) / 2**20


def librosa_one(path: str) -> np.ndarray:
    """The librosa pipeline with specser's default feature settings."""
    import librosa

    from specser.config import FeatureConfig
    from specser.features.logmel import librosa_logmel

    cfg = FeatureConfig()
    wave, _ = librosa.load(path, sr=cfg.sample_rate, mono=True)  # soundfile decode + soxr_hq
    return librosa_logmel(wave, cfg)


def run_librosa(paths: list[str], processes: int) -> list[np.ndarray]:
    if processes <= 1:
        return [librosa_one(p) for p in paths]
    # Fresh interpreters with one BLAS/OpenMP thread each: forked children would inherit
    # this process's thread pools and oversubscribe the cores.
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: "1" for k in THREAD_VARS})
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            pool.submit(librosa_one, paths[0]).result()  # start-up and imports, outside the files' time
            return list(pool.map(librosa_one, paths, chunksize=16))
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def run_specser(rows, device: str, workers: int) -> dict:
    from specser.config import FeatureConfig
    from specser.features.extract import extract_logmels

    result = extract_logmels(rows, FeatureConfig(), None, workers=workers, progress=False, device=device)
    if result.skipped:
        raise RuntimeError(f"specser skipped files: {result.skipped[:3]}")
    return result.features


def run_decode_only(paths: list[str], workers: int) -> list[np.ndarray]:
    """The floor under any extractor that decodes and resamples the same way: no log-Mel at all."""
    from concurrent.futures import ThreadPoolExecutor

    from specser.audio.load import load_audio

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda p: load_audio(p, 16000), paths))


def timed(fn, n_files: int, repeats: int, children: bool) -> dict:
    times, peaks, out = [], [], None
    for _ in range(repeats):
        with PeakMemory(children) as mem:
            start = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - start)
        peaks.append(mem.peak_mb)
    best = min(times)
    return {"seconds": best, "seconds_all": times, "files_per_s": n_files / best, "peak_mem_mb": max(peaks)}, out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="", help="RAVDESS folder (default: SPECSER_RAVDESS or ../shared/data/ravdess)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N files (0: all)")
    parser.add_argument("--workers", type=int, default=0, help="threads/processes (0: every core)")
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats per variant; the best is reported")
    parser.add_argument("--out", default=str(HERE / "results" / "bench_features.json"))
    args = parser.parse_args(argv)

    import torch

    from specser.corpus.manifest import load_manifest
    from specser.paths import resolve_data_path

    data = resolve_data_path(args.data)
    rows = load_manifest(data, "auto", "ravdess8").rows
    rows = rows[: args.limit] if args.limit else rows
    paths = [r.path for r in rows]
    cores = args.workers or len(os.sched_getaffinity(0))
    n = len(rows)
    print(f"{n} files from {data}; {cores} cores")

    # Warm-up outside the timings: imports, filterbanks, first-call allocations.
    run_librosa(paths[:8], 1)
    run_specser(rows[:8], "cpu", cores)

    results, outputs = {}, {}
    variants = [
        ("librosa", lambda: run_librosa(paths, 1)),
        ("librosa-processes", lambda: run_librosa(paths, cores)),
        ("specser-cpu", lambda: run_specser(rows, "cpu", cores)),
        ("decode+resample only", lambda: run_decode_only(paths, cores)),
    ]
    if torch.cuda.is_available():
        run_specser(rows[:8], "cuda", cores)
        variants.append(("specser-cuda", lambda: run_specser(rows, "cuda", cores)))
    for name, fn in variants:
        results[name], outputs[name] = timed(fn, n, args.repeats, name.endswith("processes"))
        print(f"{name:>18}: {results[name]['files_per_s']:8.1f} files/s  ({results[name]['seconds']:.2f} s, "
              f"peak +{results[name]['peak_mem_mb']:.0f} MB)")

    reference = dict(zip((r.utt_id for r in rows), outputs["librosa"]))
    agreement = {}
    for name in [v for v in results if v.startswith("specser-")]:
        diffs = [np.abs(outputs[name][k] - reference[k]) for k in reference]
        agreement[name] = {"max_abs_db": float(max(d.max() for d in diffs)),
                           "mean_abs_db": float(np.mean([d.mean() for d in diffs])),
                           "shapes_equal": all(outputs[name][k].shape == reference[k].shape for k in reference)}
        print(f"{name} vs librosa: max |dB| {agreement[name]['max_abs_db']:.4f}, "
              f"mean |dB| {agreement[name]['mean_abs_db']:.2e}")
    base = results["librosa"]["files_per_s"]
    for name in results:
        results[name]["speedup_vs_librosa"] = results[name]["files_per_s"] / base
        results[name]["speedup_vs_librosa_processes"] = results[name]["files_per_s"] / results["librosa-processes"]["files_per_s"]
    print("speed-up of specser-cpu: "
          f"{results['specser-cpu']['speedup_vs_librosa']:.2f}x librosa, "
          f"{results['specser-cpu']['speedup_vs_librosa_processes']:.2f}x librosa over {cores} processes")

    record = {"machine": describe(), "files": n, "cores": cores, "repeats": args.repeats,
              "settings": "16 kHz, n_fft 1024, hop 256, 128 Mel bands, 0-8 kHz, top_db 80",
              "results": results, "agreement_with_librosa": agreement,
              "command": "python benchmarks/bench_features.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    write_result(record, args.out)
    return record


if __name__ == "__main__":
    main()
