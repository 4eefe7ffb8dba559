"""Training speed of the paper preset on 6-class RAVDESS: per epoch, per step, and a whole CV.

    python benchmarks/bench_train.py                 # epoch timings + profiles (a few minutes)
    python benchmarks/bench_train.py --cv            # ... and a complete random-5fold `specser cv`
    python benchmarks/bench_train.py --compile       # ... and a torch.compile variant (slow to build)

The data is fold 1 of random-5fold: its training part minus the 20 % validation split
(675 files) for training, the validation split (169) for the validation pass. Variants:

- ``before``: the issue-2 set-up: NCHW convolutions and a DataLoader that fetches items
  one by one and stacks them;
- ``channels_last``: NHWC convolutions, same loader;
- ``after``: NHWC plus whole batches indexed from one in-memory tensor (the default now);
- ``after-1thread``: the same with one CPU thread, to show how the two cores are used;
- ``after+compile``: with ``--compile``.

For each: the seconds of a plain PyTorch epoch (forward, backward, Adam, nothing else),
and of a Lightning epoch (the same steps through `EmotionClassifier` and the Trainer,
plus the validation pass), so the framework's per-step overhead shows. A torch.profiler
table of one plain epoch, before and after, lists the top operators. ``--cv`` runs the
`specser cv` command a user would run and records its wall time and accuracy. On CUDA
(``--device cuda``, when a GPU is lent) the variants use bf16 autocast and GPU-resident data.
Writes benchmarks/results/bench_train.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe, write_result  # noqa: E402
from torch.utils.data import Dataset  # noqa: E402


class PerItem(Dataset):
    """The issue-2 loader: one item at a time, stacked by the default collate."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        return self.dataset[i]


def fold_data(cfg):
    """Fold 1 of random-5fold through the training pipeline's own `prepare` step."""
    from specser.data.folds import fold_split, make_folds
    from specser.features.prepare import prepare_corpus
    from specser.runs.folder import RunFolder
    from specser.runs.train import prepare

    corpus = prepare_corpus(cfg, progress=False)
    fold = make_folds(corpus.rows, "random-5fold", cfg.seed, 5)[0]
    split = fold_split(fold, corpus.rows_by_id, "random-5fold", cfg.data.val_size, cfg.seed, 5)
    with tempfile.TemporaryDirectory() as scratch:
        data = prepare(cfg, RunFolder(scratch), progress=False, corpus=corpus, split=split)
    return data.inputs.datasets["train"], data.inputs.datasets["val"], len(data.labels)


def loaders(train, val, batched: bool, batch_size: int):
    import torch
    from torch.utils.data import DataLoader

    from specser.data.datasets import stacked_collate

    def make(ds, shuffle):
        if batched:
            return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, collate_fn=stacked_collate,
                              generator=torch.Generator().manual_seed(0))
        return DataLoader(PerItem(ds), batch_size=batch_size, shuffle=shuffle, generator=torch.Generator().manual_seed(0))

    return make(train, True), make(val, False)


def plain_epoch(model, loader, opt, channels_last: bool, device: str, autocast: bool) -> float:
    import torch
    import torch.nn.functional as F

    model.train()
    start = time.perf_counter()
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=autocast):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def profile_epoch(model, loader, opt, channels_last, device, autocast, top: int = 8) -> list[dict]:
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        plain_epoch(model, loader, opt, channels_last, device, autocast)
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in rows) or 1
    return [{"op": e.key, "self_cpu_ms": e.self_cpu_time_total / 1000, "share": e.self_cpu_time_total / total,
             "calls": e.count} for e in rows[:top]]


def lightning_epochs(model, train_loader, val_loader, train_cfg, device: str, epochs: int) -> dict:
    import lightning as L
    from lightning.pytorch.callbacks import Callback

    from specser.training.fit import quiet_lightning
    from specser.training.module import EmotionClassifier

    class Clock(Callback):
        def __init__(self):
            self.train, self.full, self._t, self._e = [], [], 0.0, 0.0

        def on_train_epoch_start(self, trainer, module):
            self._e = self._t = time.perf_counter()

        def on_validation_epoch_start(self, trainer, module):
            self.train.append(time.perf_counter() - self._t)

        def on_train_epoch_end(self, trainer, module):
            self.full.append(time.perf_counter() - self._e)

    quiet_lightning()
    clock = Clock()
    trainer = L.Trainer(max_epochs=epochs, accelerator="gpu" if device == "cuda" else "cpu", devices=1,
                        precision=train_cfg.precision, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[clock],
                        num_sanity_val_steps=0)
    trainer.fit(EmotionClassifier(model, train_cfg), train_loader, val_loader)
    return {"train_epoch_s": clock.train[1:], "epoch_s": clock.full[1:]}  # the first epoch warms up


def bench_variant(name, cfg, train, val, n_classes, device, epochs, profile: bool) -> dict:
    import dataclasses

    import torch

    from specser.models import create_model

    spec = VARIANTS[name]
    tcfg = dataclasses.replace(cfg.train, channels_last=spec["channels_last"], compile=spec.get("compile", False),
                               precision="bf16-mixed" if device == "cuda" else "32-true")
    threads_before = torch.get_num_threads()
    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    try:
        if device == "cuda" and spec["batched"]:
            train, val = train.to("cuda"), val.to("cuda")
        train_loader, val_loader = loaders(train, val, spec["batched"], cfg.train.batch_size)

        def fresh():
            torch.manual_seed(cfg.seed)
            model = create_model("spec_resnet", in_channels=1, num_classes=n_classes).to(device)
            return model.to(memory_format=torch.channels_last) if spec["channels_last"] else model

        model = fresh()
        run = torch.compile(model) if tcfg.compile else model
        opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
        autocast = device == "cuda"
        first = plain_epoch(run, train_loader, opt, spec["channels_last"], device, autocast)  # warm-up (and compile)
        plain = [plain_epoch(run, train_loader, opt, spec["channels_last"], device, autocast) for _ in range(epochs)]
        top = profile_epoch(run, train_loader, opt, spec["channels_last"], device, autocast) if profile else None
        light = lightning_epochs(fresh(), train_loader, val_loader, tcfg, device, epochs + 1)
    finally:
        torch.set_num_threads(threads_before)
    steps = len(train_loader)
    plain_s = min(plain)
    train_s = min(light["train_epoch_s"])
    result = {
        "threads": spec.get("threads") or threads_before, "first_epoch_s": first,
        "plain_epoch_s": plain_s, "plain_samples_per_s": len(train) / plain_s,
        "lightning_train_epoch_s": train_s, "lightning_epoch_s": min(light["epoch_s"]),
        "lightning_samples_per_s": len(train) / train_s, "steps_per_epoch": steps,
        "lightning_overhead_ms_per_step": (train_s - plain_s) / steps * 1000,
        "lightning_overhead_share": (train_s - plain_s) / train_s,
        "all_plain_epoch_s": plain, "all_lightning_epoch_s": light["epoch_s"],
    }
    if top is not None:
        result["profile_top_ops"] = top
    print(f"{name:>18}: plain {plain_s:.2f} s/epoch ({result['plain_samples_per_s']:.0f} samples/s) | Lightning "
          f"train {train_s:.2f} s + val = {result['lightning_epoch_s']:.2f} s/epoch | overhead "
          f"{result['lightning_overhead_ms_per_step']:+.1f} ms/step ({100 * result['lightning_overhead_share']:+.1f} %)")
    return result


VARIANTS = {
    "before": {"channels_last": False, "batched": False},
    "channels_last": {"channels_last": True, "batched": False},
    "after": {"channels_last": True, "batched": True},
    "after-1thread": {"channels_last": True, "batched": True, "threads": 1},
    "after+compile": {"channels_last": True, "batched": True, "compile": True},
}


def run_cv(data: str, out_dir: Path, device: str, extra: list[str]) -> dict:
    """The complete `specser cv` a user would run, timed from the outside (features already cached)."""
    cmd = [sys.executable, "-m", "specser.cli.main", "cv", "--protocol", "random-5fold", "--out", str(out_dir),
           "--overwrite", "--no-progress"] + (["--data", data] if data else [])
    if device == "cuda":
        cmd += ["--set", "train.precision=bf16-mixed"]
    cmd += extra
    print("running:", shlex.join(cmd))
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    import dataclasses

    from specser.evaluation.summaries import CVSummary

    summary = CVSummary.load(out_dir / "cv_summary.json")
    result = {"command": shlex.join(["specser", *cmd[3:]]), "wall_s": wall,
              **{k: dataclasses.asdict(getattr(summary, k)) for k in ("accuracy", "uar", "macro_f1")},
              "epochs_per_fold": [f.epochs for f in summary.run.folds],
              "fold_wall_s": [f.wall_time_s for f in summary.run.folds]}
    acc = summary.accuracy
    print(f"random-5fold CV: {wall / 60:.1f} min wall, accuracy {100 * acc.mean:.1f} ± {100 * acc.std:.1f} %, "
          f"epochs per fold {result['epochs_per_fold']}")
    return result


def run_ddp_pair(data: str, out_dir: Path) -> dict:
    """`specser train` (paper preset, seeded 80/20 holdout) in one process and in 2 DDP processes (gloo
    on CPU): the same recipe, so the same quality is expected; wall time and test figures of each."""
    results = {}
    for name, extra in (("1 process", ["--set", "train.accelerator=cpu", "--set", "train.devices=1"]),
                        ("2 DDP processes", ["--set", "train.accelerator=cpu", "--set", "train.devices=2",
                                             "--set", "train.strategy=ddp", "--set", "train.threads=1"])):
        run = out_dir / name.replace(" ", "-")
        cmd = [sys.executable, "-m", "specser.cli.main", "train", "--out", str(run), "--overwrite", "--no-progress",
               *(["--data", data] if data else []), *extra]
        print("running:", shlex.join(cmd))
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        metrics = json.loads((run / "metrics.json").read_text())
        results[name] = {"command": shlex.join(["specser", *cmd[3:]]), "wall_s": time.perf_counter() - start,
                         "accuracy": metrics["accuracy"], "uar": metrics["uar"], "macro_f1": metrics["macro_f1"],
                         "epochs": metrics["run"]["epochs"], "n_test": metrics["n"]}
        print(f"{name}: accuracy {100 * metrics['accuracy']:.1f} %, UA {100 * metrics['uar']:.1f} %, "
              f"{metrics['run']['epochs']} epochs, {results[name]['wall_s']:.0f} s")
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="", help="RAVDESS folder (default: SPECSER_RAVDESS or ../shared/data/ravdess)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per variant (after one warm-up epoch)")
    parser.add_argument("--variants", default="before,channels_last,after,after-1thread",
                        help="comma-separated; see the list above")
    parser.add_argument("--compile", action="store_true", help="add the torch.compile variant")
    parser.add_argument("--cv", action="store_true", help="also time a complete random-5fold `specser cv`")
    parser.add_argument("--cv-args", default="", help="extra arguments for that `specser cv`, e.g. "
                        "'--set cv.parallel_folds=5'")
    parser.add_argument("--cv-out", default="", help="its run folder (default: a temporary folder)")
    parser.add_argument("--ddp", action="store_true", help="also train the paper preset in 1 and in 2 DDP processes "
                        "(gloo) on the same holdout and compare")
    parser.add_argument("--skip-variants", action="store_true", help="no epoch timings (with --cv / --ddp)")
    parser.add_argument("--out", default=str(HERE / "results" / "bench_train.json"))
    args = parser.parse_args(argv)

    import torch

    from specser.config import load_config

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    cfg = load_config(overrides=[f"data.path={args.data}"] if args.data else [])
    train, val, n_classes = fold_data(cfg)
    print(f"paper preset, fold 1 of random-5fold: train {len(train)} / val {len(val)} files, "
          f"batch {cfg.train.batch_size}, device {device}, {torch.get_num_threads()} threads")
    names = [n for n in args.variants.split(",") if n] + (["after+compile"] if args.compile else [])
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    results = {} if args.skip_variants else {
        n: bench_variant(n, cfg, train, val, n_classes, device, args.epochs, n in ("before", "after")) for n in names}
    record = {"machine": describe(), "device": device, "n_train": len(train), "n_val": len(val),
              "batch_size": cfg.train.batch_size, "variants": results,
              "command": "python benchmarks/bench_train.py " + shlex.join(argv if argv is not None else sys.argv[1:])}
    if "before" in results and "after" in results:
        record["speedup_plain"] = results["before"]["plain_epoch_s"] / results["after"]["plain_epoch_s"]
        record["speedup_lightning_epoch"] = results["before"]["lightning_epoch_s"] / results["after"]["lightning_epoch_s"]
        print(f"speed-up after/before: {record['speedup_plain']:.2f}x plain, "
              f"{record['speedup_lightning_epoch']:.2f}x Lightning epoch")
    if args.ddp:
        record["ddp_vs_single"] = run_ddp_pair(args.data, Path(tempfile.mkdtemp(prefix="bench-ddp-")))
    if args.cv:
        out_dir = Path(args.cv_out) if args.cv_out else Path(tempfile.mkdtemp(prefix="bench-cv-"))
        record["cv_random_5fold"] = run_cv(args.data, out_dir, device, shlex.split(args.cv_args))
    write_result(record, args.out)
    return record


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning")
    main()
