"""How long the training-time audio augmentation and front-end (`WaveFeatures`) take per batch, whole and
by stage, for a preset's settings.

The `robust` preset trains on waveforms: every batch is resampled, cropped, put in rooms, given noise,
quantised and turned into log-Mels on the fly. This times one batch of 64 RAVDESS-length clips (3.2-4.2 s
at 16 kHz, synthetic: timing does not depend on what they say) at one thread, as a fold of a CV with
`cv.parallel_folds=2 --set train.threads=1` runs it. Each stage is timed where it is called (the mean time
per batch); what is left of the batch is the crop, gain, band masks, the Mel product and standardising.

    python benchmarks/bench_augment.py                   # the robust preset
    python benchmarks/bench_augment.py --preset best --repeats 30
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, write_result  # noqa: E402

STAGES = {  # stage -> (module attribute or WaveFeatures / LogMel method) timed inside the batch
    "speed change": ("augment", "_speed"),
    "room": ("conditions", "reverberate"),
    "noise": ("conditions", "add_noise"),
    "quantisation": ("conditions", "quantize"),
    "power spectrum": ("front_end", "power"),
    "pitch (warped filterbank)": ("augment", "warped_filterbank"),
    "level and floor": ("front_end", "_clip"),
}


def timed(fn, totals: dict, stage: str):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[stage] = totals.get(stage, 0.0) + time.perf_counter() - start
    return wrapper


def batch_times(cfg, waves, lengths, repeats: int) -> tuple[float, dict[str, float]]:
    """Median seconds of one `WaveFeatures` forward over `repeats` batches (after two warm-up batches), and
    the mean seconds each stage took within a batch. The stages are timed where they are called, so the
    batches and their random draws are the ones a training run makes."""
    import torch

    from specser.features.logmel import mel_filterbank
    from specser.training import augment, conditions
    from specser.training.augment import WaveFeatures

    fb = torch.from_numpy(mel_filterbank(cfg.features))
    n_mels = cfg.features.n_mels
    features = WaveFeatures(cfg.features, cfg.train.augment, True, fb, torch.zeros(n_mels), torch.ones(n_mels))
    totals: dict[str, float] = {}
    owners = {"augment": augment, "conditions": conditions, "front_end": features.front_end}
    originals = {}
    for stage, (owner, name) in STAGES.items():
        target = features if name == "_speed" else owners[owner]
        originals[(target, name)] = getattr(target, name)
        setattr(target, name, timed(getattr(target, name), totals, stage))
    times = []
    try:
        with torch.no_grad():
            for i in range(repeats + 2):
                if i == 2:
                    totals.clear()
                start = time.perf_counter()
                features(waves, lengths)
                if i >= 2:
                    times.append(time.perf_counter() - start)
    finally:
        for (target, name), original in originals.items():
            if isinstance(target, torch.nn.Module):  # an instance's wrapper hides its class's method
                delattr(target, name)
            else:
                setattr(target, name, original)
    return sorted(times)[len(times) // 2], {k: v / repeats for k, v in totals.items()}


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
    whole, stages = batch_times(cfg, waves, lengths, args.repeats)
    print(f"{args.preset}: one batch of {args.batch} clips, {args.threads} thread(s): {1000 * whole:.1f} ms")
    for stage, seconds in stages.items():
        print(f"  {stage:28s} {1000 * seconds:7.1f} ms")
    stages = {k: round(1000 * v, 1) for k, v in stages.items()}
    write_result({"preset": args.preset, "batch": args.batch, "threads": args.threads, "repeats": args.repeats,
                  "batch_ms": round(1000 * whole, 1), "stage_ms": stages, "machine": describe()}, args.out)


if __name__ == "__main__":
    main()
