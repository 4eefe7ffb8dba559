"""Voice profiles in the service: what making one costs, and what a prediction with one costs.

    python benchmarks/bench_profiles.py [--model M] [--data RAVDESS] [--repeats 20]

Through the app itself (FastAPI's TestClient, no network): POST /v1/profiles with 5 and 20 RAVDESS
files of one actor (FLAC, decoded and resampled as any upload), then /v1/predict of one file with no
profile, with a profile for the first time in this process (the profile file is read and its predictor
built), and with it again (cached). Model: the bundled one unless --model. Writes
benchmarks/results/bench_profiles.json.
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
from machine import describe, write_result  # noqa: E402


def _ms(fn, repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return {"p50_ms": round(float(np.percentile(times, 50)), 1), "max_ms": round(float(np.max(times)), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SPECSER_RAVDESS", "../shared/data/ravdess")))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bench_profiles.json")
    args = parser.parse_args()
    from fastapi.testclient import TestClient

    from specser.bundled import default_model
    from specser.service.app import create_app
    from specser.service.settings import ServiceSettings

    model = args.model or default_model()
    files = sorted((args.data / "Actor_05").glob("*.*"))
    if len(files) < 22:
        raise SystemExit(f"{args.data}: need RAVDESS's Actor_05 (set SPECSER_RAVDESS or --data)")
    uploads = [("file", (f.name, f.read_bytes(), "audio/flac")) for f in files[:20]]
    clip = files[-1].read_bytes()
    record = {"machine": describe(), "model": str(model), "threads": os.environ.get("OMP_NUM_THREADS")}
    with tempfile.TemporaryDirectory() as folder, TestClient(create_app(ServiceSettings(
            model=model, profiles_dir=Path(folder)))) as client:

        def predict(profile=None):
            url = "/v1/predict" + (f"?profile={profile}" if profile else "")
            response = client.post(url, files={"file": ("clip.flac", clip, "audio/flac")})
            assert response.status_code == 200, response.text

        names = {}
        for n in (5, 20):
            def make(n=n):
                response = client.post("/v1/profiles", files=uploads[:n])
                assert response.status_code == 201, response.text
                names[n] = response.json()["profile"]
            record[f"make_from_{n}_files"] = _ms(make, max(3, args.repeats // 4))
        record["predict_without_profile"] = _ms(predict, args.repeats)

        def first_use():  # as in a worker process that has not used this profile yet
            client.app.state.profiles._cache.clear()
            predict(names[5])
        record["predict_with_profile_first_use"] = _ms(first_use, args.repeats)
        record["predict_with_profile_cached"] = _ms(lambda: predict(names[5]), args.repeats)
        record["profile_file_bytes"] = (Path(folder) / f"{names[5]}.profile").stat().st_size
    for key, value in record.items():
        if key != "machine":
            print(f"{key}: {value}")
    write_result(record, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
