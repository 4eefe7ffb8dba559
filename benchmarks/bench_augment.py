"""How long the training-time audio augmentation and front-end (`WaveFeatures`) take per batch, whole and
by stage, for a preset's settings.

The `robust` preset trains on waveforms: every batch is resampled, cropped, put in rooms, given noise,
quantised and turned into log-Mels on the fly. This times one batch of 64 RAVDESS-length clips (3.2-4.2 s
at 16 kHz, synthetic: timing does not depend on what they say) at one thread, as a fold of a CV with
`cv.parallel_folds=2 --set train.threads=1` runs it. Stages are timed by turning each off in turn: the
saving is what that stage costs.

    python benchmarks/bench_augment.py                   # the robust preset
    python benchmarks/bench_augment.py --preset best --repeats 30
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, write_result  # noqa: E402

STAGES = {  # stage -> the augment settings that turn it off
    "speed and crop": {"speed": 0.0},
    "room": {"reverb_prob": 0.0},
    "noise": {"noise_prob": 0.0},
    "quantisation": {"quantize_prob": 0.0},
    "band-limiting": {"band_prob": 0.0},
    "pitch (warped filterbank)": {"pitch_semitones": 0.0},
}


def batch_time(cfg, waves, lengths, repeats: int) -> float:
    """Median seconds of one `WaveFeatures` forward over `repeats` batches (after two warm-up batches)."""
    import torch

    from specser.features.logmel import mel_filterbank
    from specser.training.augment import WaveFeatures

    fb = torch.from_numpy(mel_filterbank(cfg.features))
    n_mels = cfg.features.n_mels
    features = WaveFeatures(cfg.features, cfg.train.augment, True, fb, torch.zeros(n_mels), torch.ones(n_mels))
    times = []
    with torch.no_grad():
        for i in range(repeats + 2):
            start = time.perf_counter()
            features(waves, lengths)
            if i >= 2:
                times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="robust")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_augment.json")
    args = parser.parse_args()

    import torch

    from specser.config import load_config

    torch.set_num_threads(args.threads)
    cfg = load_config(preset=args.preset)
    sr = cfg.features.sample_rate
    gen = torch.Generator().manual_seed(0)
    lengths = (sr * (3.2 + torch.rand(args.batch, generator=gen))).long()
    waves = 0.1 * torch.randn(args.batch, int(lengths.max()), generator=gen)
    torch.manual_seed(0)
    whole = batch_time(cfg, waves, lengths, args.repeats)
    print(f"{args.preset}: one batch of {args.batch} clips, {args.threads} thread(s): {1000 * whole:.1f} ms")
    augment = cfg.train.augment
    stages = {}
    for stage, off in STAGES.items():
        if all(getattr(augment, k) == v for k, v in off.items()):
            continue  # not part of this preset
        without = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train,
                                                                     augment=dataclasses.replace(augment, **off)))
        torch.manual_seed(0)
        saved = whole - batch_time(without, waves, lengths, args.repeats)
        stages[stage] = round(1000 * saved, 1)
        print(f"  {stage:28s} {1000 * saved:7.1f} ms")
    write_result({"preset": args.preset, "batch": args.batch, "threads": args.threads, "repeats": args.repeats,
                  "batch_ms": round(1000 * whole, 1), "stage_ms": stages, "machine": describe()}, args.out)


if __name__ == "__main__":
    main()
