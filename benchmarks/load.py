"""Load test: `specser serve` on loopback, driven by a bounded number of concurrent clients.

    python benchmarks/load.py --model runs/paper/model.specser [--clients 8] [--seconds 30] [--threads 2]
    python benchmarks/load.py --mixed 2 [--long-after 30]   # plus 2 clients posting 10-minute recordings

Every request posts the same 4-second WAV clip (a real RAVDESS file, cut or padded to
4 s; a synthetic tone if the corpus is absent). Reports requests/s, p50/p99 latency and
errors; writes benchmarks/results/load.json. With --mixed N, N more clients post a
10-minute recording (the clip tiled) over and over, and the clip latencies show whether short
requests wait behind long ones; the server queues audio longer than --long-after seconds apart
(a --long-after of 100000 puts everything in one queue, as before). Without --model it serves the
bundled model.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe  # noqa: E402


def _clip(data: Path) -> tuple[bytes, str]:
    import soundfile as sf

    files = sorted(data.glob("Actor_01/*.*"))
    if files:
        wave, sr = sf.read(files[0], dtype="float32")
        source = str(files[0])
    else:
        sr, source = 16000, "synthetic tone"
        wave = (0.2 * np.sin(2 * np.pi * 220 * np.arange(4 * sr) / sr)).astype(np.float32)
    wave = np.pad(wave, (0, max(0, 4 * sr - wave.size)))[: 4 * sr]
    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format="WAV")
    return buffer.getvalue(), source


def _tiled(body: bytes, seconds: float) -> bytes:
    """The clip tiled to `seconds`, as 16 kHz 16-bit WAV (19.2 MB for 10 minutes: under the 20 MB limit)."""
    import soundfile as sf
    import soxr

    wave, sr = sf.read(io.BytesIO(body), dtype="float32")
    if sr != 16000:
        wave, sr = soxr.resample(wave, sr, 16000).astype(np.float32), 16000
    buffer = io.BytesIO()
    sf.write(buffer, np.tile(wave, int(np.ceil(seconds * sr / wave.size)))[: int(seconds * sr)], sr, format="WAV",
             subtype="PCM_16")
    return buffer.getvalue()


async def _mixed(url: str, clip: bytes, long: bytes, clients: int, long_clients: int, seconds: float):
    """Clip clients and long-recording clients at once; returns the clip results and the long latencies."""
    long_latencies: list[float] = []
    long_errors: list[str] = []

    async def long_client():
        import httpx

        async with httpx.AsyncClient(timeout=600) as http:
            stop = time.perf_counter() + seconds
            while time.perf_counter() < stop:
                t = time.perf_counter()
                r = await http.post(url, files={"file": ("long.wav", long, "audio/wav")})
                if r.status_code != 200:
                    long_errors.append(f"HTTP {r.status_code}: {r.text[:100]}")
                else:
                    long_latencies.append(time.perf_counter() - t)

    async def after_long_start():
        await asyncio.sleep(1.0)  # let the long uploads take the server first, the case that hurt
        return await _drive(url, clip, clients, seconds)

    *_, clip_result = await asyncio.gather(*(long_client() for _ in range(long_clients)), after_long_start())
    return clip_result, long_latencies, long_errors


async def _drive(url: str, body: bytes, clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    async def client(http: httpx.AsyncClient):
        while time.perf_counter() < stop:
            t = time.perf_counter()
            try:
                r = await http.post(url, files={"file": ("clip.wav", body, "audio/wav")})
                if r.status_code != 200:
                    errors.append(f"HTTP {r.status_code}: {r.text[:100]}")
                    continue
            except httpx.HTTPError as exc:
                errors.append(repr(exc))
                continue
            latencies.append(time.perf_counter() - t)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return latencies, errors, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="default: the bundled model")
    parser.add_argument("--mixed", type=int, default=0, help="clients posting 10-minute recordings beside the clips")
    parser.add_argument("--long-after", type=float, default=30.0, help="the server's long-recording threshold, s")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2, help="inference threads of the server")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "load.json")
    args = parser.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    specser = str(Path(sys.executable).with_name("specser"))
    server = subprocess.Popen([specser, "serve", *([str(args.model)] if args.model else []), "--port", str(port),
                               "--threads", str(args.threads), "--workers", str(args.workers),
                               "--long-after", str(args.long_after)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import httpx

        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        body, source = _clip(args.data)
        asyncio.run(_drive(base + "/v1/predict", body, min(2, args.clients), 3.0))  # warm-up
        long_latencies, long_errors = [], []
        if args.mixed:
            (latencies, errors, elapsed), long_latencies, long_errors = asyncio.run(_mixed(
                base + "/v1/predict", body, _tiled(body, 600.0), args.clients, args.mixed, args.seconds))
        else:
            latencies, errors, elapsed = asyncio.run(_drive(base + "/v1/predict", body, args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = np.array(latencies) * 1000
    result = {
        "requests": len(latencies), "errors": len(errors), "error_examples": errors[:5],
        "requests_per_s": len(latencies) / elapsed, "p50_ms": float(np.percentile(ms, 50)) if len(ms) else None,
        "p99_ms": float(np.percentile(ms, 99)) if len(ms) else None, "clients": args.clients, "seconds": elapsed,
        "server_threads": args.threads, "server_workers": args.workers, "clip": source, "clip_seconds": 4.0,
        "long_clients": args.mixed, "long_after_s": args.long_after, "long_requests": len(long_latencies),
        "long_errors": len(long_errors), "long_p50_s": float(np.median(long_latencies)) if long_latencies else None,
    }
    print(f"{args.clients} clients, {elapsed:.0f} s: {result['requests_per_s']:.1f} requests/s, p50 {result['p50_ms']:.1f} ms, "
          f"p99 {result['p99_ms']:.1f} ms, {len(errors)} errors")
    from specser.atomic import atomic_write_json

    if args.mixed:
        print(f"beside {args.mixed} clients posting 10-minute recordings ({len(long_latencies)} done, "
              f"median {result['long_p50_s'] or float('nan'):.1f} s each, {len(long_errors)} errors "
              f"{long_errors[:1]})")
    atomic_write_json(args.out, {"machine": describe(), "model": str(args.model or "bundled default"), "result": result,
                                 "command": " ".join(["python", *sys.argv])})
    print(f"wrote {args.out}")
    return 0 if not errors and not long_errors else 1


if __name__ == "__main__":
    sys.exit(main())
